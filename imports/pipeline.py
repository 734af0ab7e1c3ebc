"""The row pipeline: analysis (read, map, validate, stage) then processing (upsert by chunks).

Every chunk is one transaction that also advances the job's checkpoint and counters, on the
condition that the job is still in the phase and still held by this run. So a pause or cancel
takes effect within one chunk (the chunk in flight rolls back), and a run that died can be
re-run from the checkpoint without counting or logging anything twice.
"""

from __future__ import annotations

import gc
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from itertools import islice
from typing import TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from catalog.upsert import UpsertCounts, product_writer

from . import state
from .choices import ImportStatus, LogLevel
from .formats import FormatError, reader_for
from .models import ImportJob, ImportLog, StagedRow
from .staging import discard_staged, log_tuple, staged_tuple, write_logs, write_staged
from .summary import error_summary
from .validation import RowResult, RowValidator

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[ImportJob], None]
T = TypeVar("T")


class CriticalError(Exception):
    """The whole job must fail; the message is its ``error_summary``."""


class JobStopped(Exception):
    """The job left this phase (paused, cancelled) or another run took it over."""


def run(job_id, *, on_progress: ProgressCallback | None = None) -> None:
    """Advance the job as far as it goes: analysis, then processing unless it is a dry run."""
    while (lease := _claim(job_id)) is not None:
        try:
            _advance(job_id, lease, on_progress)
            return
        except JobStopped:
            logger.info("import %s left its phase (paused or cancelled)", job_id)
        except (CriticalError, FormatError) as exc:
            fail(job_id, str(exc))
            return
        except Exception:
            logger.exception("import %s crashed", job_id)
            fail(job_id, "The import stopped on an internal error; the details are in the server log.")
            return
        finally:
            ImportJob.objects.filter(pk=job_id, lease_token=lease).update(lease_token=None)
        # A resume may have arrived while this run was stopping, and found the job still leased:
        # the claim at the top of the loop picks the job up again in that case.


def _advance(job_id, lease, on_progress: ProgressCallback | None) -> None:
    job = ImportJob.objects.get(pk=job_id)
    if job.attempts > settings.PIXEE_JOB_MAX_ATTEMPTS:
        raise CriticalError(
            f"The import was abandoned after {job.attempts - 1} attempts that each stopped "
            f"without progress (last checkpoint: row {job.checkpoint_row})."
        )
    if job.status == ImportStatus.PENDING:
        _start_analysis(job, lease)
    if job.status == ImportStatus.ANALYZING:
        _analyze(job, lease, on_progress)
    if job.status == ImportStatus.PROCESSING:
        _process(job, lease, on_progress)


def fail(job_id, message: str) -> bool:
    """Fail the job with ``message`` as its summary, discarding its staged rows."""
    with transaction.atomic():
        if not state.transition(
            job_id, "fail", raise_conflict=False, error_summary=message, lease_token=None
        ):
            return False
        discard_staged(job_id)
        milestone(job_id, f"Import failed: {message}", level=LogLevel.ERROR)
    return True


def milestone(job_id, message: str, *, level: str = LogLevel.INFO) -> None:
    ImportLog.objects.create(job_id=job_id, level=level, message=message, timestamp=timezone.now())


# --- leases -----------------------------------------------------------------------------------


def _claim(job_id) -> uuid.UUID | None:
    """Take the job for this run, unless a live run holds it; counts the attempt."""
    token = uuid.uuid4()
    now = timezone.now()
    stale = now - timedelta(seconds=settings.PIXEE_JOB_HEARTBEAT_TIMEOUT)
    claimed = (
        ImportJob.objects.filter(pk=job_id, status__in=state.RUNNING)
        .filter(Q(lease_token__isnull=True) | Q(heartbeat_at__lt=stale))
        .update(lease_token=token, heartbeat_at=now, attempts=F("attempts") + 1)
    )
    return token if claimed else None


