"""Writes on import jobs. The API, the admin, management commands and tasks all come through here."""

from __future__ import annotations

import logging
import os
import secrets
import time
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from pixee.celery import enqueue_task
from pixee.errors import Conflict, PayloadTooLarge
from pixee.idempotency import idempotent_create, request_fingerprint
from pixee.limits import max_upload_bytes
from pixee.netguard import check_endpoint_url

from . import revert, runner, selectors, state
from .choices import ImportStatus, OnInvalidValue
from .formats import content_mismatch, file_type_from_name, supported_types
from .mapping import validate_explicit_mapping
from .models import ImportJob, ImportLog, SupplierMapping

logger = logging.getLogger(__name__)


class UploadRejected(ValueError):
    """The upload cannot become a job; ``field`` names the form field at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


MAX_FILE_NAME_CHARS = 255
MAX_ERRORS_LIMIT = 2**31 - 1  # the column's range (PostgreSQL integer)
_MAX_ERRORS_RANGE = f"max_errors must be between 0 and {MAX_ERRORS_LIMIT}."
# The bounds of max_errors, written once: the API's serializer checks (and documents) them, and
# import_job_create checks them for every other caller (the admin, automations, commands).
MAX_ERRORS_VALIDATORS = (
    MinValueValidator(0, _MAX_ERRORS_RANGE),
    MaxValueValidator(MAX_ERRORS_LIMIT, _MAX_ERRORS_RANGE),
)


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


@dataclass(frozen=True)
class ImportRequest:
    """An upload's options once checked, named as the job's fields they become."""

    file_name: str
    file_type: str
    file_size: int
    supplier_code: str
    dry_run: bool
    requested_mapping: dict[str, str]
    max_errors: int | None
    webhook_url: str
    on_invalid_value: str | None  # None: the supplier's stored choice, else skip_row


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
    on_invalid_value: str | None = None,
    enqueue: bool = True,
) -> ImportJob:
    """Store the file under a generated name and queue its analysis once the transaction commits.

    Without a ``mapping`` or an ``on_invalid_value``, the supplier's stored ones apply (if any).
    """
    file_name = safe_file_name(file_name or file.name or "")
    # In this order, so that of several problems the user hears of the file's first.
    file_type = _checked_file(file, file_name)
    max_errors = _checked_max_errors(max_errors)
    checked_mapping = _checked_mapping(mapping or {})
    webhook_url = _checked_webhook_url(webhook_url)
    request = ImportRequest(
        file_name=file_name,
        file_type=file_type,
        file_size=file.size or 0,
        supplier_code=supplier_code.strip(),
        dry_run=dry_run,
        requested_mapping=checked_mapping,
        max_errors=max_errors,
        webhook_url=webhook_url,
        on_invalid_value=on_invalid_value,
    )
    job = _new_job(user=user, request=request)
    _save_with_file(job, file, enqueue=enqueue)
    return job


def _checked_file(file: File, file_name: str) -> str:
    """The upload's file type, once its extension, size and first bytes are acceptable."""
    file_type = file_type_from_name(file_name)
    if file_type is None:
        raise UploadRejected(
            "file",
            f"'{file_name}' has an unsupported extension; accepted: "
            + ", ".join(f".{t}" for t in supported_types())
            + ".",
        )
    if file.size is not None and file.size > max_upload_bytes():
        raise PayloadTooLarge(
            f"The file is {file.size} bytes; the limit is {settings.PIXEE_MAX_UPLOAD_MB} MB."
        )
    if file.size == 0:
        raise UploadRejected("file", "The file is empty.")
    mismatch = _content_mismatch(file, file_type)
    if mismatch:
        raise UploadRejected("file", mismatch)
    return file_type


def _checked_max_errors(max_errors: int | None) -> int | None:
    if max_errors is not None:
        try:
            for validator in MAX_ERRORS_VALIDATORS:
                validator(max_errors)
        except ValidationError as exc:
            raise UploadRejected("max_errors", exc.messages[0]) from None
    return max_errors


