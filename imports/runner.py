"""The job runner: analysis (read, map, validate, log) then processing (write by batches).

Every chunk is one transaction that also advances the job's checkpoint and counters, on the
condition that the job is still in the phase and still held by this run. So a pause or cancel
takes effect within one chunk (the chunk in flight rolls back), and a run that died can be
re-run from the checkpoint without counting or logging anything twice.
"""

from __future__ import annotations

import gc
import logging
import uuid
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager, nullcontext, suppress
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from itertools import islice
from typing import TypeVar

import polars as pl
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from catalog.models import Product
from catalog.upsert import Expected, ProductWriter, UpsertCounts, lookups_by_ean_index, product_writer
from pixee.bulk import WriteConflict, chunk_transaction, chunks_in_order, write_connections

from . import spill, state
from .choices import FailureKind, ImportStatus, LogLevel, OnInvalidValue
from .columnar import BatchValidator, CheckedBatch, FileChecks
from .formats import FormatError, SafetyLimitError, reader_for
from .logs import write_logs
from .mapping import SAMPLE_ROWS, MappingPlan, plan_mapping
from .models import ImportJob, ImportLog
from .summary import error_summary

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
            # Remembered so that nothing reads a file that broke a safety limit again.
            kind = FailureKind.SAFETY_LIMIT if isinstance(exc, SafetyLimitError) else ""
            fail(job_id, str(exc), failure_kind=kind)
            return
        except Exception:
            logger.exception("import %s crashed", job_id)
            fail(job_id, "The import stopped on an internal error; the details are in the server log.")
            return
        finally:
            ImportJob.objects.filter(pk=job_id, lease_token=lease).update(lease_token=None)
            _sweep_spills()
        # A resume may have arrived while this run was stopping, and found the job still leased:
        # the claim at the top of the loop picks the job up again in that case.


def _sweep_spills() -> None:
    """This machine's spills of jobs that can no longer use them, or kept longer than allowed.

    Spills live on each worker's disk, so each worker sweeps its own, as it finishes a run.
    """
    spill.sweep(settings.PIXEE_SPILL_MAX_AGE_HOURS * 3600, _jobs_still_running)


def _jobs_still_running(job_ids: list[str]) -> set[str]:
    running = ImportJob.objects.filter(pk__in=_uuids(job_ids)).exclude(status__in=state.FINISHED)
    return {str(pk) for pk in running.values_list("pk", flat=True)}


def _uuids(names: list[str]) -> list[uuid.UUID]:
    uuids = []
    for name in names:
        with suppress(ValueError):  # not a job's folder: swept
            uuids.append(uuid.UUID(name))
    return uuids


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


def fail(job_id, message: str, *, failure_kind: str = "") -> bool:
    """Fail the job with ``message`` as its summary (and ``failure_kind`` when its cause matters)."""
    with transaction.atomic():
        if not state.transition(
            job_id,
            "fail",
            raise_conflict=False,
            error_summary=message,
            failure_kind=failure_kind,
            lease_token=None,
        ):
            return False
        milestone(job_id, f"Import failed: {message}", level=LogLevel.ERROR)
    spill.discard(job_id)  # only once failed: a job that could not be failed may still use it
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
    """The job as committed (the next phase reads its status), told to ``on_progress``."""
    job.refresh_from_db()
    if on_progress:
        on_progress(job)


def _report_chunk(job: ImportJob, on_progress: ProgressCallback | None) -> None:
    """After a chunk: only ``on_progress`` reads the job between chunks (their counters change
    by F() expressions), so without one it is not read again (a query per chunk saved)."""
    if on_progress:
        _refresh(job, on_progress)


# --- analysis ---------------------------------------------------------------------------------


def _start_analysis(job: ImportJob, lease) -> None:
    with transaction.atomic():
        if not state.transition(job.pk, "start_analysis", raise_conflict=False, started_at=timezone.now()):
            raise JobStopped()
        milestone(job.pk, f"Analysis started: {job.file_name} ({job.file_type}, {job.file_size} bytes).")
    job.refresh_from_db()


