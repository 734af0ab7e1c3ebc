"""Bulk writes of a chunk's staged rows and logs: COPY on PostgreSQL, bulk_create elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

from django.db import connection

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
