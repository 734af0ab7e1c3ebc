"""A revert killed with kill -9 finishes on resume, with the catalog exactly as before the import."""

import pytest

from catalog.models import Product
from imports import services
from imports.models import ImportJob
from tests.conftest import wait_for
from tests.factories import ProductFactory, ean13

from .helpers import run_import

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker, pytest.mark.slow]

CHUNK = 100
UPDATED, CREATED = 20_000, 2_000


def _catalog():
    return list(Product.objects.order_by("ean").values())


def test_kill_9_during_a_revert_then_recovery(start_worker, settings):
    settings.PIXEE_IMPORT_CHUNK_SIZE = CHUNK
    settings.PIXEE_JOB_HEARTBEAT_TIMEOUT = 2
    Product.objects.bulk_create(
        ProductFactory.build(ean=ean13(n), name=f"Before {n}") for n in range(UPDATED)
    )
    before = _catalog()
    rows = "".join(f"{ean13(n)};After {n}\n" for n in range(UPDATED + CREATED))
    job = run_import(f"ean;name\n{rows}")
    assert (job.products_updated, job.products_created) == (UPDATED, CREATED)

    env = {"PIXEE_IMPORT_CHUNK_SIZE": str(CHUNK), "PIXEE_JOB_HEARTBEAT_TIMEOUT": "2"}
    worker = start_worker(**env)
    services.import_job_revert(job=job)
    wait_for(
        lambda: 2 * CHUNK <= ImportJob.objects.get(pk=job.pk).products_restored < UPDATED - 2 * CHUNK,
        interval=0.02,
        message="the revert under way",
    )
    worker.kill()
    assert ImportJob.objects.get(pk=job.pk).reverted_at is None

    start_worker(**env)
    wait_for(
        lambda: services.import_jobs_sweep(), timeout=30, message="the sweeper to notice the dead worker"
    )
    job = wait_for(
        lambda: (j := ImportJob.objects.get(pk=job.pk)).reverted_at and j, timeout=120, message="the revert"
    )
    assert (job.products_restored, job.products_deleted, job.products_skipped) == (UPDATED, CREATED, 0)
    assert _catalog() == before
