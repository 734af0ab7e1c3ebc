"""The import job's state machine, written down once: which action moves a job from where to where.

Every status change goes through ``transition`` as a conditional UPDATE, so two requests (or a
request and the worker) racing on one job cannot both win.
"""

from django.db import transaction
from django.db.models import Case, F, When
from django.utils import timezone

from pixee.errors import Conflict
from pixee.events import announce

from .choices import ImportStatus as S
from .models import ImportJob
from .signals import import_job_status_changed

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


# Actions after which a phase (analysis, processing) starts or goes on.
PHASE_STARTS = ("start_analysis", "start_processing", "confirm", "resume")


def allowed_actions(status: str) -> list[str]:
    """The user-facing actions a job in ``status`` allows (for buttons and docs)."""
    return [a for a in ("confirm", "pause", "resume", "cancel") if status in ACTIONS[a][0]]


def transition(job_id, action: str, *, raise_conflict: bool = True, **fields) -> bool:
    """Apply ``action`` to the job if its current status allows it; extra ``fields`` are set too.

    Returns whether it applied. A refused user action raises ``Conflict`` naming the status.
    """
    sources, target = ACTIONS[action]
    updates = dict(fields)
    if action == "pause":
        updates.update(status=target, paused_from=F("status"))
    elif action == "resume":
        updates.update(status=F("paused_from"), paused_from="")
    else:
        updates["status"] = target
    if action in PHASE_STARTS:
        # Where the rate and the time left are measured from: this moment, these rows done.
        updates["phase_started_at"] = timezone.now()
        updates["phase_start_rows"] = Case(
            When(status=S.ANALYZING, then=F("analyzed_rows")),
            When(status=S.PAUSED, paused_from=S.ANALYZING, then=F("analyzed_rows")),
            default=updates.get("processed_rows", F("processed_rows")),
        )
    if target in FINISHED:
        updates.setdefault("completed_at", timezone.now())
    with transaction.atomic():
        applied = ImportJob.objects.filter(pk=job_id, status__in=sources).update(**updates) == 1
        if applied and target in ANNOUNCED:
            # In the status change's own transaction: both commit or neither does, so no crash in
            # between can lose the event (its delivery is queued once they have committed).
            announce(import_job_status_changed, job_id=job_id, status=str(target))
    if not applied and raise_conflict:
        current = ImportJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
        raise Conflict(f"Cannot {action.replace('_', ' ')} a job that is {current}.")
    return applied
