"""The retention policy's part for import jobs (the policy: ``pixee/retention.py``)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from catalog.models import ProductChange
from pixee.retention import delete_in_chunks, locked

from .choices import LogLevel
from .models import ImportJob, ImportLog
from .revert import CHANGED_SINCE
from .services import import_job_file_delete
from .state import FINISHED

JOBS_CHUNK = 200  # jobs claimed per transaction: each one gets a milestone


def purge(cutoff: datetime) -> dict[str, int]:
    deleted = {"jobs purged": _claim_expired_jobs(cutoff)}
    deleted.update(_purge_claimed_jobs())
    return deleted


def expired_jobs(cutoff: datetime) -> QuerySet:
    """Finished jobs last active before ``cutoff`` that the policy has not claimed yet."""
    last_active_before = (
        Q(reverted_at__lt=cutoff)
        | Q(reverted_at__isnull=True, completed_at__lt=cutoff)
        | Q(reverted_at__isnull=True, completed_at__isnull=True, created_at__lt=cutoff)
    )
    reverting = Q(revert_requested_at__isnull=False, reverted_at__isnull=True)
    return ImportJob.objects.filter(last_active_before, status__in=FINISHED, purged_at__isnull=True).exclude(
        reverting
    )


def _claim_expired_jobs(cutoff: datetime) -> int:
    """Mark expired jobs purged, so that from now on nothing reads or reverts them; returns how many.

    A conditional UPDATE, like every state change of a job: a revert asked for meanwhile either
    commits first (the job is no longer expired) or finds the job claimed (409).
    """
    claimed = 0
    while True:
        with transaction.atomic():
            ids = list(locked(expired_jobs(cutoff)).values_list("pk", flat=True)[:JOBS_CHUNK])
            if not ids:
                return claimed
            # Locked and still expired (PostgreSQL re-checks a locked row's conditions).
            now = timezone.now()
            ImportJob.objects.filter(pk__in=ids).update(purged_at=now, purge_pending=True)
            message = (
                f"The retention policy ({settings.PIXEE_RETENTION_DAYS} days) removed the stored file, "
                "the row logs and the undo records of this import."
            )
            ImportLog.objects.bulk_create(
                [ImportLog(job_id=pk, level=LogLevel.INFO, message=message, timestamp=now) for pk in ids]
            )
            claimed += len(ids)


def _purge_claimed_jobs() -> dict[str, int]:
    """Delete the data of claimed jobs, chunk by chunk; a job is done once nothing of it is left."""
    deleted = {"import logs": 0, "product changes": 0}
    for job in ImportJob.objects.filter(purge_pending=True).order_by("purged_at"):
        logs = ImportLog.objects.filter(job_id=job.pk).filter(
            Q(row_number__isnull=False) | Q(level=LogLevel.WARNING, message=CHANGED_SINCE)
        )
        changes = ProductChange.objects.filter(job_id=job.pk)
        deleted["import logs"] += delete_in_chunks(logs)
        deleted["product changes"] += delete_in_chunks(changes)
        if logs.exists() or changes.exists():
            continue  # rows another run holds: it, or the next run, finishes this job
        import_job_file_delete(job=job)
        ImportJob.objects.filter(pk=job.pk).update(purge_pending=False)
    return deleted
