"""The ceiling: PostgreSQL's own COPY of the same CSV into a table with a unique index.

No import can beat it on the same database: it parses nothing in Python, validates nothing and
writes each row once. Our figures are reported as ratios to it, measured in the same run, so the
machine's speed and its load at the time largely cancel out.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import psycopg

TABLE = "bench_ceiling"
_BLOCK = 1 << 20


def checkpoint(conn: psycopg.Connection) -> None:
    """Flush dirty pages before a measurement, so none inherits the previous one's write-back."""
    # Needs superuser or pg_checkpoint: without it, the measurement is only noisier.
    with contextlib.suppress(psycopg.errors.InsufficientPrivilege):
        conn.execute("CHECKPOINT")


def copy_seconds(conninfo: str, csv_path: Path) -> tuple[float, int]:
    """Wall time of one COPY of ``csv_path`` (header skipped) and the rows it loaded."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        conn.execute(
            f"""CREATE TABLE {TABLE} (
                    ean varchar(13) NOT NULL UNIQUE,
                    name varchar(500) NOT NULL,
                    price numeric(12, 2),
                    brand varchar(255) NOT NULL,
                    category varchar(500) NOT NULL,
                    stock integer
                )"""
        )
        checkpoint(conn)
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy(f"COPY {TABLE} FROM STDIN (FORMAT csv, HEADER true)") as copy,
            csv_path.open("rb") as source,
        ):
            while block := source.read(_BLOCK):
                copy.write(block)
        seconds = time.perf_counter() - started
        rows = conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0]
        conn.execute(f"DROP TABLE {TABLE}")
    return seconds, rows
