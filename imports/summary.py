"""``error_summary``: a job's row failures in one sentence a person can act on.

Rows first, then causes: ``125 rows failed: 96 EAN check digit invalid, 43 price unreadable
(14 rows had both)``. A cause is an error message without its particulars (what is in
parentheses: the row a duplicate repeats, a field's length), so that rows failing the same way
are counted together.
"""

from django.db.models import Case, CharField, Count, F, Value, When
from django.db.models.functions import StrIndex, Substr

from .choices import LogLevel
from .models import ImportLog

SHOWN_CAUSES = 5


def error_summary(job_id) -> str:
    """The sentence, or "" when no row failed."""
    errors = ImportLog.objects.filter(job_id=job_id, level=LogLevel.ERROR, row_number__isnull=False).annotate(
        cause=Case(
            When(message__contains=" (", then=Substr("message", 1, StrIndex("message", Value(" (")) - 1)),
            default=F("message"),
            output_field=CharField(),
        )
    )
    rows = errors.values("row_number").distinct().count()
    if not rows:
        return ""
    causes = list(
        errors.values("cause").annotate(rows=Count("row_number", distinct=True)).order_by("-rows", "cause")
    )
    parts = [f"{cause['rows']} {cause['cause']}" for cause in causes[:SHOWN_CAUSES]]
    if len(causes) > SHOWN_CAUSES:
        parts.append(f"{len(causes) - SHOWN_CAUSES} other causes")
    sentence = f"{rows} {'row' if rows == 1 else 'rows'} failed: {', '.join(parts)}"
    several = (
        errors.values("row_number")
        .annotate(causes=Count("cause", distinct=True))
        .filter(causes__gt=1)
        .count()
    )
    if several:
        had = "both" if len(causes) == 2 else "several"
        sentence += f" ({several} {'row' if several == 1 else 'rows'} had {had})"
    return sentence
