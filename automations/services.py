"""Writes on automations and their runs. The API, the admin and the task all come through here,
so the periodic task that beat reads can never drift from the automation it belongs to.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from imports.choices import OnInvalidValue
from imports.mapping import MappingError, validate_explicit_mapping
from imports.services import UploadRejected, import_job_create
from pixee.celery import enqueue_task
from pixee.errors import Conflict, PayloadTooLarge
from pixee.events import announce

from .choices import RunStatus, RunTrigger
from .models import Automation, AutomationRun
from .schedule import (
    CronFields,
    ScheduleError,
    normalize,
    parse_cron,
    shortest_interval_minutes,
    validate_timezone,
)
from .signals import automation_failed
from .sources import (
    Download,
    FileSource,
    Probe,
    ProbeFinished,
    SourceConfigError,
    SourceError,
    source_from_values,
)
from .sources.base import STALE_AFTER

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

TASK_NAME = "automations.tasks.run_automation"


class AutomationInvalid(ValueError):
    """Input that cannot be saved: ``errors`` maps each field (``file_source`` nested) to messages."""

    def __init__(self, errors: dict[str, Any]):
        super().__init__(json.dumps(errors))
        self.errors = errors


class RunInProgress(Conflict):
    """The automation already has a run in flight (HTTP 409)."""


# --- automations -----------------------------------------------------------------------------


def automation_clean(
    *,
    name: str,
    supplier_code: str,
    schedule: str,
    timezone_name: str,
    file_source: dict[str, Any],
    mapping: dict[str, Any],
    on_invalid_value: str = OnInvalidValue.SKIP_ROW,
    actor: User | None = None,
) -> dict[str, Any]:
    """All of an automation's settings checked together; ``AutomationInvalid`` names each fault.

    ``actor`` is who saves it: the schedule floor applies unless it is staff. The cleaned
    ``source`` is the ``FileSource`` that ``file_source`` describes.
    """
    errors: dict[str, Any] = {}
    cleaned: dict[str, Any] = {"name": (name or "").strip(), "supplier_code": (supplier_code or "").strip()}
    if not cleaned["name"]:
        errors["name"] = ["name is required."]
    try:
        fields = parse_cron(schedule)
        _check_schedule_floor(fields, actor)
        cleaned["schedule"] = normalize(schedule)
    except ScheduleError as exc:
        errors["schedule"] = [str(exc)]
    try:
        cleaned["timezone"] = validate_timezone(timezone_name)
    except ScheduleError as exc:
        errors["timezone"] = [str(exc)]
    try:
        cleaned["mapping"] = validate_explicit_mapping(mapping)
    except MappingError as exc:
        errors["mapping"] = [str(exc)]
    try:
        cleaned["source"] = source_from_values(file_source)
    except SourceConfigError as exc:
        errors["file_source"] = exc.errors
    if on_invalid_value in OnInvalidValue.values:
        cleaned["on_invalid_value"] = on_invalid_value
    else:
        errors["on_invalid_value"] = [
            f"on_invalid_value must be one of {', '.join(OnInvalidValue.values)}; got {on_invalid_value!r}."
        ]
    if errors:
        raise AutomationInvalid(errors)
    return cleaned


def _check_schedule_floor(fields: CronFields, actor: User | None) -> None:
    floor = settings.PIXEE_AUTOMATION_MIN_INTERVAL_MINUTES
    if actor is not None and actor.is_staff:
        return
    interval = shortest_interval_minutes(fields)
    if interval < floor:
        raise ScheduleError(
            f"The schedule runs every {interval} minute(s); automations may run at most every "
            f"{floor} minutes (PIXEE_AUTOMATION_MIN_INTERVAL_MINUTES)."
        )


def _check_automation_cap(user: User) -> None:
    """Refuse one automation too many; the caller holds the user's row lock (no race past the cap)."""
    cap = settings.PIXEE_AUTOMATIONS_PER_USER
    if Automation.objects.filter(created_by=user).count() >= cap:
        raise AutomationInvalid(
            {
                "non_field_errors": [
                    f"You already have {cap} automations, the most allowed per user; delete one first."
                ]
            }
        )


