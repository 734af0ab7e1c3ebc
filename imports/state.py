"""The import job's state machine, written down once: which action moves a job from where to where.

Every status change goes through ``transition`` as a conditional UPDATE, so two requests (or a
request and the worker) racing on one job cannot both win.
"""

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from pixee.errors import Conflict

from .choices import ImportStatus as S
from .signals import import_job_status_changed

logger = logging.getLogger(__name__)

# Statuses in which a worker is (or will be) doing something with the job.
RUNNING = (S.PENDING, S.ANALYZING, S.PROCESSING)
FINISHED = (S.COMPLETED, S.FAILED, S.CANCELLED)
# Statuses whose arrival is announced with ``import_job_status_changed`` (webhooks listen).
ANNOUNCED = (S.READY, *FINISHED)

# action -> (statuses it may start from, status it leads to; None: decided by the action)
ACTIONS: dict[str, tuple[tuple[S, ...], S | None]] = {
    "start_analysis": ((S.PENDING,), S.ANALYZING),
    "finish_dry_run": ((S.ANALYZING,), S.READY),
    "start_processing": ((S.ANALYZING,), S.PROCESSING),
    "confirm": ((S.READY,), S.PROCESSING),
    "complete": ((S.PROCESSING,), S.COMPLETED),
    "fail": ((*RUNNING, S.READY, S.PAUSED), S.FAILED),
    "pause": (RUNNING, S.PAUSED),
    "resume": ((S.PAUSED,), None),  # back to the status it was paused from
    "cancel": ((*RUNNING, S.READY, S.PAUSED), S.CANCELLED),
    # A new mapping on the stored file; the service also requires that nothing was written.
    "reanalyze": ((S.READY, S.FAILED), S.PENDING),
}


def allowed_actions(status: str) -> list[str]:
    """The user-facing actions a job in ``status`` allows (for buttons and docs)."""
    return [a for a in ("confirm", "pause", "resume", "cancel") if status in ACTIONS[a][0]]


def transition(job_id, action: str, *, raise_conflict: bool = True, **fields) -> bool:
    """Apply ``action`` to the job if its current status allows it; extra ``fields`` are set too.

    Returns whether it applied. A refused user action raises ``Conflict`` naming the status.
    """
    from .models import ImportJob

    sources, target = ACTIONS[action]
    updates = dict(fields)
    if action == "pause":
        updates.update(status=target, paused_from=F("status"))
    elif action == "resume":
        updates.update(status=F("paused_from"), paused_from="")
    else:
        updates["status"] = target
    if target in FINISHED:
        updates.setdefault("completed_at", timezone.now())
    applied = ImportJob.objects.filter(pk=job_id, status__in=sources).update(**updates) == 1
    if applied and target in ANNOUNCED:
        # On commit: a change that rolls back must never be announced.
        transaction.on_commit(lambda: _announce(job_id, target), robust=True)
    if not applied and raise_conflict:
        current = ImportJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
        raise Conflict(f"Cannot {action.replace('_', ' ')} a job that is {current}.")
    return applied


def _announce(job_id, status: str) -> None:
    # A failing receiver must not disturb the job (nor the other receivers).
    for receiver, result in import_job_status_changed.send_robust(
        sender=None, job_id=job_id, status=str(status)
    ):
        if isinstance(result, Exception):
            logger.error("import %s: %r failed on %s", job_id, receiver, status, exc_info=result)