def _checked_mapping(mapping: object) -> dict[str, str]:
    """An explicit mapping (file column → product field) as stored, or ``UploadRejected``."""
    try:
        return validate_explicit_mapping(mapping)
    except ValueError as exc:
        raise UploadRejected("mapping", str(exc)) from None


def _checked_webhook_url(webhook_url: str) -> str:
    """The job's own webhook receiver, refused when it points at our network (SSRF)."""
    if not webhook_url:
        return ""
    try:
        return check_endpoint_url(webhook_url)
    except ValueError as exc:
        raise UploadRejected("webhook_url", str(exc)) from None


def _new_job(*, user: User | None, request: ImportRequest) -> ImportJob:
    """The unsaved job for ``request``, with its supplier's stored mapping when it brings none."""
    stored = None
    if request.supplier_code and user is not None:
        stored = SupplierMapping.objects.filter(created_by=user, supplier_code=request.supplier_code).first()
    if request.on_invalid_value is None:
        # Neither given nor stored for the supplier: the default.
        chosen = stored.on_invalid_value if stored else OnInvalidValue.SKIP_ROW
        request = replace(request, on_invalid_value=chosen)
    return ImportJob(
        created_by=user,
        # An explicit mapping wins over the supplier's whole stored one.
        supplier_mapping=stored.mapping if stored and not request.requested_mapping else {},
        # Signs this job's deliveries; shown once, in the creation's answer.
        webhook_secret=secrets.token_urlsafe(32) if request.webhook_url else "",
        **asdict(request),
    )


def _save_with_file(job: ImportJob, file: File, *, enqueue: bool) -> None:
    """Store the file, then save the job (and queue its run) in one transaction; no row, no file."""
    job.file.save(job.file_name, file, save=False)
    try:
        with transaction.atomic():
            job.save()
            if enqueue:
                _enqueue_run(job)
    except BaseException:
        job.file.delete(save=False)
        raise


def import_job_create_once(*, user: User, idempotency_key: str | None, **options: Any) -> ImportJob:
    """``import_job_create``, or with an ``Idempotency-Key`` the job its first use created."""
    if idempotency_key is None:
        return import_job_create(user=user, **options)
    fields = {k: v for k, v in options.items() if k != "file"}
    return idempotent_create(
        user=user,
        scope="imports.job",
        key=idempotency_key,
        fingerprint=request_fingerprint(fields, {"file": options["file"]}),
        create=lambda: import_job_create(user=user, **options),
        load=lambda pk: ImportJob.objects.get(pk=pk),
    )


def _content_mismatch(file: File, file_type: str) -> str | None:
    """Refuse at once a file whose first bytes cannot be its extension's format."""
    file.seek(0)
    head = file.read(8192)
    file.seek(0)
    return content_mismatch(file_type, head)


def supplier_mapping_save(
    *,
    user: User,
    supplier_code: str,
    mapping: object,
    on_invalid_value: str = OnInvalidValue.SKIP_ROW,
) -> SupplierMapping:
    """Store (or replace) the user's mapping and ``on_invalid_value`` for ``supplier_code``."""
    checked = _checked_mapping(mapping)
    stored, _ = SupplierMapping.objects.update_or_create(
        created_by=user,
        supplier_code=supplier_code,
        defaults={"mapping": checked, "on_invalid_value": on_invalid_value},
    )
    return stored


def supplier_mapping_delete(*, mapping: SupplierMapping) -> None:
    """Forget a supplier's stored mapping; later uploads fall back to synonyms and values."""
    mapping.delete()