def _checkpoint(job: ImportJob, lease, phase: str, **fields) -> None:
    """Commit progress for the chunk in flight, or raise JobStopped so it rolls back."""
    fields.update(heartbeat_at=timezone.now(), attempts=0)
    if not ImportJob.objects.filter(pk=job.pk, status=phase, lease_token=lease).update(**fields):
        raise JobStopped()


def _refresh(job: ImportJob, on_progress: ProgressCallback | None) -> None:
    job.refresh_from_db()
    if on_progress:
        on_progress(job)


# --- analysis ---------------------------------------------------------------------------------


def _start_analysis(job: ImportJob, lease) -> None:
    with transaction.atomic():
        if not state.transition(job.pk, "start_analysis", raise_conflict=False, started_at=timezone.now()):
            raise JobStopped()
        milestone(job.pk, f"Analysis started: {job.file_name} ({job.file_type}, {job.file_size} bytes).")
    job.refresh_from_db()


def _analyze(job: ImportJob, lease, on_progress: ProgressCallback | None) -> None:
    with job.file.open("rb") as fileobj:
        reader = reader_for(job.file_type)(fileobj, size=job.file_size or None)
        columns = reader.columns()
        from .services import import_job_plan_mapping  # services imports this module

        mapper, mapping = import_job_plan_mapping(job=job, columns=columns)
        if "ean" not in mapping.values():
            raise CriticalError(
                "No column maps to ean. The file's columns are: "
                f"{', '.join(columns) or '(none)'}. Name the EAN column EAN, GTIN or Code barre, "
                'or send a mapping such as {"<column>": "ean"}.'
            )
        validator = RowValidator(mapper)
        resume_after = job.checkpoint_row
        # Each raw row is validated as it is read and dropped: a chunk holds only the results.
        results = (validator.validate(raw) for raw in reader.rows() if raw.number > resume_after)
        chunks = (
            (chunk, reader.fraction_read()) for chunk in _chunks(results, settings.PIXEE_IMPORT_CHUNK_SIZE)
        )
        with _collector_paused(), _read_ahead(chunks) as validated:
            for chunk, fraction in validated:
                _commit_analysis_chunk(job, lease, chunk, fraction)
                del chunk  # written: the collection below then has less to traverse
                _refresh(job, on_progress)
                gc.collect(1)  # the young generations only: cycles never pile up
    _finish_analysis(job, lease)
    _refresh(job, on_progress)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause CPython's automatic cyclic garbage collection; the caller collects between chunks.

    Validating a chunk allocates millions of short-lived objects that reference counting frees.
    The automatic collector, run every 700 allocations, kept traversing the chunk in flight and,
    once it had promoted it, the worker's long-lived objects too: a third of the analysis time.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def _read_ahead(items: Iterator[T]) -> Iterator[Iterator[T]]:
    """``items``, each one produced by a background thread while the caller handles the previous.

    The analysis alternates pure Python work (reading and validating a chunk) and waits on the
    database (COPY, commit); this overlaps the two. The background thread never touches the
    database. Leaving the block waits for the item being produced, if any.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-read-ahead") as executor:

        def ahead() -> Iterator[T]:
            pending = executor.submit(next, items, None)
            while (item := pending.result()) is not None:
                pending = executor.submit(next, items, None)
                yield item

        yield ahead()


def _chunks(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _commit_analysis_chunk(job: ImportJob, lease, results: list[RowResult], fraction: float | None) -> None:
    now = timezone.now()
    # As text: COPY sends text anyway, and a UUID would go through its adapter once per row.
    job_id = str(job.pk)
    staged, logs = [], []
    for result in results:
        if result.staged is not None:
            staged.append(staged_tuple(job_id, result.number, result.staged))
        for issue in result.errors:
            logs.append(
                log_tuple(job_id, result.number, LogLevel.ERROR, issue.field, issue.message, issue.value, now)
            )
        for issue in result.warnings:
            logs.append(
                log_tuple(
                    job_id, result.number, LogLevel.WARNING, issue.field, issue.message, issue.value, now
                )
            )
    failed = len(results) - len(staged)
    with transaction.atomic():
        write_staged(staged)
        write_logs(logs)
        _checkpoint(
            job,
            lease,
            ImportStatus.ANALYZING,
            checkpoint_row=results[-1].number,
            analyzed_rows=F("analyzed_rows") + len(results),
            staged_rows=F("staged_rows") + len(staged),
            failed_rows=F("failed_rows") + failed,
            analyzed_fraction=fraction if fraction is not None else F("analyzed_fraction"),
        )


def _finish_analysis(job: ImportJob, lease) -> None:
    """Checks that need the whole file, then ``ready`` (dry run) or ``processing``.

    Re-running it after a crash is harmless: rejected rows are no longer staged.
    """
    with transaction.atomic():
        now = timezone.now()
        rejected = _reject_duplicates(job, now) + _reject_nameless_new(job, now)
        _checkpoint(
            job,
            lease,
            ImportStatus.ANALYZING,
            total_rows=F("analyzed_rows"),
            failed_rows=F("failed_rows") + rejected,
            staged_rows=F("staged_rows") - rejected,
            analyzed_fraction=1.0,
        )
    job.refresh_from_db()
    summary = error_summary(job.pk)
    if job.max_errors is not None and job.failed_rows > job.max_errors:
        raise CriticalError(
            f"{job.failed_rows} rows are invalid, more than max_errors ({job.max_errors}); "
            f"nothing was imported. {summary}."
        )
    with transaction.atomic():
        _checkpoint(job, lease, ImportStatus.ANALYZING)
        if job.dry_run:
            counts = classify_staged(job)
            state.transition(
                job.pk,
                "finish_dry_run",
                error_summary=summary,
                products_created=counts.created,
                products_updated=counts.updated,
                products_unchanged=counts.unchanged,
            )
            milestone(
                job.pk,
                f"Dry run ready: {job.total_rows} rows, {job.failed_rows} failed; confirming would create "
                f"{counts.created}, update {counts.updated} and leave {counts.unchanged} unchanged.",
            )
        else:
            state.transition(
                job.pk,
                "start_processing",
                checkpoint_row=0,
                processed_rows=job.failed_rows,
                error_summary=summary,
            )
            milestone(
                job.pk,
                f"Analysis finished: {job.total_rows} rows, {job.failed_rows} failed; processing started.",
            )


def _reject_duplicates(job: ImportJob, now) -> int:
    """Later rows repeating an EAN fail; the first occurrence wins (CONTRACT §3)."""
    # Grouped by the EAN as a number: staged EANs are always 13 ASCII digits, so the cast is
    # one-to-one, and sorting a million integers costs half as much as sorting them as text.
    duplicates = """
        SELECT s.row_number, s.ean, d.first_row
        FROM imports_stagedrow AS s JOIN (
            SELECT CAST(ean AS bigint) AS number, min(row_number) AS first_row
            FROM imports_stagedrow WHERE job_id = %s
            GROUP BY 1 HAVING count(*) > 1
        ) AS d ON CAST(s.ean AS bigint) = d.number
        WHERE s.job_id = %s AND s.row_number > d.first_row
    """
    return _reject(
        job, now, duplicates, "ean", "'duplicate EAN in file (first seen at row ' || first_row || ')'", "ean"
    )


def _reject_nameless_new(job: ImportJob, now) -> int:
    """A row without a name can update a product but cannot create one."""
    nameless = """
        SELECT row_number, ean FROM imports_stagedrow AS s
        WHERE s.job_id = %s AND (s.name IS NULL OR s.name = '')
          AND NOT EXISTS (SELECT 1 FROM catalog_product AS p WHERE p.ean = s.ean)
    """
    return _reject(job, now, nameless, "name", "'name missing (required to create a new product)'", "''")


def _reject(job: ImportJob, now, selection: str, field: str, message_sql: str, value_sql: str) -> int:
    """Log an error for each staged row ``selection`` picks, then unstage those rows."""
    job_id = _db_uuid(job.pk)
    selection_params = [job_id] * selection.count("%s")  # every parameter of a selection is the job
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO imports_importlog (job_id, row_number, level, field, message, value, timestamp)
                SELECT %s, row_number, %s, %s, {message_sql}, {value_sql}, %s FROM ({selection}) AS bad""",
            [job_id, LogLevel.ERROR, field, now, *selection_params],
        )
        rejected = cursor.rowcount
        if rejected:
            cursor.execute(
                f"""DELETE FROM imports_stagedrow WHERE job_id = %s
                    AND row_number IN (SELECT row_number FROM ({selection}) AS bad)""",
                [job_id, *selection_params],
            )
    return rejected