def _analyze(job: ImportJob, lease, on_progress: ProgressCallback | None) -> None:
    """Pass 1: read and validate the whole file, log every row's issues, count; write nothing
    to the catalog (CONTRACT §3). A dry run also learns what confirming would do."""
    writer = product_writer() if job.dry_run else None
    resume_after = job.checkpoint_row
    file_checks = FileChecks(known_eans)
    spill_writer = spill.SpillWriter(job.pk, lease) if settings.PIXEE_IMPORT_SPILL else None
    with (
        _open_batches(job, save_mapping=True) as batches,
        _collector_paused(),
        _read_ahead(batches) as checked,
    ):
        for batch in checked:
            # Re-run from the start after a crash: the duplicate check needs every earlier row,
            # but what an earlier run committed (up to the checkpoint) is not logged again.
            batch = file_checks.apply(batch)
            if spill_writer is not None:
                spill_writer.add(batch.valid, batch.last_number)
            if batch.last_number > resume_after:
                _commit_analysis_batch(job, lease, batch.after(resume_after), writer)
                _report_chunk(job, on_progress)
            del batch
            gc.collect(1)  # the young generations only: cycles never pile up
    _finish_analysis(job, lease, spill_writer.seal() if spill_writer is not None else None)
    _refresh(job, on_progress)


@contextmanager
def _open_batches(job: ImportJob, *, save_mapping: bool = False, after: int = 0):
    """The job's stored file as validated batches (those with rows after row ``after``).

    A file in which no column maps to ean fails the job; ``save_mapping`` records the resolved
    mapping on it (the analysis does, the processing reads the same file the same way).
    """
    with job.file.open("rb") as fileobj:
        reader = reader_for(job.file_type)(fileobj, size=job.file_size or None)
        columns = reader.columns()
        plan = job_mapping_plan(job, columns)
        mapping = plan.mapper.resolve(columns)
        if "ean" not in mapping.values():
            raise CriticalError(
                "No column maps to ean. The file's columns are: "
                f"{', '.join(columns) or '(none)'}. Name the EAN column EAN, GTIN or Code barre, "
                'or send a mapping such as {"<column>": "ean"}.'
            )
        if save_mapping:
            sources = {column: plan.sources[column] for column in mapping if column in plan.sources}
            ImportJob.objects.filter(pk=job.pk).update(mapping=mapping, mapping_sources=sources)
            for note in plan.notes:
                milestone(job.pk, note)
            for warning in plan.warnings:
                milestone(job.pk, warning, level=LogLevel.WARNING)
        validator = BatchValidator(plan.mapper)
        yield _checked_batches(reader, validator, after)


def job_mapping_plan(job: ImportJob, columns: list[str]) -> MappingPlan:
    """The job's mapping from its explicit mapping, its supplier's, synonyms and its first rows'
    values: the same for the analysis, the processing, the preview and the changes."""
    # A handle of its own: the caller's reader is reading the first one.
    with job.file.storage.open(str(job.file.name), "rb") as fileobj:
        reader = reader_for(job.file_type).for_first_rows(fileobj, size=job.file_size or None)
        sample = [raw.values for raw in islice(reader.rows(), SAMPLE_ROWS)]
    plan = plan_mapping(columns, sample, explicit=job.requested_mapping, supplier=job.supplier_mapping)
    plan.mapper.skip_invalid_values = job.on_invalid_value == OnInvalidValue.SKIP_VALUE
    return plan


def _checked_batches(reader, validator: BatchValidator, after: int) -> Iterator[CheckedBatch]:
    for batch in reader.batches(settings.PIXEE_IMPORT_CHUNK_SIZE):
        if batch.numbers[-1] <= after:
            # Written already: not validated again, but its columns are mapped in the order the
            # analysis met them (a JSON record may bring a column that a synonym then takes).
            validator.map_columns(batch)
            continue
        yield validator.check(batch)


