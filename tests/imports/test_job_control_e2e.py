"""Pause, resume, cancel and crash recovery with real worker processes (issue 5)."""

import threading
import time
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from catalog.models import Product
from imports import services
from imports.models import ImportJob, ImportLog
from tests.conftest import holds_for, wait_for
from tests.factories import ProductFactory, ean13

from .helpers import run_import, upload

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker, pytest.mark.slow]

CHUNK = 500
ROWS = 30_000


@pytest.fixture(scope="module")
def worker_env():
    return {"PIXEE_IMPORT_CHUNK_SIZE": str(CHUNK), "PIXEE_JOB_HEARTBEAT_TIMEOUT": "2"}


@pytest.fixture
def small_chunks(settings):
    settings.PIXEE_IMPORT_CHUNK_SIZE = CHUNK
    settings.PIXEE_JOB_HEARTBEAT_TIMEOUT = 2


def catalog_file(rows: int = ROWS) -> str:
    """New, changed, unchanged, invalid and duplicate rows, so every counter is exercised."""
    lines = ["ean;name;price;stock"]
    for n in range(rows):
        if n % 997 == 0:
            lines.append(f"bad{n};Invalid {n};1;1")
        elif n % 1009 == 0:
            lines.append(f"{ean13(n - 1)};Duplicate {n};1;1")
        else:
            lines.append(f"{ean13(n)};Product {n};{n % 100},{n % 10}0;{n % 50}")
    return "\n".join(lines) + "\n"


def seed_catalog():
    for n in range(1, 200, 7):
        ProductFactory(ean=ean13(n), name=f"Product {n}", price=Decimal(f"{n % 100}.{n % 10}0"), stock=n % 50)
    for n in range(2, 200, 7):
        ProductFactory(ean=ean13(n), name="Outdated", price=Decimal("0.01"))


def snapshot(job: ImportJob):
    products = list(
        Product.objects.order_by("ean").values_list("ean", "name", "price", "stock", "attributes")
    )
    row_logs = list(
        ImportLog.objects.filter(job=job, row_number__isnull=False)
        .order_by("row_number", "field", "message")
        .values_list("row_number", "level", "field", "message", "value")
    )
    counters = (
        job.status,
        job.total_rows,
        job.successful_rows,
        job.failed_rows,
        job.products_created,
        job.products_updated,
        job.products_unchanged,
        job.processed_rows,
    )
    return counters, products, row_logs


@pytest.fixture
def reference(small_chunks):
    """The uninterrupted run of the file, in-process, on a freshly seeded catalog; then reset."""
    seed_catalog()
    job = run_import(catalog_file(), supplier_code="SUP")
    expected = snapshot(job)
    assert expected[0][0] == "completed"
    Product.objects.all().delete()
    seed_catalog()
    return expected


def status_of(job_id):
    return ImportJob.objects.get(pk=job_id)


def stopped(job_id, status: str) -> ImportJob:
    """The job once the run that held it has let go (its lease released on the way out).

    From then on the chunk that was in flight has either committed before the status change or
    rolled back, and no run holds the job, so its counters and the catalog are final for now.
    """
    return wait_for(
        lambda: (j := status_of(job_id)).status == status and j.lease_token is None and j,
        timeout=30,
        message=f"the worker to stop the {status} job and release its lease",
    )


def test_kill_9_during_analysis_and_processing_then_recovery(api, start_worker, worker_env, reference):
    worker = start_worker(**worker_env)
    job_id = upload(api, catalog_file(), supplier_code="SUP").json()["id"]

    # Kill in the middle of the analysis.
    wait_for(
        lambda: (
            (j := status_of(job_id)).status == "analyzing" and 2 * CHUNK <= j.analyzed_rows < ROWS - 2 * CHUNK
        ),
        interval=0.02,
        message="analysis under way",
    )
    worker.kill()
    killed_at = time.monotonic()
    assert status_of(job_id).status == "analyzing"

    worker = start_worker(**worker_env)
    wait_for(
        lambda: services.import_jobs_sweep(), timeout=30, message="the sweeper to notice the dead worker"
    )

    # Kill again in the middle of the processing.
    wait_for(
        lambda: (
            (j := status_of(job_id)).status == "processing"
            and j.failed_rows + 2 * CHUNK <= j.processed_rows < ROWS - 2 * CHUNK
        ),
        interval=0.02,
        message="processing under way",
    )
    worker.kill()
    start_worker(**worker_env)
    wait_for(
        lambda: services.import_jobs_sweep(), timeout=30, message="the sweeper to notice the second death"
    )
    job = wait_for(
        lambda: (j := status_of(job_id)).status in ("completed", "failed") and j,
        timeout=120,
        message="completion",
    )
    recovery = time.monotonic() - killed_at
    print(f"recovered from two kill -9 in {recovery:.1f}s (heartbeat timeout 2s)")

    assert snapshot(job) == reference
    restarts = ImportLog.objects.filter(job=job, message__startswith="No sign of life").count()
    assert restarts == 2