def automation_create(
    *,
    user: User,
    name: str,
    schedule: str,
    file_source: dict[str, Any],
    supplier_code: str = "",
    timezone_name: str | None = None,
    mapping: dict[str, Any] | None = None,
    on_invalid_value: str = OnInvalidValue.SKIP_ROW,
    is_active: bool = True,
) -> Automation:
    """Create an automation and its periodic task (enabled when ``is_active``)."""
    cleaned = automation_clean(
        name=name,
        supplier_code=supplier_code,
        schedule=schedule,
        timezone_name=timezone_name or settings.TIME_ZONE,
        file_source=file_source,
        mapping=mapping or {},
        on_invalid_value=on_invalid_value,
        actor=user,
    )
    automation = Automation(created_by=user, is_active=is_active)
    _apply(automation, cleaned)
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        _check_automation_cap(user)
        automation.save()
        _schedule_sync(automation)
    logger.info("Automation %s created by user %s.", automation.pk, getattr(user, "pk", None))
    return automation


def automation_update(
    *,
    automation: Automation,
    name: str | None = None,
    supplier_code: str | None = None,
    schedule: str | None = None,
    timezone_name: str | None = None,
    file_source: dict[str, Any] | None = None,
    mapping: dict[str, Any] | None = None,
    on_invalid_value: str | None = None,
    is_active: bool | None = None,
    actor: User | None = None,
) -> Automation:
    """Change what is given (``None`` keeps a value) and bring the periodic task in step.

    ``actor`` (default: the owner) decides the schedule floor, which staff may go below.

    ``file_source`` is merged into the current one: a key left out keeps its value (so secrets
    need not be re-sent); ``""`` or ``None`` sets it back to its default (a secret: none).
    Changing ``type`` replaces the whole source.
    """
    current = automation.source().values()
    source = dict(current)
    if file_source is not None:
        if file_source.get("type") and file_source["type"] != current["type"]:
            source = {}
        source.update(file_source)
    cleaned = automation_clean(
        name=automation.name if name is None else name,
        supplier_code=automation.supplier_code if supplier_code is None else supplier_code,
        schedule=automation.schedule if schedule is None else schedule,
        timezone_name=automation.timezone if timezone_name is None else timezone_name,
        file_source=source,
        mapping=automation.mapping if mapping is None else mapping,
        on_invalid_value=automation.on_invalid_value if on_invalid_value is None else on_invalid_value,
        actor=actor or automation.created_by,
    )
    _apply(automation, cleaned)
    if is_active is not None:
        automation.is_active = is_active
    with transaction.atomic():
        automation.save()
        _schedule_sync(automation)
    return automation


def automation_set_active(*, automation: Automation, is_active: bool) -> Automation:
    """Enable or disable the automation's schedule (Run now works either way)."""
    automation.is_active = is_active
    with transaction.atomic():
        automation.save(update_fields=["is_active", "updated_at"])
        _schedule_sync(automation)
    return automation


def automation_delete(*, automation: Automation) -> None:
    """Delete the automation, its runs and its periodic task (see ``automation_schedule_remove``)."""
    with transaction.atomic():
        automation.delete()


def automation_schedule_remove(*, periodic_task_id: int | None) -> None:
    """Remove an automation's periodic task and crontab.

    Connected to ``post_delete`` (apps.py), so every way an automation disappears, its owner's
    deletion included, takes its schedule along.
    """
    if periodic_task_id is None:
        return
    task = PeriodicTask.objects.filter(pk=periodic_task_id).select_related("crontab").first()
    if task is None:
        return
    crontab = task.crontab
    task.delete()
    if crontab is not None and not PeriodicTask.objects.filter(crontab=crontab).exists():
        crontab.delete()


def automation_pin_host_key(*, automation: Automation, host_key: str | None = None) -> Automation:
    """Pin ``host_key`` (a key line or ``SHA256:`` fingerprint), else the one the latest failed run saw."""
    if host_key is None:
        run = (
            automation.runs.filter(status=RunStatus.FAILED)
            .exclude(host_key="")
            .order_by("-started_at")
            .first()
        )
        if run is None:
            raise Conflict("No failed run of this automation reported a host key to pin.")
        host_key = run.host_key
    return automation_update(automation=automation, file_source={"host_key": host_key})


def _apply(automation: Automation, cleaned: dict[str, Any]) -> None:
    for name in ("name", "supplier_code", "schedule", "timezone", "mapping", "on_invalid_value"):
        setattr(automation, name, cleaned[name])
    source: FileSource = cleaned["source"]
    automation.source_type, automation.source_config = source.type, source.settings.to_config()


def _schedule_sync(automation: Automation) -> None:
    """Make the automation's periodic task and crontab say what the automation says."""
    task = automation.periodic_task or PeriodicTask.objects.filter(name=_task_name(automation)).first()
    crontab, schedule_changed = _crontab_sync(automation, task.crontab if task is not None else None)
    task = _periodic_task_sync(automation, task, crontab, schedule_changed=schedule_changed)
    if automation.periodic_task_id != task.pk:
        automation.periodic_task = task
        Automation.objects.filter(pk=automation.pk).update(periodic_task=task)


