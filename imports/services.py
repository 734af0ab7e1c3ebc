"""Writes on import jobs. The API, the admin, management commands and tasks all come through here."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from itertools import islice
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from pixee.errors import Conflict, PayloadTooLarge
from webhooks.validators import check_endpoint_url

from . import pipeline, state
from .choices import ImportStatus, OnInvalidValue
from .formats import content_mismatch, file_type_from_name, reader_for, supported_types
from .mapping import SAMPLE_ROWS, ColumnMapper, plan_mapping, validate_explicit_mapping
from .models import ImportJob, ImportLog, SupplierMapping
from .staging import discard_staged


class UploadRejected(ValueError):
    """The upload cannot become a job; ``field`` names the form field at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


MAX_FILE_NAME_CHARS = 255
MAX_ERRORS_LIMIT = 2**31 - 1  # the column's range (PostgreSQL integer)


def safe_file_name(name: str) -> str:
    """The base name of a client-supplied path, without directories or control characters.

    It is only shown (the stored file gets a generated name); a long one is cut in its stem,
    so that it keeps the extension its file type is read from.
    """
    base = os.path.basename(name.replace("\\", "/"))
    cleaned = "".join(c for c in base if c.isprintable()).strip() or "upload"
    if len(cleaned) > MAX_FILE_NAME_CHARS:
        stem, ext = os.path.splitext(cleaned)
        ext = ext if len(ext) <= 16 else ""
        cleaned = stem[: MAX_FILE_NAME_CHARS - len(ext)] + ext
    return cleaned


def import_job_create(
    *,
    user: User | None,
    file: File,
    file_name: str | None = None,
    supplier_code: str = "",
    dry_run: bool = False,
    mapping: dict[str, Any] | None = None,
    max_errors: int | None = None,
    webhook_url: str = "",
    on_invalid_value: str = OnInvalidValue.SKIP_ROW,
    enqueue: bool = True,
) -> ImportJob:
    """Store the file under a generated name and queue its analysis once the transaction commits."""
    file_name = safe_file_name(file_name or file.name or "")
    file_type = file_type_from_name(file_name)
    if file_type is None:
        raise UploadRejected(
            "file",
            f"'{file_name}' has an unsupported extension; accepted: "
            + ", ".join(f".{t}" for t in supported_types())
            + ".",
        )
    limit = settings.PIXEE_MAX_UPLOAD_MB * 1024 * 1024
    if file.size is not None and file.size > limit:
        raise PayloadTooLarge(
            f"The file is {file.size} bytes; the limit is {settings.PIXEE_MAX_UPLOAD_MB} MB."
        )
    if file.size == 0:
        raise UploadRejected("file", "The file is empty.")
    mismatch = _content_mismatch(file, file_type)
    if mismatch:
        raise UploadRejected("file", mismatch)
    if max_errors is not None and not 0 <= max_errors <= MAX_ERRORS_LIMIT:
        raise UploadRejected("max_errors", f"max_errors must be between 0 and {MAX_ERRORS_LIMIT}.")
    try:
        mapping = validate_explicit_mapping(mapping or {})
    except ValueError as exc:
        raise UploadRejected("mapping", str(exc)) from None
    if webhook_url:
        try:
            webhook_url = check_endpoint_url(webhook_url)
        except ValueError as exc:
            raise UploadRejected("webhook_url", str(exc)) from None

    supplier_code = supplier_code.strip()
    stored = None
    if not mapping and supplier_code and user is not None:
        stored = SupplierMapping.objects.filter(created_by=user, supplier_code=supplier_code).first()
    job = ImportJob(
        created_by=user,
        supplier_mapping=stored.mapping if stored else {},
        file_name=file_name,
        file_type=file_type,
        file_size=file.size or 0,
        supplier_code=supplier_code,
        dry_run=dry_run,
        on_invalid_value=on_invalid_value,
        requested_mapping=mapping,
        max_errors=max_errors,
        webhook_url=webhook_url,
        webhook_secret=secrets.token_urlsafe(32) if webhook_url else "",
    )
    job.file.save(file_name, file, save=False)
    try:
        with transaction.atomic():
            job.save()
            if enqueue:
                _enqueue_run(job)
    except BaseException:
        job.file.delete(save=False)  # no job row, no stored file
        raise
    return job


