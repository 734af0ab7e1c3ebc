"""Two imports writing overlapping EANs at the same time, on one real worker of concurrency 2."""

from decimal import Decimal

import pytest

from catalog.models import Product
from imports.models import ImportJob, ImportLog
from tests.conftest import wait_for
from tests.factories import ean13

from .helpers import upload

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker, pytest.mark.slow]

ROWS = 30_000
CHUNK = 500


def catalog_file(numbers) -> str:
    # The overlapping rows carry the same values in both files, so whichever job writes an EAN
    # first creates it and the other finds it unchanged: the totals do not depend on timing.
    return "ean;name;price\n" + "".join(f"{ean13(n)};Product {n};{n % 100},{n % 10}0\n" for n in numbers)


def processing_window(job_id):
    logs = ImportLog.objects.filter(job_id=job_id, row_number__isnull=True)
    started = logs.get(message__startswith="Analysis finished").timestamp
    finished = logs.get(message__startswith="Import completed").timestamp
    return started, finished


def test_two_jobs_with_overlapping_eans_finish_without_deadlock_and_with_exact_counts(api, start_worker):
    start_worker(PIXEE_IMPORT_CHUNK_SIZE=str(CHUNK))
    half = ROWS // 2
    # Opposite file orders: without the upsert's EAN order, their chunks would lock the shared
    # products in opposite orders and deadlock.
    first = upload(api, catalog_file(range(ROWS)), name="first.csv", supplier_code="SUP").json()["id"]
    second = upload(
        api, catalog_file(reversed(range(half, ROWS + half))), name="second.csv", supplier_code="SUP"
    ).json()["id"]

    def finished():
        jobs = list(ImportJob.objects.filter(pk__in=[first, second]))
        return all(j.status in ("completed", "failed") for j in jobs) and jobs

    jobs = wait_for(finished, timeout=240, message="both jobs to finish")
    for job in jobs:
        assert job.status == "completed", job.error_summary
        assert (job.total_rows, job.successful_rows, job.failed_rows, job.products_updated) == (
            ROWS,
            ROWS,
            0,
            0,
        )
    assert sum(j.products_created for j in jobs) == ROWS + half
    assert sum(j.products_unchanged for j in jobs) == half
    assert Product.objects.count() == ROWS + half
    assert Product.objects.get(ean=ean13(ROWS)).price == Decimal(f"{ROWS % 100}.{ROWS % 10}0")

    # They did run at the same time (the worker has two pool processes).
    (a_start, a_end), (b_start, b_end) = processing_window(first), processing_window(second)
    assert a_start < b_end and b_start < a_end
