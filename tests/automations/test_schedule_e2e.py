"""The schedule end to end: a real ``celery beat -S django`` and a real worker, both separate processes,
on the test database and broker, fetching from an HTTP server on loopback."""

import pytest

from automations.choices import RunStatus, RunTrigger
from automations.models import AutomationRun
from imports.models import ImportJob
from tests.conftest import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


@pytest.fixture(scope="module")
def worker(celery_worker_process):
    # Its environment allows private networks, so the HTTP source reaches the loopback test server.
    return celery_worker_process


def _finished_run(automation_id):
    return AutomationRun.objects.filter(automation_id=automation_id).exclude(status=RunStatus.RUNNING).first()


@pytest.mark.slow
def test_a_scheduled_run_happens_within_about_seventy_seconds(
    staff_api, worker, beat, http_server, http_source
):
    # Every minute is below the schedule floor: staff may go below it.
    response = staff_api.post(
        "/api/v1/imports/automations",
        {
            "name": "Every minute",
            "supplier_code": "SUPPLIER_A",
            "schedule": "* * * * *",
            "file_source": http_source,
            "mapping": {"EAN": "ean", "Titre": "name", "Prix HT": "price"},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    automation_id = response.json()["id"]

    # The next minute boundary (<= 60 s), beat's 5 s tick, the worker's fetch and job creation.
    run = wait_for(
        lambda: _finished_run(automation_id), timeout=80, interval=1, message="a run fired by the schedule"
    )

    assert run.trigger == RunTrigger.SCHEDULE
    assert run.status == RunStatus.COMPLETED, (run.error, beat.log_path.read_text()[-3000:])
    job = ImportJob.objects.get(pk=run.job_id)
    assert (job.supplier_code, job.created_by_id) == ("SUPPLIER_A", staff_api.user.pk)
    assert http_server.requests, "the worker fetched from the loopback server"


def test_run_now_through_the_api_is_done_by_the_worker(api, worker, http_server, http_source):
    response = api.post(
        "/api/v1/imports/automations",
        {"name": "On demand", "schedule": "0 2 * * *", "file_source": http_source, "is_active": False},
        format="json",
    )
    automation_id = response.json()["id"]

    started = api.post(f"/api/v1/imports/automations/{automation_id}/run")
    assert started.status_code == 202

    run = wait_for(lambda: _finished_run(automation_id), timeout=60, message="the run to finish")
    assert str(run.pk) == started.json()["id"]
    assert run.status == RunStatus.COMPLETED, run.error
    runs = api.get(f"/api/v1/imports/automations/{automation_id}/runs").json()["items"]
    assert runs[0]["status"] == "completed" and runs[0]["job_id"] == str(run.job_id)
