"""The retention policy (issue 16, item 12): real rows at several ages, on the test database.

What is older than PIXEE_RETENTION_DAYS goes: finished imports' stored files, row logs and undo
records, webhook deliveries, automation runs and idempotency keys; what may still be confirmed,
resumed or reverted stays.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from automations import services as automation_services
from automations.models import AutomationRun
from catalog.models import Product, ProductChange
from imports import services
from imports.models import ImportJob, ImportLog
from pixee import retention
from pixee.celery import app
from pixee.models import IdempotencyKey
from pixee.tasks import apply_retention_policy
from tests.factories import (
    AutomationRunFactory,
    IdempotencyKeyFactory,
    ProductFactory,
    UserFactory,
    WebhookAttemptFactory,
    WebhookEventFactory,
    ean13,
)
from tests.imports.helpers import csv_file, run_import
from webhooks.models import WebhookAttempt, WebhookEvent

from .test_settings import _run

pytestmark = pytest.mark.django_db

DAYS = 90
RETENTION_MESSAGE = (
    f"The retention policy ({DAYS} days) removed the stored file, the row logs and the undo records "
    "of this import."
)


@pytest.fixture(autouse=True)
def _retention(settings):
    settings.PIXEE_RETENTION_DAYS = DAYS


def days_ago(days: float):
    return timezone.now() - timedelta(days=days)


def finished(job: ImportJob, days: float) -> ImportJob:
    """``job`` as if it had been created and had finished ``days`` ago."""
    ImportJob.objects.filter(pk=job.pk).update(created_at=days_ago(days + 0.01), completed_at=days_ago(days))
    job.refresh_from_db()
    return job


def row_logs(job: ImportJob):
    return ImportLog.objects.filter(job=job, row_number__isnull=False)


def kept_whole(job: ImportJob) -> bool:
    job.refresh_from_db()
    return job.purged_at is None and bool(job.file) and default_storage.exists(job.file.name)


def test_old_finished_imports_lose_their_file_row_logs_and_undo_records_and_say_so(api):
    ProductFactory(ean=ean13(1), name="Old name")
    job = run_import(f"ean,name\n{ean13(1)},New name\nbad,X\n", user=api.user)
    assert (job.status, job.products_updated, job.failed_rows) == ("completed", 1, 1)
    assert row_logs(job).exists() and ProductChange.objects.filter(job_id=job.pk).exists()
    job = finished(job, DAYS + 1)
    stored = job.file.name

    assert apply_retention_policy()["jobs purged"] == 1

    job.refresh_from_db()
    assert job.purged_at is not None and not job.purge_pending
    assert not job.file and not default_storage.exists(stored)
    assert not row_logs(job).exists()
    assert not ProductChange.objects.filter(job_id=job.pk).exists()
    # The job itself stays, with its counters and its milestones, and says what happened.
    milestones = list(ImportLog.objects.filter(job=job).order_by("id").values_list("message", flat=True))
    assert milestones[0].startswith("Analysis started") and milestones[-1] == RETENTION_MESSAGE
    assert any(m.startswith("Import completed: 0 created, 1 updated") for m in milestones)
    assert api.get(f"/api/v1/imports/jobs/{job.pk}").json()["products_updated"] == 1

    day = f"{job.purged_at:%Y-%m-%d}"
    removed = f"The job's stored file was removed by the retention policy on {day}"
    base = f"/api/v1/imports/jobs/{job.pk}"
    for path, ending in [
        ("preview", "nothing to preview."),
        ("errors.csv", "no error report."),
        ("changes", "its changes can no longer be listed."),
    ]:
        response = api.get(f"{base}/{path}")
        assert response.status_code == 409, path
        assert response.json() == {"detail": f"{removed}: {ending}"}
    response = api.post(f"{base}/revert")
    assert response.status_code == 409
    assert response.json() == {
        "detail": f"The import's undo records were removed by the retention policy on {day}: "
        "it can no longer be reverted."
    }
    assert Product.objects.get(ean=ean13(1)).name == "New name"


def test_what_may_still_be_confirmed_resumed_or_reverted_is_kept(user):
    recent = finished(run_import(f"ean,name\n{ean13(1)},A\nbad,X\n", user=user), DAYS - 1)
    ready = run_import(f"ean,name\n{ean13(2)},B\nbad,X\n", user=user, dry_run=True)
    ImportJob.objects.filter(pk=ready.pk).update(created_at=days_ago(3 * DAYS))  # waits at ready
    paused = services.import_job_create(user=user, file=csv_file(f"ean,name\n{ean13(3)},C\n"), enqueue=False)
    services.import_job_pause(job=paused)
    ImportJob.objects.filter(pk=paused.pk).update(created_at=days_ago(3 * DAYS))
    reverted = finished(run_import(f"ean,name\n{ean13(4)},D\n", user=user), 2 * DAYS)
    services.import_job_revert(job=reverted)
    services.import_job_revert_run(job_id=reverted.pk)  # reverted now: the clock restarts
    reverting = finished(run_import(f"ean,name\n{ean13(5)},E\n", user=user), 2 * DAYS)
    ImportJob.objects.filter(pk=reverting.pk).update(revert_requested_at=timezone.now())
    failed = finished(run_import("Artikel,Text\nABC,Heft\n", user=user), DAYS + 1)

    deleted = retention.retention_apply()

    assert deleted["jobs purged"] == 1
    failed.refresh_from_db()
    assert failed.purged_at is not None and not failed.file  # failed long ago: nothing to wait for
    for job in (recent, ready, paused, reverted, reverting):
        assert kept_whole(job), job.status
    assert row_logs(recent).exists() and row_logs(ready).exists()
    # The dry run that waited three periods at ready still confirms into the import it announced.
    services.import_job_confirm(job=ready)
    ready = services.import_job_run(job_id=ready.pk)
    assert (ready.status, ready.products_created, ready.failed_rows) == ("completed", 1, 1)


def _event(status: str, days: float, attempts: int = 0) -> WebhookEvent:
    event = WebhookEventFactory(
        subscription=None,
        payload={},
        url="https://93.184.215.14/hook",
        status=status,
        created_at=days_ago(days),
    )
    for number in range(1, attempts + 1):
        WebhookAttemptFactory(event=event, number=number, status_code=500)
    return event


def _run_of(automation, status: str, days: float) -> AutomationRun:
    return AutomationRunFactory(
        automation=automation,
        status=status,
        started_at=days_ago(days),
        finished_at=None if status == "running" else days_ago(days - 0.001),
        checksum="ab" * 32 if status == "completed" else "",
    )


def test_old_deliveries_runs_and_idempotency_keys_go_and_the_rest_stays(user):
    delivered = _event("delivered", DAYS + 1, attempts=1)
    given_up = _event("failed", DAYS + 5, attempts=8)
    pending = _event("pending", DAYS + 1, attempts=3)  # still being retried
    recent = _event("failed", DAYS - 1, attempts=2)

    automation = automation_services.automation_create(
        user=user,
        name="Nightly",
        schedule="0 2 * * *",
        file_source={"type": "http", "url": "https://93.184.215.14/f.csv"},
    )
    older_completed = _run_of(automation, "completed", DAYS + 30)
    old_failed = _run_of(automation, "failed", DAYS + 20)
    latest_completed = _run_of(automation, "completed", DAYS + 10)  # the next run compares with it
    old_skipped = _run_of(automation, "skipped", DAYS + 5)
    stuck = _run_of(automation, "running", DAYS + 1)
    recent_failed = _run_of(automation, "failed", 1)

    old_key = IdempotencyKeyFactory(user=user, scope="imports.job", key="old", fingerprint="f")
    new_key = IdempotencyKeyFactory(user=user, scope="imports.job", key="new", fingerprint="f")
    IdempotencyKey.objects.filter(pk=old_key.pk).update(created_at=days_ago(DAYS + 1))

    deleted = retention.retention_apply()

    assert (deleted["webhook deliveries"], deleted["automation runs"], deleted["idempotency keys"]) == (
        2,
        3,
        1,
    )
    assert set(WebhookEvent.objects.values_list("pk", flat=True)) == {pending.pk, recent.pk}
    assert not WebhookAttempt.objects.filter(event_id__in=[delivered.pk, given_up.pk]).exists()
    assert WebhookAttempt.objects.filter(event=pending).count() == 3
    assert set(AutomationRun.objects.values_list("pk", flat=True)) == {
        latest_completed.pk,
        stuck.pk,
        recent_failed.pk,
    }
    assert not {older_completed.pk, old_failed.pk, old_skipped.pk} & set(
        AutomationRun.objects.values_list("pk", flat=True)
    )
    assert list(IdempotencyKey.objects.values_list("pk", flat=True)) == [new_key.pk]
    # Run again: nothing more to do, nothing fails.
    assert not any(retention.retention_apply().values())


def test_one_apps_purge_failing_does_not_stop_the_others_and_the_run_reports_it(user, monkeypatch, caplog):
    def storage_down(cutoff):
        raise OSError("the storage does not answer")

    # First in line, as if the first app's purge could not reach its storage.
    monkeypatch.setattr(retention, "_PURGES", [storage_down, *retention._PURGES])
    job = finished(run_import(f"ean,name\n{ean13(1)},A\nbad,X\n", user=user), DAYS + 1)
    _event("delivered", DAYS + 1, attempts=1)
    old_key = IdempotencyKey.objects.create(user=user, scope="imports.job", key="old", fingerprint="f")
    IdempotencyKey.objects.filter(pk=old_key.pk).update(created_at=days_ago(DAYS + 1))

    with pytest.raises(retention.RetentionIncomplete, match="storage_down failed") as caught:
        apply_retention_policy()  # the task fails, so the worker's log and result say so

    job.refresh_from_db()
    assert job.purged_at is not None and not row_logs(job).exists()
    assert not WebhookEvent.objects.exists() and not IdempotencyKey.objects.exists()
    assert "'webhook deliveries': 1" in str(caught.value)
    [failure] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert "storage_down failed" in failure.getMessage() and failure.exc_info is not None


def test_rows_are_deleted_in_bounded_chunks(user, monkeypatch):
    monkeypatch.setattr(retention, "CHUNK", 4)
    rows = "".join(f"bad{n},X\n" for n in range(10))
    job = finished(run_import(f"ean,name\n{ean13(1)},A\n{rows}", user=user), DAYS + 1)
    assert row_logs(job).count() == 10
    with CaptureQueriesContext(connection) as queries:
        retention.retention_apply()
    assert not row_logs(job).exists()
    deletes = [
        q["sql"] for q in queries.captured_queries if q["sql"].startswith('DELETE FROM "imports_importlog"')
    ]
    assert len(deletes) == 3  # 4 + 4 + 2, never all at once


def test_a_purge_left_half_way_is_finished_by_the_next_run(user):
    job = finished(run_import(f"ean,name\n{ean13(1)},A\nbad,X\n", user=user), DAYS + 1)
    # What a run stopped after claiming the job leaves: the claim, and all the data.
    ImportJob.objects.filter(pk=job.pk).update(purged_at=timezone.now(), purge_pending=True)
    stored = job.file.name

    deleted = retention.retention_apply()

    assert (deleted["jobs purged"], deleted["import logs"]) == (0, 1)
    job.refresh_from_db()
    assert not job.purge_pending and not job.file and not default_storage.exists(stored)


@pytest.mark.django_db(transaction=True)
def test_runs_at_the_same_time_share_the_work_and_delete_everything_once(monkeypatch, settings):
    settings.PIXEE_RETENTION_DAYS = DAYS
    monkeypatch.setattr(retention, "CHUNK", 5)
    user = UserFactory()
    rows = "".join(f"bad{n},X\n" for n in range(60))
    jobs = [finished(run_import(f"ean,name\n{ean13(n)},A\n{rows}", user=user), DAYS + 1) for n in range(3)]
    for _ in range(40):
        _event("delivered", DAYS + 1, attempts=2)

    def run() -> dict[str, int]:
        try:
            return retention.retention_apply()
        finally:
            connection.close()  # the thread's own connection

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = [pool.submit(run) for _ in range(2)]
        results = [future.result(timeout=120) for future in runs]  # a run's exception fails here
    retention.retention_apply()  # whatever a run left to another one that had finished
    assert sum(r["jobs purged"] for r in results) == 3
    assert sum(r["webhook deliveries"] for r in results) == 40
    assert sum(r["import logs"] for r in results) <= 3 * 60  # each row deleted once
    assert not ImportLog.objects.filter(job__in=jobs, row_number__isnull=False).exists()
    assert not WebhookEvent.objects.exists() and not WebhookAttempt.objects.exists()
    assert ImportJob.objects.filter(purge_pending=False, purged_at__isnull=False).count() == 3


def test_zero_days_keeps_everything(user, settings):
    settings.PIXEE_RETENTION_DAYS = 0
    job = finished(run_import(f"ean,name\n{ean13(1)},A\n", user=user), 10 * DAYS)
    _event("delivered", 10 * DAYS)
    assert retention.retention_apply() == {}
    assert kept_whole(job) and WebhookEvent.objects.exists()


@pytest.mark.parametrize("value", ["-1", "ninety", "1.5", ""])
def test_a_retention_that_is_not_a_whole_number_of_days_stops_the_start(value):
    result = _run({"DEBUG": "true", "PIXEE_RETENTION_DAYS": value}, "check")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        f"PIXEE_RETENTION_DAYS must be a whole number of days (0 keeps everything), not {value!r}."
    )


def test_the_policy_is_applied_by_beat_every_hour():
    task = PeriodicTask.objects.get(task="pixee.tasks.apply_retention_policy")
    assert task.enabled and (task.interval.every, task.interval.period) == (1, "hours")
    app.loader.import_default_modules()
    assert "pixee.tasks.apply_retention_policy" in app.tasks
