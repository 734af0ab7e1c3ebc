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
stopped half-way), the next one finishes. Each app deletes its own rows (its ``retention.py``, registered
in its ``AppConfig.ready``): this module holds the policy and the chunked deletion, and imports
no app, so the apps keep depending on ``pixee`` and never the reverse.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from pixee.models import IdempotencyKey

logger = logging.getLogger(__name__)

CHUNK = 5_000

# What each app deletes once a cutoff is known: kind of rows → how many went.
Purge = Callable[[datetime], dict[str, int]]
_PURGES: list[Purge] = []


def register(purge: Purge) -> None:
    """Have ``purge`` run by every application of the policy (an app's ``ready`` calls this)."""
    if purge not in _PURGES:
        _PURGES.append(purge)


def retention_cutoff(now: datetime | None = None) -> datetime | None:
    """The instant before which data is deleted; None when the policy keeps everything (0 days)."""
    days = settings.PIXEE_RETENTION_DAYS
    if not days:
        return None
    return (now or timezone.now()) - timedelta(days=days)


class RetentionIncomplete(Exception):
    """One or more purges failed; the others ran all the same (the log has each failure)."""


def retention_apply(*, now: datetime | None = None) -> dict[str, int]:
    """Delete everything the policy no longer keeps; returns how many of each kind went.

    One app's purge failing (its storage is down, say) does not keep the others from running:
    each failure is logged, and once all have run RetentionIncomplete names the failed ones.
    """
    cutoff = retention_cutoff(now)
    if cutoff is None:
        return {}
    deleted: dict[str, int] = {}
    failed: list[str] = []
    for purge in (*_PURGES, _purge_idempotency_keys):
        try:
            deleted.update(purge(cutoff))
        except Exception:
            name = f"{purge.__module__}.{purge.__qualname__}"
            logger.exception("Retention: %s failed; the other purges go on.", name)
            failed.append(name)
    if any(deleted.values()):
        logger.info("Retention (%s days): %s", settings.PIXEE_RETENTION_DAYS, deleted)
    if failed:
        raise RetentionIncomplete(
            f"The retention policy's {', '.join(failed)} failed (see the log); the others ran: {deleted}."
        )
    return deleted


def _purge_idempotency_keys(cutoff: datetime) -> dict[str, int]:
    return {"idempotency keys": delete_in_chunks(IdempotencyKey.objects.filter(created_at__lt=cutoff))}


def delete_in_chunks(rows: QuerySet) -> int:
    """Delete ``rows`` ``CHUNK`` at a time, each chunk in its own transaction; returns how many."""
    total = 0
    while True:
        with transaction.atomic():
            ids = list(locked(rows).values_list("pk", flat=True)[:CHUNK])
            if not ids:
                return total
            total += rows.model.objects.filter(pk__in=ids).delete()[1].get(rows.model._meta.label, 0)


def locked(rows: QuerySet) -> QuerySet:
    """``rows`` locked for this transaction, skipping those another run holds (PostgreSQL)."""
    if connection.features.has_select_for_update_skip_locked:
        return rows.select_for_update(skip_locked=True)
    return rows  # SQLite: one writer at a time already