def _db_uuid(value: uuid.UUID):
    # SQLite stores Django UUIDs as 32 hex characters; PostgreSQL has a uuid type.
    return value if connection.vendor == "postgresql" else value.hex


def classify_staged(job: ImportJob) -> UpsertCounts:
    """What processing the job's staged rows would do to the catalog as it is now."""
    writer = product_writer()
    total = UpsertCounts()
    for _, rows in _staged_chunks(job, after=0):
        total += writer.classify(rows, supplier_code=job.supplier_code)
    return total


# --- processing -------------------------------------------------------------------------------


def _staged_chunks(job: ImportJob, *, after: int) -> Iterator[tuple[int, QuerySet]]:
    """(last row number, queryset) of each chunk of staged rows, in file order, after row ``after``."""
    staged = StagedRow.objects.filter(job_id=job.pk)
    for last in _chunk_ends(job, after=after, size=settings.PIXEE_IMPORT_CHUNK_SIZE):
        yield last, staged.filter(row_number__gt=after, row_number__lte=last)
        after = last


def _chunk_ends(job: ImportJob, *, after: int, size: int) -> list[int]:
    """The row number ending each chunk of ``size`` staged rows after ``after``: one index scan.

    Finding each end with ``ORDER BY row_number OFFSET size - 1`` instead made PostgreSQL, whose
    statistics do not know yet that the job just staged a million rows, sort all the remaining
    rows for every chunk: quadratic. The list holds one number per chunk.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT row_number FROM (
                   SELECT row_number, ROW_NUMBER() OVER (ORDER BY row_number) AS position
                   FROM imports_stagedrow WHERE job_id = %s AND row_number > %s
               ) AS numbered WHERE position %% %s = 0 ORDER BY row_number""",
            [_db_uuid(job.pk), after, size],
        )
        ends = [end for (end,) in cursor.fetchall()]
        cursor.execute(
            "SELECT max(row_number) FROM imports_stagedrow WHERE job_id = %s AND row_number > %s",
            [_db_uuid(job.pk), ends[-1] if ends else after],
        )
        (last,) = cursor.fetchone()
    return ends if last is None else [*ends, last]


