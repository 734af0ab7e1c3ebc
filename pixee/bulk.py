"""Bulk writes: a chunk's transaction, and PostgreSQL's COPY … FROM STDIN of a polars frame
(as CSV) or of Python tuples."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import polars as pl
from django.db import connection, transaction

_COPY_SLICE_ROWS = 2_000


@contextmanager
def chunk_transaction() -> Iterator[None]:
    """One chunk of an import or a revert, with its checkpoint: committed without waiting for
    the disk on PostgreSQL.

    A commit otherwise waits for its write-ahead log to reach the disk: 30 ms for a chunk of
    20,000 products, a tenth of a first load's time. Without the wait, a crash of PostgreSQL
    itself (not of the worker) may lose the last chunks committed, each whole with its
    checkpoint, so the job's next run writes them again; nothing is half-written. A job's
    final transition commits normally, which waits for every chunk's log before it.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        yield


def copy_csv(cursor, table: str, frame: pl.DataFrame, *, not_null: Sequence[str] = ()) -> None:
    """COPY ``frame`` (its columns named as ``table``'s) into ``table``.

    polars writes the whole frame as CSV at once, where building one Python tuple per row cost
    more than the COPY itself. A null is an unquoted empty field, which PostgreSQL reads as NULL
    except in the ``not_null`` columns, where it is the empty string.
    """
    if frame.is_empty():
        return
    options = "FORMAT csv"
    if not_null:
        options += f", FORCE_NOT_NULL ({', '.join(not_null)})"
    sql = f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN ({options})"
    # psycopg's own cursor, for COPY: its errors become Django's (IntegrityError…) as the callers expect.
    with cursor.db.wrap_database_errors, cursor.cursor.copy(sql) as copy:
        # By slices: PostgreSQL parses and writes each one while polars writes the next.
        for offset in range(0, frame.height, _COPY_SLICE_ROWS):
            copy.write(frame.slice(offset, _COPY_SLICE_ROWS).write_csv(include_header=False))


def copy_rows(cursor, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
    """COPY Python ``rows`` (tuples in ``columns``' order) into ``table``."""
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with cursor.db.wrap_database_errors, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
