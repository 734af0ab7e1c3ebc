"""Bulk writes: a chunk's transaction, and PostgreSQL's COPY … FROM STDIN of a polars frame
(as CSV) or of Python tuples."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from typing import TypeVar

import polars as pl
from django.conf import settings
from django.db import OperationalError, connection, connections, transaction

T = TypeVar("T")
# A chunk's work, given the call that waits for the chunks before it to commit (``in_turn``).
ChunkWork = Callable[[Callable[[], None]], T]

_COPY_SLICE_ROWS = 2_000


@contextmanager
def chunk_transaction(*, lock_timeout_ms: int | None = None) -> Iterator[None]:
    """One chunk of an import or a revert, with its checkpoint: committed without waiting for
    the disk on PostgreSQL.

    A commit otherwise waits for its write-ahead log to reach the disk: 30 ms for a chunk of
    20,000 products, a tenth of a first load's time. Without the wait, a crash of PostgreSQL
    itself (not of the worker) may lose the last chunks committed, each whole with its
    checkpoint, so the job's next run writes them again; nothing is half-written. A job's
    final transition commits normally, which waits for every chunk's log before it.
    ``lock_timeout_ms`` bounds each wait for a lock (``WriteConflict`` past it).
    """
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit = off")
                    if lock_timeout_ms is not None:
                        cursor.execute(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}")
            yield
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
            raise WriteConflict() from exc
        raise


class WriteConflict(Exception):
    """A chunk waited longer than its lock timeout for rows another transaction holds."""


_LOCK_NOT_AVAILABLE = "55P03"
# How long a chunk written beside others waits for a lock. Its wait for the chunk before it is
# invisible to PostgreSQL's deadlock detector: two jobs writing the same products, each two
# chunks at once, could wait for each other forever (each chunk holds its rows until its turn).
# A chunk of another job holds its rows for well under a second; past this, the caller gives up
# and writes one chunk at a time, which waits only where PostgreSQL sees it.
PARALLEL_LOCK_TIMEOUT_MS = 10_000


def write_connections() -> int:
    """How many database connections a job writes its chunks on at once.

    PostgreSQL runs each connection's statements on a core of its own: two COPYs of half a
    million products each took 5.0 s together where one of the million took 7.2 s (2 cores).
    A caller inside a transaction (a test) has every write join it, hence one connection then.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return 1
    return max(settings.PIXEE_IMPORT_WRITE_CONNECTIONS, 1)


@contextmanager
def chunks_in_order(lanes: int) -> Iterator[Callable[[ChunkWork[T]], Future[T]]]:
    """``submit(work)``: run ``work(in_turn)`` in a ``chunk_transaction`` on one of ``lanes``
    connections, this thread's or a helper thread's own, while the others run the chunks
    submitted before it.

    Each chunk ends with its checkpoint, and checkpoints must be committed in file order (a
    resume starts after the last one): ``work`` calls ``in_turn()`` before it touches the job,
    which waits for the chunks before it to commit, and raises (so this chunk rolls back too) if
    one of them failed. With more than one lane a chunk's lock waits are bounded
    (``PARALLEL_LOCK_TIMEOUT_MS``, then ``WriteConflict``). This thread's chunks run inside
    ``submit``; a helper's chunk reports through its future. Leaving waits for every chunk.
    """
    lock_timeout_ms = PARALLEL_LOCK_TIMEOUT_MS if lanes > 1 else None

    def in_transaction(work: ChunkWork[T], in_turn: Callable[[], None]) -> T:
        with chunk_transaction(lock_timeout_ms=lock_timeout_ms):
            return work(in_turn)

    helpers = [ThreadPoolExecutor(max_workers=1, thread_name_prefix="chunk-writer") for _ in range(lanes - 1)]
    for helper in helpers:
        # Connected while this thread writes the first chunk, so the helper's first chunk does
        # not start by connecting.
        helper.submit(_connect)
    previous: Future | None = None
    submitted = 0

    def submit(work: ChunkWork[T]) -> Future[T]:
        nonlocal previous, submitted
        before = previous

        def in_turn() -> None:
            if before is not None:
                before.result()

        lane, submitted = submitted % lanes, submitted + 1
        if lane:
            future = previous = helpers[lane - 1].submit(in_transaction, work, in_turn)
            return future
        future = previous = Future()
        try:
            future.set_result(in_transaction(work, in_turn))
        except BaseException as exc:
            future.set_exception(exc)
            raise
        return future

    with ExitStack() as stack:
        for helper in helpers:
            stack.callback(helper.shutdown)
            stack.callback(_close_connections_of, helper)
        yield submit
        if previous is not None:
            previous.result()


def _connect() -> None:
    connection.ensure_connection()


def _close_connections_of(helper: ThreadPoolExecutor) -> None:
    # Run in the helper's own thread, after its chunks: its connections are its own to close.
    helper.submit(connections.close_all).result()


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
