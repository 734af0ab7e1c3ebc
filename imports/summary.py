"""``error_summary``: a job's row failures grouped in one sentence a person can act on."""

from django.db.models import Count

from .choices import LogLevel
from .models import ImportLog

FIELD_LABELS = {"ean": "EAN", "": "reading", "image_url": "image URL", "sku": "SKU"}


def error_summary(job_id) -> str:
    """E.g. ``5 rows failed EAN validation, 2 rows failed price validation``; "" when none failed."""
    groups = (
        ImportLog.objects.filter(job_id=job_id, level=LogLevel.ERROR, row_number__isnull=False)
        .values("field")
        .annotate(rows=Count("row_number", distinct=True))
        .order_by("-rows", "field")
    )
    parts = []
    for group in groups:
        label = FIELD_LABELS.get(group["field"], group["field"])
        noun = "row" if group["rows"] == 1 else "rows"
        parts.append(f"{group['rows']} {noun} failed {label} validation")
    return ", ".join(parts)
