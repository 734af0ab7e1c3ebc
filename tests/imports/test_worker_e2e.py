"""The spec's path end to end on PostgreSQL + Redis with a real Celery worker process."""

import pytest

from catalog.models import Product
from tests.conftest import wait_for
from tests.factories import ean13

from .helpers import upload

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def job_status(api, job_id, *statuses):
    body = api.get(f"/api/v1/imports/jobs/{job_id}").json()
    return body if body["status"] in statuses else None


def test_uploaded_csv_is_imported_by_the_worker(api, celery_worker_process):
    rows = "".join(f"{ean13(n)};Produit {n};{n},99\n" for n in range(50))
    response = upload(api, "EAN;Titre;Prix HT\n" + rows + "123ABC7890;Bad;1\n", supplier_code="SUPPLIER_A")
    assert response.status_code == 201
    job_id = response.json()["id"]
    body = wait_for(
        lambda: job_status(api, job_id, "completed", "failed"), timeout=60, message="the job to finish"
    )
    assert body["status"] == "completed", body["error_summary"]
    assert (body["total_rows"], body["successful_rows"], body["failed_rows"]) == (51, 50, 1)
    assert (body["products_created"], body["products_updated"]) == (50, 0)
    assert body["error_summary"] == "1 row failed: 1 EAN format invalid"
    assert Product.objects.filter(supplier_code="SUPPLIER_A").count() == 50

    # The same file again: everything unchanged.
    job_id = upload(api, "EAN;Titre;Prix HT\n" + rows, supplier_code="SUPPLIER_A").json()["id"]
    body = wait_for(
        lambda: job_status(api, job_id, "completed", "failed"), timeout=60, message="the re-import"
    )
    assert (body["products_created"], body["products_updated"], body["products_unchanged"]) == (0, 0, 50)


def test_dry_run_waits_at_ready_then_confirm_imports(api, celery_worker_process):
    job_id = upload(api, f"ean,name\n{ean13(1)},A\n{ean13(2)},B\n", dry_run="true").json()["id"]
    body = wait_for(lambda: job_status(api, job_id, "ready", "failed"), timeout=60, message="ready")
    assert body["products_created"] == 2 and not Product.objects.exists()
    assert api.post(f"/api/v1/imports/jobs/{job_id}/confirm").json() == {"id": job_id, "status": "processing"}
    body = wait_for(lambda: job_status(api, job_id, "completed", "failed"), timeout=60, message="completion")
    assert body["products_created"] == 2
    assert Product.objects.count() == 2


@pytest.fixture
def broker_down():
    """This process's Celery app pointed at a loopback port where no broker listens, then restored."""
    from pixee.celery import app
    from tests.automations.servers import closed_port

    def reconnect(url):
        # The write URL: CELERY_BROKER_URL in the environment would win over broker_url.
        app.conf.broker_write_url = url
        app._pool = None
        app.amqp._producer_pool = None

    reconnect(f"redis://127.0.0.1:{closed_port()}/1")
    yield lambda: reconnect(None)
    reconnect(None)


@pytest.mark.slow
def test_an_upload_during_a_broker_outage_is_kept_and_completes_when_the_broker_is_back(
    api, celery_worker_process, broker_down, settings
):
    from imports import services
    from imports.models import ImportJob

    response = upload(api, f"ean,name\n{ean13(1)},Kept\n")
    assert response.status_code == 201, response.content
    assert response["Content-Type"] == "application/json"
    job = ImportJob.objects.get(pk=response.json()["id"])
    assert job.status == "pending"
    assert job.file and job.file.storage.exists(job.file.name), "the stored file was kept"

    broker_down()  # the broker is back
    settings.PIXEE_JOB_HEARTBEAT_TIMEOUT = 0
    assert str(job.pk) in services.import_jobs_sweep()
    body = wait_for(
        lambda: job_status(api, str(job.pk), "completed", "failed"), timeout=60, message="the job to finish"
    )
    assert body["status"] == "completed", body["error_summary"]
    assert Product.objects.filter(name="Kept").count() == 1
