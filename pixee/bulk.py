"""COPY … FROM STDIN for PostgreSQL bulk writes: a polars frame as CSV, or Python tuples."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import polars as pl


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
        copy.write(frame.write_csv(include_header=False))


def copy_rows(cursor, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
    """COPY Python ``rows`` (tuples in ``columns``' order) into ``table``."""
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with cursor.db.wrap_database_errors, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