def test_pause_stops_writing_within_one_chunk_and_resume_finishes_exactly(
    api, start_worker, worker_env, reference
):
    start_worker(**worker_env)
    job_id = upload(api, catalog_file(), supplier_code="SUP").json()["id"]
    wait_for(
        lambda: (j := status_of(job_id)).status == "processing" and j.processed_rows > j.failed_rows + CHUNK,
        interval=0.02,
        message="processing under way",
    )
    assert api.post(f"/api/v1/imports/jobs/{job_id}/pause").json() == {"id": job_id, "status": "paused"}
    paused = stopped(job_id, "paused")
    products_while_paused = Product.objects.count()
    holds_for(
        lambda: (
            status_of(job_id).processed_rows == paused.processed_rows
            and Product.objects.count() == products_while_paused
        ),
        seconds=2.0,
        message="a paused job writing nothing",
    )

    assert api.post(f"/api/v1/imports/jobs/{job_id}/resume").json() == {"id": job_id, "status": "processing"}
    job = wait_for(
        lambda: (j := status_of(job_id)).status == "completed" and j, timeout=120, message="completion"
    )
    assert snapshot(job) == reference


def test_pause_during_analysis_resumes_from_the_checkpoint(api, start_worker, worker_env, reference):
    start_worker(**worker_env)
    job_id = upload(api, catalog_file(), supplier_code="SUP").json()["id"]
    wait_for(
        lambda: (j := status_of(job_id)).status == "analyzing" and j.analyzed_rows >= CHUNK,
        interval=0.02,
        message="analysis under way",
    )
    api.post(f"/api/v1/imports/jobs/{job_id}/pause")
    checkpoint = stopped(job_id, "paused").checkpoint_row
    assert 0 < checkpoint < ROWS
    assert api.post(f"/api/v1/imports/jobs/{job_id}/resume").json()["status"] == "analyzing"
    job = wait_for(
        lambda: (j := status_of(job_id)).status == "completed" and j, timeout=120, message="completion"
    )
    assert snapshot(job) == reference


def test_cancel_mid_processing_keeps_what_was_written_and_discards_the_rest(
    api, start_worker, worker_env, small_chunks
):
    start_worker(**worker_env)
    job_id = upload(api, catalog_file(), supplier_code="SUP").json()["id"]
    wait_for(
        lambda: (j := status_of(job_id)).status == "processing" and j.products_created >= CHUNK,
        interval=0.02,
        message="processing under way",
    )
    assert api.post(f"/api/v1/imports/jobs/{job_id}/cancel").json() == {"id": job_id, "status": "cancelled"}
    job = stopped(job_id, "cancelled")
    assert 0 < job.products_created < ROWS
    assert Product.objects.count() == job.products_created  # the catalog started empty
    wait_for(lambda: not status_of(job_id).file, timeout=30, message="the stored file to be discarded")
    assert api.post(f"/api/v1/imports/jobs/{job_id}/resume").status_code == 409


def test_concurrent_pause_requests_only_one_wins(api, small_chunks):
    job = services.import_job_create(user=api.user, file=SimpleUploadedFile("c.csv", b"x"), enqueue=False)
    job_id = str(job.pk)
    ImportJob.objects.filter(pk=job_id).update(status="processing")
    results = []

    def pause():
        try:
            results.append(api.post(f"/api/v1/imports/jobs/{job_id}/pause").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=pause) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 409, 409, 409]
    job = status_of(job_id)
    assert (job.status, job.paused_from) == ("paused", "processing")


def test_a_job_that_keeps_killing_its_worker_fails_after_the_attempt_cap(small_chunks, settings):
    job = services.import_job_create(
        user=None, file=SimpleUploadedFile("c.csv", catalog_file(10).encode()), enqueue=False
    )
    # Each attempt that dies before a checkpoint leaves its count behind.
    ImportJob.objects.filter(pk=job.pk).update(attempts=settings.PIXEE_JOB_MAX_ATTEMPTS)
    job = services.import_job_run(job_id=job.pk)
    assert job.status == "failed"
    assert "abandoned after" in job.error_summary
