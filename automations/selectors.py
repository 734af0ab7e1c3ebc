"""Reads on automations: lists with their last run, runs newest first, schedule previews."""

from __future__ import annotations

from datetime import datetime

from django.db.models import OuterRef, QuerySet, Subquery

from .choices import RunStatus
from .models import Automation, AutomationRun
from .schedule import ScheduleError, describe, next_runs, parse_cron, validate_timezone
from .sources import SourceConfigError
from .sources.sftp import parse_host_key


def automation_list(*, automations: QuerySet) -> QuerySet:
    """``automations`` (already scoped to the caller), newest first, with their last run's status and time."""
    last = AutomationRun.objects.filter(automation=OuterRef("pk")).order_by("-started_at")
    return automations.annotate(
        last_run_status=Subquery(last.values("status")[:1]),
        last_run_at=Subquery(last.values("started_at")[:1]),
    ).order_by("-created_at", "-id")


def automation_ids_by_location(*, automations: QuerySet, term: str) -> list:
    """The ids of ``automations`` whose source location (host, path, URL) contains ``term``.

    The source settings are encrypted, so the database cannot search them: they are read here.
    """
    term = term.casefold()
    found = []
    for automation in automations.select_related(None).only("pk", "source_type", "source_config"):
        try:
            location = automation.source().location
        except SourceConfigError:
            continue
        if term in location.casefold():
            found.append(automation.pk)
    return found


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


def schedule_preview(*, schedule: str, timezone_name: str, count: int = 3) -> tuple[str, list[datetime]]:
    """A schedule as it is being typed: its description and next runs.

    ``ScheduleError`` with the sentence the save would give, so the form can show it at once.
    """
    parse_cron(schedule)
    tz_name = validate_timezone(timezone_name)
    return describe(schedule), next_runs(schedule, tz_name, count=count)


def automation_last_run(*, automation: Automation) -> AutomationRun | None:
    return automation_run_list(automation=automation).select_related("job").first()


def automation_host_key_to_pin(*, automation: Automation) -> AutomationRun | None:
    """The latest run when it failed on an SFTP host key it reported (what the operator may pin).

    Only the latest: once a later run got past the host key, an older report is stale. None once
    that key is pinned (the next run will tell whether it was the right one).
    """
    last = automation_last_run(automation=automation)
    if last is None or last.status != RunStatus.FAILED or not last.host_key:
        return None
    pinned = automation.source().values().get("host_key")
    if pinned and _fingerprint(pinned) == _fingerprint(last.host_key):
        return None
    return last


def _fingerprint(host_key: str) -> str | None:
    try:
        return parse_host_key(host_key).fingerprint
    except ValueError:
        return None