def _task_name(automation: Automation) -> str:
    return f"automation:{automation.pk}"


def _crontab_sync(automation: Automation, crontab: CrontabSchedule | None) -> tuple[CrontabSchedule, bool]:
    """The automation's own crontab, created or brought in step, and whether its schedule changed."""
    fields = parse_cron(automation.schedule)
    wanted = {
        "minute": fields.minute,
        "hour": fields.hour,
        "day_of_month": fields.day_of_month,
        "month_of_year": fields.month_of_year,
        "day_of_week": fields.day_of_week,
    }
    if crontab is None:
        return CrontabSchedule.objects.create(**wanted, timezone=automation.timezone), True
    if (
        all(str(getattr(crontab, key)) == value for key, value in wanted.items())
        and str(crontab.timezone) == automation.timezone
    ):
        return crontab, False
    for key, value in wanted.items():
        setattr(crontab, key, value)
    crontab.timezone = automation.timezone
    crontab.save()
    return crontab, True


def _periodic_task_sync(
    automation: Automation, task: PeriodicTask | None, crontab: CrontabSchedule, *, schedule_changed: bool
) -> PeriodicTask:
    """The periodic task that fires the automation, saved only when something changed: each save
    makes beat reload every schedule."""
    wanted = {
        "task": TASK_NAME,
        "args": json.dumps([str(automation.pk)]),
        "enabled": automation.is_active,
        "description": f"Automation {automation.name!r}"[:200],
    }
    if task is None:
        task = PeriodicTask(name=_task_name(automation))
    elif (
        not schedule_changed
        and task.crontab_id == crontab.pk
        and all(getattr(task, key) == value for key, value in wanted.items())
    ):
        return task
    for key, value in wanted.items():
        setattr(task, key, value)
    task.crontab = crontab
    if schedule_changed:
        # Beat would otherwise measure the new schedule from the old one's last run and may fire at once.
        task.last_run_at = None
    task.save()  # its pre_save signal tells beat to reload
    return task


# --- runs ------------------------------------------------------------------------------------


def automation_run_request(*, automation: Automation, force: bool = False) -> AutomationRun:
    """Run now (API, admin): the run starts here, a worker fetches once the transaction commits.

    ``force`` imports the file even when it is identical to the last completed run's.
    Raises ``RunInProgress`` while another run is in flight.
    """
    run = _run_start(automation_id=automation.pk, trigger=RunTrigger.MANUAL)
    automation_id, run_id = str(automation.pk), str(run.pk)
    transaction.on_commit(
        lambda: enqueue_task("automations.tasks.run_automation", automation_id, run_id=run_id, force=force)
    )
    return run


def automation_run(*, automation_id: Any, run_id: Any = None, force: bool = False) -> AutomationRun | None:
    """Fetch the automation's file and create an import job from it: what the schedule fires.

    One run at a time per automation: a scheduled firing during a run is dropped (logged).
    ``completed`` means the file was fetched and its import job created; the job has its own status.
    """
    run: AutomationRun | None
    if run_id is None:
        try:
            run = _run_start(automation_id=automation_id, trigger=RunTrigger.SCHEDULE)
        except Automation.DoesNotExist:
            logger.warning("Automation %s no longer exists; its schedule fired for nothing.", automation_id)
            return None
        except RunInProgress as exc:
            logger.info("Automation %s: scheduled run not started: %s", automation_id, exc)
            return None
    else:
        run = (
            AutomationRun.objects.select_related("automation")
            .filter(pk=run_id, status=RunStatus.RUNNING)
            .first()
        )
        if run is None:
            return None  # already finished: a redelivered task
    automation = run.automation
    try:
        source = automation.source()
        with Download() as download:
            file_name = source.fetch(download)
            return _run_complete(run, download, file_name, force=force)
    except SourceError as exc:
        return _run_fail(run, str(exc), host_key=exc.host_key)
    except SourceConfigError as exc:
        return _run_fail(run, str(exc))
    except Exception:
        # The run must end whatever happens, or it would block the next ones until presumed lost.
        logger.exception("Automation %s run %s: unexpected error.", automation.pk, run.pk)
        return _run_fail(run, "The run failed on an unexpected error; the worker's log has the details.")


