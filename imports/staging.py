"""Bulk writes of a chunk's staged rows and logs: COPY on PostgreSQL, bulk_create elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

from django.db import OperationalError, connection, transaction

from catalog.upsert import PRODUCT_FIELDS

from .models import ImportLog, StagedRow

STAGED_COLUMNS = ("job_id", "row_number", "ean", *PRODUCT_FIELDS)
LOG_COLUMNS = ("job_id", "row_number", "level", "field", "message", "value", "timestamp")


_staged_values = itemgetter(*STAGED_COLUMNS[2:])


def staged_tuple(job_id, number: int, staged: dict[str, Any]) -> tuple:
    return (job_id, number, *_staged_values(staged))


def log_tuple(
    job_id, number: int | None, level: str, field: str, message: str, value: str, at: datetime
) -> tuple:
    return (job_id, number, level, field, message, value, at)


def write_staged(rows: Sequence[tuple]) -> None:
    if not rows:
        return
    if connection.vendor == "postgresql":
        _copy("imports_stagedrow", STAGED_COLUMNS, rows, json_column=STAGED_COLUMNS.index("attributes"))
    else:
        StagedRow.objects.bulk_create(
            [StagedRow(**dict(zip(STAGED_COLUMNS, r, strict=True))) for r in rows], batch_size=500
        )


def discard_staged(job_id) -> None:
    """Delete the job's staged rows.

    Deleting a million rows takes seconds and leaves as many dead rows for VACUUM to clean; when
    the job's rows are the only ones staged, TRUNCATE empties the table at once instead.
    """
    if connection.vendor == "postgresql" and _truncate_if_alone(job_id):
        return
    StagedRow.objects.filter(job_id=job_id).delete()


class _NotAlone(Exception):
    pass


def _truncate_if_alone(job_id) -> bool:
    try:
        # A savepoint: rolling it back (other rows, or the lock not free) releases the lock.
        with transaction.atomic(), connection.cursor() as cursor:
            # Never waits: a job staging or reading rows right now holds a lock, and then the
            # caller deletes instead. Once we hold it, no other job can stage rows until we commit.
            cursor.execute("LOCK TABLE imports_stagedrow IN ACCESS EXCLUSIVE MODE NOWAIT")
            cursor.execute(
                "SELECT 1 FROM imports_stagedrow WHERE job_id < %s OR job_id > %s LIMIT 1", [job_id, job_id]
            )
            if cursor.fetchone():
                raise _NotAlone()
            cursor.execute("TRUNCATE imports_stagedrow")
    except (_NotAlone, OperationalError):
        return False
    return True


def write_logs(rows: Sequence[tuple]) -> None:
    if not rows:
        return
    if connection.vendor == "postgresql":
        _copy("imports_importlog", LOG_COLUMNS, rows)
    else:
        ImportLog.objects.bulk_create(
            [ImportLog(**dict(zip(LOG_COLUMNS, r, strict=True))) for r in rows], batch_size=500
        )


def _copy(table: str, columns: Sequence[str], rows: Sequence[tuple], json_column: int | None = None) -> None:
    from psycopg.types.json import Jsonb

    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            if json_column is not None and row[json_column] is not None:
                row = (*row[:json_column], Jsonb(row[json_column]), *row[json_column + 1 :])
            copy.write_row(row)
