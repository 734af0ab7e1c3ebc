"""Bulk writes of a batch's row logs: COPY on PostgreSQL, bulk_create elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import connection

from pixee.bulk import copy_rows

from .columnar import LogEntry
from .models import ImportLog

LOG_COLUMNS = ("job_id", "row_number", "level", "field", "message", "value", "timestamp")


def write_logs(job_id, entries: Sequence[LogEntry], at: datetime) -> None:
    """Store ``entries`` (row number, level, field, message, value) as the job's logs."""
    if not entries:
        return
    if connection.vendor == "postgresql":
        job = str(job_id)  # as text: COPY sends text anyway, a UUID would go through its adapter
        with connection.cursor() as cursor:
            copy_rows(cursor, "imports_importlog", LOG_COLUMNS, ((job, *entry, at) for entry in entries))
    else:
        ImportLog.objects.bulk_create(
            [
                ImportLog(job_id=job_id, row_number=n, level=level, field=f, message=m, value=v, timestamp=at)
                for n, level, f, m, v in entries
            ],
            batch_size=500,
        )
