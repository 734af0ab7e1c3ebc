"""The retention policy: what is deleted once it is older than ``PIXEE_RETENTION_DAYS``.

- **Import jobs** that are finished (completed, failed or cancelled) and whose last event (the
  finish, or the revert) is older than the period are purged: their stored file, their row logs
  and their undo records (``ProductChange``) are deleted. The job row (status, counters,
  ``error_summary``) and its milestones stay. A job that may still be confirmed (``ready``),
  resumed (``paused``), that runs or whose revert runs is never purged. So a finished import can
  be reverted, and its changes, preview and error report shown, until the policy purges it; after,
  those answer 409 with a sentence saying so.
- **Webhook deliveries** (events and their attempts) created before the cutoff, unless pending.
- **Automation runs** started before the cutoff, except running ones and each automation's latest
  completed run: the next run compares its file with that one's checksum.
- **Idempotency keys** created before the cutoff: a retry that late creates a new job.

Rows are deleted in chunks of ``CHUNK``, one short transaction each, so a backlog of millions of
log rows never becomes one statement. On PostgreSQL each chunk is locked with SKIP LOCKED, so
runs that overlap share the work instead of waiting on each other; whatever a run leaves (it was
stopped half-way), the next one finishes. This module only reads the other apps' models and
deletes their old rows; it changes none of their behaviour.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from automations.choices import RunStatus
from automations.models import AutomationRun
from catalog.models import ProductChange
from imports.choices import LogLevel
from imports.models import ImportJob, ImportLog
from imports.revert import CHANGED_SINCE
from imports.services import import_job_file_delete
from imports.state import FINISHED
from pixee.models import IdempotencyKey
from webhooks.choices import DeliveryStatus
from webhooks.models import WebhookEvent

logger = logging.getLogger(__name__)

CHUNK = 5_000
JOBS_CHUNK = 200  # jobs claimed per transaction: each one gets a milestone


def retention_cutoff(now: datetime | None = None) -> datetime | None:
    """The instant before which data is deleted; None when the policy keeps everything (0 days)."""
    days = settings.PIXEE_RETENTION_DAYS
    if not days:
        return None
    return (now or timezone.now()) - timedelta(days=days)


def retention_apply(*, now: datetime | None = None) -> dict[str, int]:
    """Delete everything the policy no longer keeps; returns how many of each kind went."""
    cutoff = retention_cutoff(now)
    if cutoff is None:
        return {}
    deleted = {"jobs purged": _claim_expired_jobs(cutoff)}
    deleted.update(_purge_claimed_jobs())
    deleted["webhook deliveries"] = _delete_in_chunks(
        WebhookEvent.objects.filter(created_at__lt=cutoff).exclude(status=DeliveryStatus.PENDING)
    )
    deleted["automation runs"] = _delete_in_chunks(_expired_runs(cutoff))
    deleted["idempotency keys"] = _delete_in_chunks(IdempotencyKey.objects.filter(created_at__lt=cutoff))
    if any(deleted.values()):
        logger.info("Retention (%s days): %s", settings.PIXEE_RETENTION_DAYS, deleted)
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
            ids = list(_locked(expired_jobs(cutoff)).values_list("pk", flat=True)[:JOBS_CHUNK])
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
        deleted["import logs"] += _delete_in_chunks(logs)
        deleted["product changes"] += _delete_in_chunks(changes)
        if logs.exists() or changes.exists():
            continue  # rows another run holds: it, or the next run, finishes this job
        import_job_file_delete(job=job)
        ImportJob.objects.filter(pk=job.pk).update(purge_pending=False)
    return deleted


def _expired_runs(cutoff: datetime) -> QuerySet:
    later_completed = AutomationRun.objects.filter(
        automation=OuterRef("automation"), status=RunStatus.COMPLETED, finished_at__gt=OuterRef("finished_at")
    )
    return AutomationRun.objects.filter(started_at__lt=cutoff).filter(
        Q(status__in=(RunStatus.FAILED, RunStatus.SKIPPED))
        | Q(Exists(later_completed), status=RunStatus.COMPLETED)
    )


def _delete_in_chunks(rows: QuerySet) -> int:
    """Delete ``rows`` ``CHUNK`` at a time, each chunk in its own transaction; returns how many."""
    total = 0
    while True:
        with transaction.atomic():
            ids = list(_locked(rows).values_list("pk", flat=True)[:CHUNK])
            if not ids:
                return total
            total += rows.model.objects.filter(pk__in=ids).delete()[1].get(rows.model._meta.label, 0)


def _locked(rows: QuerySet) -> QuerySet:
    """``rows`` locked for this transaction, skipping those another run holds (PostgreSQL)."""
    if connection.features.has_select_for_update_skip_locked:
        return rows.select_for_update(skip_locked=True)
    return rows  # SQLite: one writer at a time already
