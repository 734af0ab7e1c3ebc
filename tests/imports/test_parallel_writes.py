"""Processing on two connections at once (PostgreSQL), outside any caller's transaction."""

import threading

import pytest

from catalog.models import Product
from imports.models import ImportLog
from pixee import bulk
from tests.factories import ean13
from tests.locks import product_locked

from .helpers import run_import

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def two_connections(settings):
    settings.PIXEE_IMPORT_WRITE_CONNECTIONS = 2


ROWS = 40


def _catalog_file(price: str) -> str:
    return "ean,name,price\n" + "".join(f"{ean13(n)},Product {n},{price}\n" for n in range(ROWS))


def test_batches_written_two_at_a_time_give_the_counts_of_one_at_a_time(settings):
    settings.PIXEE_IMPORT_CHUNK_SIZE = 3
    first = run_import(_catalog_file("1.00"))
    assert (first.status, first.products_created, first.checkpoint_row) == ("completed", ROWS, ROWS + 1)
    again = run_import(_catalog_file("2.00"))
    assert (again.status, again.products_updated, again.products_created) == ("completed", ROWS, 0)
    assert set(Product.objects.values_list("price", flat=True)) == {2}


def test_a_product_locked_elsewhere_too_long_makes_the_rest_go_one_batch_at_a_time(settings, monkeypatch):
    settings.PIXEE_IMPORT_CHUNK_SIZE = 3
    run_import(_catalog_file("1.00"))
    monkeypatch.setattr(bulk, "PARALLEL_LOCK_TIMEOUT_MS", 200)
    with product_locked(ean13(20)) as release:  # another transaction holding a product
        threading.Timer(1.0, release.set).start()  # five times the lock timeout
        job = run_import(_catalog_file("2.00"))
    assert (job.status, job.products_updated, job.products_created) == ("completed", ROWS, 0)
    assert set(Product.objects.values_list("price", flat=True)) == {2}
    assert ImportLog.objects.filter(job=job, message__startswith="Another import was writing").count() == 1