def known_eans(eans: list[str]) -> set[str]:
    """Which of ``eans`` the catalog holds now."""
    known: set[str] = set()
    with lookups_by_ean_index():
        for start in range(0, len(eans), 10_000):  # SQLite caps a statement's parameters
            among = Product.objects.filter(ean__in=eans[start : start + 10_000]).order_by()
            known.update(among.values_list("ean", flat=True))
    return known


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


def _commit_analysis_batch(job: ImportJob, lease, batch: CheckedBatch, writer: ProductWriter | None) -> None:
    now = timezone.now()
    counts = UpsertCounts()
    with chunk_transaction():
        write_logs(job.pk, batch.logs, now)
        if writer is not None:
            counts = writer.classify(batch.valid, supplier_code=job.supplier_code)
        _checkpoint(
            job,
            lease,
            ImportStatus.ANALYZING,
            checkpoint_row=batch.last_number,
            analyzed_rows=F("analyzed_rows") + batch.rows,
            failed_rows=F("failed_rows") + batch.failed,
            products_created=F("products_created") + counts.created,
            products_updated=F("products_updated") + counts.updated,
            products_unchanged=F("products_unchanged") + counts.unchanged,
            analyzed_fraction=batch.fraction if batch.fraction is not None else F("analyzed_fraction"),
        )


def _finish_analysis(job: ImportJob, lease, spilled: uuid.UUID | None) -> None:
    """``ready`` (dry run) or ``processing``, unless the file has too many invalid rows.

    ``spilled`` names the spill of this run's valid rows, if it kept one (imports/spill.py).
    """
    with transaction.atomic():
        _checkpoint(
            job,
            lease,
            ImportStatus.ANALYZING,
            total_rows=F("analyzed_rows"),
            analyzed_fraction=1.0,
            analysis_spill=spilled,
        )
    job.refresh_from_db()
    summary = error_summary(job.pk)
    _check_max_errors(job, summary)
    with transaction.atomic():
        _checkpoint(job, lease, ImportStatus.ANALYZING)
        if job.dry_run:
            _finish_dry_run(job, summary)
        else:
            _start_processing(job, summary)


def _check_max_errors(job: ImportJob, summary: str) -> None:
    """Fail the job, having written nothing, when more rows are invalid than it accepts."""
    if job.max_errors is not None and job.failed_rows > job.max_errors:
        raise CriticalError(
            f"{job.failed_rows} rows are invalid, more than max_errors ({job.max_errors}); "
            f"nothing was imported. {summary}."
        )


def _finish_dry_run(job: ImportJob, summary: str) -> None:
    state.transition(job.pk, "finish_dry_run", error_summary=summary)
    milestone(
        job.pk,
        f"Dry run ready: {job.total_rows} rows, {job.failed_rows} failed; confirming would create "
        f"{job.products_created}, update {job.products_updated} and leave "
        f"{job.products_unchanged} unchanged.",
    )


def _start_processing(job: ImportJob, summary: str) -> None:
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


# --- processing -------------------------------------------------------------------------------


def _process(job: ImportJob, lease, on_progress: ProgressCallback | None) -> None:
    """Pass 2: write each batch's valid rows with its checkpoint.

    The rows come from the analysis' spill when this machine has it, else from the file read
    again; a row number at or below the checkpoint was written by an earlier run.
    """
    lanes = write_connections()
    try:
        _write_batches(job, lease, on_progress, lanes)
    except WriteConflict:
        if lanes == 1:
            raise
        milestone(
            job.pk,
            "Another import was writing some of the same products at the same time: the rest of "
            "this one is written one batch at a time.",
        )
        job.refresh_from_db()
        _write_batches(job, lease, on_progress, lanes=1)
    with transaction.atomic():
        job.refresh_from_db()
        if not state.transition(job.pk, "complete", raise_conflict=False, lease_token=None):
            raise JobStopped()
        milestone(
            job.pk,
            f"Import completed: {job.products_created} created, {job.products_updated} updated, "
            f"{job.products_unchanged} unchanged, {job.failed_rows} failed.",
        )
    spill.discard(job.pk)
    _refresh(job, on_progress)


