"""Reads on automations: lists with their last run, runs newest first, schedule previews."""

from __future__ import annotations

from datetime import datetime

from django.db.models import OuterRef, QuerySet, Subquery

from .models import Automation, AutomationRun
from .schedule import ScheduleError, describe, next_runs


def automation_list(*, automations: QuerySet) -> QuerySet:
    """``automations`` (already scoped to the caller), newest first, with their last run's status and time."""
    last = AutomationRun.objects.filter(automation=OuterRef("pk")).order_by("-started_at")
    return automations.annotate(
        last_run_status=Subquery(last.values("status")[:1]),
        last_run_at=Subquery(last.values("started_at")[:1]),
    ).order_by("-created_at", "-id")


def automation_run_list(*, automation: Automation) -> QuerySet:
    """The automation's runs, newest first."""
    return AutomationRun.objects.filter(automation=automation).order_by("-started_at", "-id")


def automation_next_runs(*, automation: Automation, count: int = 3) -> list[datetime]:
    """When the schedule fires next (empty while the automation is inactive)."""
    if not automation.is_active:
        return []
    try:
        return next_runs(automation.schedule, automation.timezone, count=count)
    except (ScheduleError, ValueError):
        return []


def automation_schedule_description(*, automation: Automation) -> str:
    return describe(automation.schedule)