def _process(job: ImportJob, lease, on_progress: ProgressCallback | None) -> None:
    writer = product_writer()
    mostly_unchanged = False
    for last, rows in _staged_chunks(job, after=job.checkpoint_row):
        with transaction.atomic():
            counts = writer.upsert(rows, supplier_code=job.supplier_code, mostly_unchanged=mostly_unchanged)
            _checkpoint(
                job,
                lease,
                ImportStatus.PROCESSING,
                checkpoint_row=last,
                processed_rows=F("processed_rows") + counts.created + counts.updated + counts.unchanged,
                products_created=F("products_created") + counts.created,
                products_updated=F("products_updated") + counts.updated,
                products_unchanged=F("products_unchanged") + counts.unchanged,
            )
        # A file is mostly new products (a first load) or mostly known ones (a re-import): the
        # next chunk likely looks like this one, and the writer picks its faster way for it.
        mostly_unchanged = counts.unchanged * 2 > counts.created + counts.updated + counts.unchanged
        _refresh(job, on_progress)
    with transaction.atomic():
        job.refresh_from_db()
        if not state.transition(job.pk, "complete", raise_conflict=False, lease_token=None):
            raise JobStopped()
        discard_staged(job.pk)
        milestone(
            job.pk,
            f"Import completed: {job.products_created} created, {job.products_updated} updated, "
            f"{job.products_unchanged} unchanged, {job.failed_rows} failed.",
        )
    _refresh(job, on_progress)