def _content_mismatch(file: File, file_type: str) -> str | None:
    """Refuse at once a file whose first bytes cannot be its extension's format."""
    file.seek(0)
    head = file.read(8192)
    file.seek(0)
    return content_mismatch(file_type, head)


def import_job_plan_mapping(*, job: ImportJob, columns: list[str]) -> tuple[ColumnMapper, dict[str, str]]:
    """Resolve the job's mapping from its explicit mapping, synonyms and its first rows' values;
    saves the mapping and its sources on the job and logs what the values decided."""
    # A second handle: the pipeline's reader is reading the first one.
    with job.file.storage.open(str(job.file.name), "rb") as fileobj:
        sample = [
            raw.values
            for raw in islice(
                reader_for(job.file_type)(fileobj, size=job.file_size or None).rows(), SAMPLE_ROWS
            )
        ]
    plan = plan_mapping(columns, sample, explicit=job.requested_mapping, supplier=job.supplier_mapping)
    plan.mapper.skip_invalid_values = job.on_invalid_value == OnInvalidValue.SKIP_VALUE
    mapping = plan.mapper.resolve(columns)
    sources = {c: plan.sources[c] for c in mapping if c in plan.sources}
    ImportJob.objects.filter(pk=job.pk).update(mapping=mapping, mapping_sources=sources)
    for note in plan.notes:
        pipeline.milestone(job.pk, note)
    for warning in plan.warnings:
        pipeline.milestone(job.pk, warning, level="warning")
    return plan.mapper, mapping


def supplier_mapping_save(*, user: User, supplier_code: str, mapping: object) -> SupplierMapping:
    """Store (or replace) the user's mapping for ``supplier_code``."""
    try:
        checked = validate_explicit_mapping(mapping)
    except ValueError as exc:
        raise UploadRejected("mapping", str(exc)) from None
    stored, _ = SupplierMapping.objects.update_or_create(
        created_by=user, supplier_code=supplier_code, defaults={"mapping": checked}
    )
    return stored


def supplier_mapping_delete(*, mapping: SupplierMapping) -> None:
    """Forget a supplier's stored mapping; later uploads fall back to synonyms and values."""
    mapping.delete()


def import_job_reanalyze(
    *, job: ImportJob, mapping: object, on_invalid_value: str | None = None
) -> ImportJob:
    """Re-run the analysis of a ``ready`` job, or of a ``failed`` one that wrote nothing, on its
    stored file with a new mapping; its rows' logs and staged rows start over."""
    try:
        checked = validate_explicit_mapping(mapping)
    except ValueError as exc:
        raise UploadRejected("mapping", str(exc)) from None
    if (job.successful_rows and job.status == ImportStatus.FAILED) or not job.file:
        raise Conflict("Cannot reanalyze a job that already wrote products or whose file was discarded.")
    with transaction.atomic():
        state.transition(
            job.pk,
            "reanalyze",
            requested_mapping=checked,
            on_invalid_value=on_invalid_value or job.on_invalid_value,
            mapping={},
            mapping_sources={},
            error_summary="",
            total_rows=None,
            analyzed_rows=0,
            staged_rows=0,
            processed_rows=0,
            failed_rows=0,
            products_created=0,
            products_updated=0,
            products_unchanged=0,
            analyzed_fraction=0.0,
            checkpoint_row=0,
            attempts=0,
            lease_token=None,
            started_at=None,
            completed_at=None,
        )
        discard_staged(job.pk)
        ImportLog.objects.filter(job_id=job.pk, row_number__isnull=False).delete()
        pipeline.milestone(job.pk, "Re-analysis requested with a new mapping.")
        _enqueue_run(job)
    job.refresh_from_db()
    return job


