"""The retention policy's part for automation runs (the policy: ``pixee/retention.py``)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet

from pixee.retention import delete_in_chunks

from .choices import RunStatus
from .models import AutomationRun


def purge(cutoff: datetime) -> dict[str, int]:
    return {"automation runs": delete_in_chunks(_expired_runs(cutoff))}


def _expired_runs(cutoff: datetime) -> QuerySet:
    later_completed = AutomationRun.objects.filter(
        automation=OuterRef("automation"), status=RunStatus.COMPLETED, finished_at__gt=OuterRef("finished_at")
    )
    return AutomationRun.objects.filter(started_at__lt=cutoff).filter(
        Q(status__in=(RunStatus.FAILED, RunStatus.SKIPPED))
        | Q(Exists(later_completed), status=RunStatus.COMPLETED)
    )