def _write_batches(job: ImportJob, lease, on_progress: ProgressCallback | None, lanes: int) -> None:
    """The batches after the job's checkpoint, written on ``lanes`` connections at once."""
    writer = product_writer()
    expected = Expected.UNKNOWN
    done = job.checkpoint_row
    in_flight: deque[Future[UpsertCounts]] = deque()
    with (
        closing(_rows_to_write(job, after=done)) as batches,
        _collector_paused(),
        # With a helper writing, this thread reads the next batch meanwhile: a thread reading
        # ahead too would hold one batch more (a batch of long rows costs ~10 MiB).
        _read_ahead(batches) if lanes == 1 else nullcontext(batches) as ready,
        chunks_in_order(lanes) as submit,
    ):
        for batch in ready:
            rows = batch.valid.filter(pl.col("row_number") > done)
            if not batch.screened:
                rows = rows.filter(~pl.col("row_number").is_in(_rejected_rows(job, rows).implode()))
            in_flight.append(
                submit(partial(_write_chunk, job, lease, writer, rows, batch.last_number, expected))
            )
            while in_flight and in_flight[0].done():
                # The guess for the next chunk from the last one written (only speed depends on it).
                expected = Expected.after(in_flight.popleft().result())
                _report_chunk(job, on_progress)
            del batch, rows
            gc.collect(1)


def _write_chunk(
    job: ImportJob,
    lease,
    writer: ProductWriter,
    rows: pl.DataFrame,
    last_number: int,
    expected: Expected,
    in_turn: Callable[[], None],
) -> UpsertCounts:
    """Write one batch's ``rows`` with its checkpoint (in the chunk's transaction, ``chunks_in_order``)."""
    counts = writer.upsert(rows, supplier_code=job.supplier_code, job_id=job.pk, expected=expected)
    in_turn()  # the chunks before this one are committed: its checkpoint comes after theirs
    _checkpoint(
        job,
        lease,
        ImportStatus.PROCESSING,
        checkpoint_row=last_number,
        processed_rows=F("processed_rows") + counts.created + counts.updated + counts.unchanged,
        products_created=F("products_created") + counts.created,
        products_updated=F("products_updated") + counts.updated,
        products_unchanged=F("products_unchanged") + counts.unchanged,
    )
    return counts


@dataclass
class _RowsToWrite:
    """One batch for pass 2: its valid rows, and the number of its last row (the checkpoint)."""

    valid: pl.DataFrame
    last_number: int
    # Whether the whole-file checks already removed the rows they reject (a spill's rows are
    # pass 1's final ones; a file read again still holds the rows whose errors pass 1 logged).
    screened: bool


def _rows_to_write(job: ImportJob, *, after: int) -> Generator[_RowsToWrite]:
    """The batches with rows after row ``after``: the analysis' spill's when this machine has it
    (from the first of its files that does not read back, the file's), else the file's."""
    spilled = spill.spilled_batches(job.pk, job.analysis_spill, after=after)
    if spilled is not None:
        try:
            for valid, last_number in spilled:
                yield _RowsToWrite(valid, last_number, screened=True)
                after = last_number
            return
        except spill.SpillUnreadable as exc:
            logger.warning(
                "import %s: spill file %s unreadable; reading the file after row %s", job.pk, exc, after
            )
    with _open_batches(job, after=after) as checked:
        for batch in checked:
            yield _RowsToWrite(batch.valid, batch.last_number, screened=False)


def _rejected_rows(job: ImportJob, rows: pl.DataFrame) -> pl.Series:
    """The row numbers among ``rows``' that pass 1 logged an error for (the whole-file checks)."""
    if rows.is_empty():
        return pl.Series([], dtype=pl.Int64)
    numbers = rows["row_number"]
    rejected = (
        ImportLog.objects.filter(
            job_id=job.pk,
            level=LogLevel.ERROR,
            row_number__gte=numbers.min(),
            row_number__lte=numbers.max(),
        )
        .values_list("row_number", flat=True)
        .distinct()
    )
    return pl.Series(list(rejected), dtype=pl.Int64)