def import_job_run(*, job_id, on_progress=None) -> ImportJob:
    """Run the job's pipeline in this process until it completes, fails, pauses or waits at ready."""
    pipeline.run(job_id, on_progress=on_progress)
    return ImportJob.objects.get(pk=job_id)


def import_job_pause(*, job: ImportJob) -> ImportJob:
    """Pause a running job; the worker stops within one chunk and writes nothing while paused."""
    with transaction.atomic():
        state.transition(job.pk, "pause")
        pipeline.milestone(job.pk, "Paused by the user.")
    job.refresh_from_db()
    return job


def import_job_resume(*, job: ImportJob) -> ImportJob:
    """Resume a paused job from its last checkpoint."""
    with transaction.atomic():
        state.transition(job.pk, "resume")
        pipeline.milestone(job.pk, "Resumed by the user.")
        _enqueue_run(job)
    job.refresh_from_db()
    return job


def import_job_confirm(*, job: ImportJob) -> ImportJob:
    """Turn a ``ready`` dry run into the real import of its staged rows, without re-uploading."""
    with transaction.atomic():
        state.transition(
            job.pk,
            "confirm",
            checkpoint_row=0,
            processed_rows=job.failed_rows,
            products_created=0,
            products_updated=0,
            products_unchanged=0,
            attempts=0,
        )
        pipeline.milestone(job.pk, "Dry run confirmed: processing started.")
        _enqueue_run(job)
    job.refresh_from_db()
    return job


def import_job_cancel(*, job: ImportJob) -> ImportJob:
    """Cancel the job and discard its staged rows and stored file.

    Products a ``processing`` job already wrote stay; its counters say how many.
    """
    with transaction.atomic():
        state.transition(job.pk, "cancel")
        pipeline.milestone(job.pk, "Cancelled by the user; staged rows and the stored file are discarded.")
        job_id = str(job.pk)
        transaction.on_commit(lambda: tasks().discard_import_data.delay(job_id))
    job.refresh_from_db()
    return job


def import_job_discard_data(*, job_id) -> None:
    """Delete a finished job's staged rows and stored file (cancelled jobs)."""
    job = ImportJob.objects.filter(pk=job_id, status=ImportStatus.CANCELLED).first()
    if job is None:
        return
    discard_staged(job.pk)
    if job.file:
        job.file.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(file="")


def import_jobs_sweep() -> list[str]:
    """Re-enqueue running jobs whose worker stopped proving it is alive; returns their ids.

    Recovery then takes about PIXEE_JOB_HEARTBEAT_TIMEOUT plus the sweep interval, instead of the
    broker's visibility timeout (an hour on Redis). The stale lease is dropped so the new run can
    claim the job; a slow but live run then finds its lease gone at its next checkpoint and stops.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.PIXEE_JOB_HEARTBEAT_TIMEOUT)
    candidates = ImportJob.objects.filter(status__in=state.RUNNING).filter(
        Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, updated_at__lt=stale)
    )
    swept = []
    for job_id, heartbeat in candidates.values_list("pk", "heartbeat_at"):
        # Conditional on the heartbeat we saw, so a run that checkpoints meanwhile keeps its lease.
        if ImportJob.objects.filter(pk=job_id, heartbeat_at=heartbeat).update(
            lease_token=None, heartbeat_at=now
        ):
            pipeline.milestone(
                job_id,
                "No sign of life from the worker running this job: restarting it from its last checkpoint.",
                level="warning",
            )
            tasks().run_import_job.delay(str(job_id))
            swept.append(str(job_id))
    return swept


def _enqueue_run(job: ImportJob) -> None:
    job_id = str(job.pk)
    transaction.on_commit(lambda: tasks().run_import_job.delay(job_id))


def tasks():
    # tasks.py imports this module; importing it back lazily avoids the cycle.
    from . import tasks as module

    return module