def import_job_reanalyze_refusal(*, job: ImportJob) -> str | None:
    """Why ``job`` cannot be re-analysed now, or None when it can (the API's 409, the admin's button)."""
    if job.status not in state.ACTIONS["reanalyze"][0]:
        return (
            f"Cannot reanalyze a job that is {job.status}: only a ready job, "
            "or a failed one that wrote nothing, can be."
        )
    if not job.file:
        return "Cannot reanalyze a job whose stored file was discarded."
    # Processing starts at processed_rows = failed_rows and adds the rows of each committed chunk;
    # a dry run's products_created only counts what confirming would create.
    if job.status == ImportStatus.FAILED and job.processed_rows > job.failed_rows:
        return "Cannot reanalyze a job that already wrote products."
    return None


def import_job_reanalyze(
    *, job: ImportJob, mapping: object, on_invalid_value: str | None = None
) -> ImportJob:
    """Re-run the analysis of a ``ready`` job, or of a ``failed`` one that wrote nothing, on its
    stored file with a new mapping; its rows' logs and staged rows start over."""
    checked = _checked_mapping(mapping)
    refusal = import_job_reanalyze_refusal(job=job)
    if refusal:
        raise Conflict(refusal)
    with transaction.atomic():
        # Locked, so that the retention policy cannot remove the file between this check and the
        # transition (it claims jobs with a conditional UPDATE, which waits for this lock).
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if unavailable := selectors.stored_file_unavailable(job):
            raise Conflict(f"{unavailable}: nothing to reanalyze.")
        state.transition(
            job.pk,
            "reanalyze",
            requested_mapping=checked,
            on_invalid_value=on_invalid_value or job.on_invalid_value,
            mapping={},
            mapping_sources={},
            error_summary="",
            failure_kind="",
            total_rows=None,
            analyzed_rows=0,
            processed_rows=0,
            failed_rows=0,
            products_created=0,
            products_updated=0,
            products_unchanged=0,
            analyzed_fraction=0.0,
            checkpoint_row=0,
            analysis_spill=None,
            attempts=0,
            lease_token=None,
            started_at=None,
            completed_at=None,
        )
        ImportLog.objects.filter(job_id=job.pk, row_number__isnull=False).delete()
        runner.milestone(job.pk, "Re-analysis requested with a new mapping.")
        _enqueue_run(job)
    job.refresh_from_db()
    return job


def import_job_run(*, job_id, on_progress=None) -> ImportJob:
    """Run the job's pipeline in this process until it completes, fails, pauses or waits at ready."""
    runner.run(job_id, on_progress=on_progress)
    return ImportJob.objects.get(pk=job_id)


def import_job_pause(*, job: ImportJob) -> ImportJob:
    """Pause a running job; the worker stops within one chunk and writes nothing while paused."""
    with transaction.atomic():
        state.transition(job.pk, "pause")
        runner.milestone(job.pk, "Paused by the user.")
    job.refresh_from_db()
    return job


def import_job_resume(*, job: ImportJob) -> ImportJob:
    """Resume a paused job from its last checkpoint."""
    with transaction.atomic():
        state.transition(job.pk, "resume")
        runner.milestone(job.pk, "Resumed by the user.")
        _enqueue_run(job)
    job.refresh_from_db()
    return job


def import_job_confirm(*, job: ImportJob) -> ImportJob:
    """Turn a ``ready`` dry run into the real import of its stored file, without re-uploading."""
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
        runner.milestone(job.pk, "Dry run confirmed: processing started.")
        _enqueue_run(job)
    job.refresh_from_db()
    return job


def import_job_cancel(*, job: ImportJob) -> ImportJob:
    """Cancel the job and discard its stored file.

    Products a ``processing`` job already wrote stay; its counters say how many.
    """
    with transaction.atomic():
        state.transition(job.pk, "cancel")
        runner.milestone(job.pk, "Cancelled by the user; the stored file is discarded.")
        job_id = str(job.pk)
        transaction.on_commit(lambda: enqueue_task("imports.tasks.discard_import_data", job_id))
    job.refresh_from_db()
    return job


def import_job_discard_data(*, job_id) -> None:
    """Delete a cancelled job's stored file."""
    job = ImportJob.objects.filter(pk=job_id, status=ImportStatus.CANCELLED).first()
    if job is not None:
        import_job_file_delete(job=job)