def _run_start(*, automation_id: Any, trigger: str) -> AutomationRun:
    with transaction.atomic():
        # The row lock serialises starts; the partial unique index is the guarantee behind it.
        automation = Automation.objects.select_for_update().get(pk=automation_id)
        running = AutomationRun.objects.filter(automation=automation, status=RunStatus.RUNNING).first()
        if running is not None:
            if running.started_at > timezone.now() - timedelta(seconds=STALE_AFTER):
                started = f"{running.started_at:%Y-%m-%d %H:%M:%S} UTC"
                raise RunInProgress(f"A run of this automation is in progress (started {started}).")
            _run_fail(
                running,
                f"The run was presumed lost: it had not finished after {STALE_AFTER // 60} minutes "
                "(was its worker stopped?).",
            )
        try:
            with transaction.atomic():
                run = AutomationRun.objects.create(automation=automation, trigger=trigger)
        except IntegrityError:
            raise RunInProgress("A run of this automation is in progress.") from None
    run.automation = automation
    return run


def _run_complete(run: AutomationRun, download: Download, file_name: str, *, force: bool) -> AutomationRun:
    automation = run.automation
    with transaction.atomic():
        # Only the holder of the running row finishes it: a duplicate delivery creates no second job.
        locked = AutomationRun.objects.select_for_update().filter(pk=run.pk, status=RunStatus.RUNNING).first()
        if locked is None:
            return run
        previous = (
            AutomationRun.objects.filter(automation=automation, status=RunStatus.COMPLETED)
            .order_by("-finished_at")
            .first()
        )
        locked.bytes, locked.checksum = download.size, download.sha256
        locked.finished_at = timezone.now()
        if previous is not None and previous.checksum == download.sha256 and not force:
            locked.status = RunStatus.SKIPPED
            locked.error = skipped_reason(previous)
        else:
            try:
                with download.path.open("rb") as fileobj:
                    locked.job = import_job_create(
                        user=automation.created_by,
                        file=File(fileobj, name=file_name),
                        file_name=file_name,
                        supplier_code=automation.supplier_code,
                        mapping=automation.mapping,
                        on_invalid_value=automation.on_invalid_value,
                    )
            except (UploadRejected, PayloadTooLarge) as exc:
                raise SourceError(f"The fetched file {file_name!r} cannot be imported: {exc}") from None
            locked.status = RunStatus.COMPLETED
        locked.save()
    logger.info(
        "Automation %s run %s %s: %s bytes, sha256 %s, job %s.",
        automation.pk,
        locked.pk,
        locked.status,
        locked.bytes,
        locked.checksum,
        locked.job_id,
    )
    return locked


def skipped_reason(previous: AutomationRun) -> str:
    """Why a run imported nothing: the file is the one the named run already imported."""
    when = previous.started_at.astimezone(UTC)
    return (
        f"Unchanged since the run of {when:%Y-%m-%d %H:%M} UTC (same SHA-256, {previous.checksum[:12]}…): "
        "nothing to import. Run now with force to import it again."
    )


@dataclass(frozen=True)
class SourceTestResult:
    """What testing a source found: whether the file is there, its size and modification time."""

    ok: bool
    size: int | None = None
    modified_at: datetime | None = None
    error: str | None = None


def automation_source_test(*, source: FileSource) -> SourceTestResult:
    """Connect, authenticate and find the file as a run would, importing nothing (Test connection)."""
    try:
        probe = Probe()
        with probe:
            try:
                source.fetch(probe)
            except ProbeFinished:
                return SourceTestResult(ok=True, size=probe.announced_size, modified_at=probe.modified_at)
        # A source that did not announce the file before sending it (never expected): it is there.
        return SourceTestResult(ok=True, size=probe.size)
    except SourceError as exc:
        return SourceTestResult(ok=False, error=str(exc))


def automation_source_values_test(*, file_source: dict[str, Any]) -> SourceTestResult:
    """Test a ``file_source`` as the API or the admin form gives it, before it is saved."""
    try:
        source = source_from_values(file_source)
    except SourceConfigError as exc:
        return SourceTestResult(ok=False, error=str(exc))
    return automation_source_test(source=source)


def automation_test(*, automation: Automation) -> SourceTestResult:
    """Test a saved automation's file source (``POST /imports/automations/{id}/test``)."""
    try:
        source = automation.source()
    except SourceConfigError as exc:
        return SourceTestResult(ok=False, error=str(exc))
    return automation_source_test(source=source)


def _run_fail(run: AutomationRun, error: str, *, host_key: str = "") -> AutomationRun:
    automation = run.automation
    with transaction.atomic():
        updated = AutomationRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED, error=error, host_key=host_key, finished_at=timezone.now()
        )
        run.refresh_from_db()
        if updated:
            # In the run's transaction: the failure and its event commit together.
            announce(automation_failed, sender=Automation, automation=automation, run=run, error=error)
    if updated:
        logger.warning("Automation %s run %s failed: %s", automation.pk, run.pk, error)
    return run