def import_job_file_delete(*, job: ImportJob) -> None:
    """Delete the job's stored file, if it still has one (idempotent: a missing file is no error)."""
    if job.file:
        job.file.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(file="")


def import_job_revert(*, job: ImportJob) -> ImportJob:
    """Ask for the job's undo (a worker runs it): 409 unless it is completed or cancelled, once."""
    with transaction.atomic():
        # Conditional on the retention policy not having claimed the job (its undo records go).
        asked = ImportJob.objects.filter(
            pk=job.pk, status__in=revert.REVERTIBLE, revert_requested_at__isnull=True, purged_at__isnull=True
        ).update(revert_requested_at=timezone.now(), heartbeat_at=None, lease_token=None)
        if not asked:
            job.refresh_from_db()
            if job.revert_requested_at is not None:
                raise Conflict(
                    "The import was already reverted." if job.reverted_at else "The import is being reverted."
                )
            if job.purged_at is not None:
                raise Conflict(
                    "The import's undo records were removed by the retention policy on "
                    f"{job.purged_at:%Y-%m-%d}: it can no longer be reverted."
                )
            raise Conflict(
                f"Cannot revert a job that is {job.status}: only completed or cancelled imports can be."
            )
        runner.milestone(job.pk, "Revert requested: restoring the products this import changed.")
        job_id = str(job.pk)
        transaction.on_commit(lambda: enqueue_task("imports.tasks.revert_import_job", job_id))
    job.refresh_from_db()
    return job


def import_job_revert_run(*, job_id) -> None:
    revert.run(job_id)


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
            runner.milestone(
                job_id,
                "No sign of life from the worker running this job: restarting it from its last checkpoint.",
                level="warning",
            )
            _send_run(str(job_id))
            swept.append(str(job_id))
    stale_reverts = revert.pending_reverts().filter(
        Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, revert_requested_at__lt=stale)
    )
    for job_id, heartbeat in stale_reverts.values_list("pk", "heartbeat_at"):
        if ImportJob.objects.filter(pk=job_id, heartbeat_at=heartbeat).update(
            lease_token=None, heartbeat_at=now
        ):
            runner.milestone(job_id, "No sign of life from the revert: restarting it from its checkpoint.")
            enqueue_task("imports.tasks.revert_import_job", str(job_id))
            swept.append(str(job_id))
    return swept


def upload_temp_files_sweep() -> int:
    """Delete uploads' temporary files older than ``PIXEE_UPLOAD_TEMP_MAX_AGE``; returns how many.

    Django removes them when a request ends; a request that never ends (a killed web worker)
    leaves its file behind in ``FILE_UPLOAD_TEMP_DIR``.
    """
    folder = settings.FILE_UPLOAD_TEMP_DIR
    cutoff = time.time() - settings.PIXEE_UPLOAD_TEMP_MAX_AGE
    removed = 0
    with os.scandir(folder) as entries:
        for entry in entries:
            try:
                if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:
                continue  # its request finished meanwhile
    return removed


def _enqueue_run(job: ImportJob) -> None:
    job_id = str(job.pk)
    transaction.on_commit(lambda: _send_run(job_id))


def _send_run(job_id: str) -> None:
    """Hand a committed job to a worker, best effort.

    The committed ``pending`` row is the outbox: when the broker cannot take the message, the job
    stays pending and the sweeper (``import_jobs_sweep``) sends it again once its
    ``PIXEE_JOB_HEARTBEAT_TIMEOUT`` has passed, so an upload during a broker outage is kept and
    completes when the broker is back.
    """
    try:
        enqueue_task("imports.tasks.run_import_job", job_id)
    except Exception:  # kombu's OperationalError, or whatever the transport raises
        logger.warning("Job %s could not be queued now; the sweeper will queue it.", job_id, exc_info=True)
