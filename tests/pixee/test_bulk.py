"""Chunks written on several connections at once, committed in the order they were submitted."""

import threading

import pytest
from django.db import connection, transaction

from catalog.models import Product
from pixee import bulk
from pixee.bulk import chunks_in_order, write_connections
from tests.locks import product_locked

pytestmark = pytest.mark.django_db(transaction=True)


def _backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


def test_chunks_run_at_once_on_two_connections_and_commit_in_order():
    chunks = 6
    started = [threading.Event() for _ in range(chunks)]
    order = []

    def chunk(number: int):
        def work(in_turn):
            started[number].set()
            Product.objects.create(ean=f"{number:013d}", name=f"chunk {number}")
            if number % 2 and number + 1 < chunks:
                # A helper's chunk: the next one, this thread's, runs meanwhile, and its turn
                # comes only after this one's.
                assert started[number + 1].wait(10)
            in_turn()
            order.append(number)
            return connection.connection.info.backend_pid

        return work

    backends_before = _backends()
    with chunks_in_order(2) as submit:
        futures = [submit(chunk(number)) for number in range(chunks)]
    assert order == list(range(chunks))
    assert sorted(Product.objects.values_list("name", flat=True)) == [f"chunk {n}" for n in range(chunks)]
    # Two connections took turns; the helper's is closed once the chunks are done.
    assert len({future.result() for future in futures}) == 2
    assert _backends() == backends_before


def test_a_failed_chunk_rolls_back_the_chunks_after_it():
    def ok(ean):
        def work(in_turn):
            Product.objects.create(ean=ean, name="kept" if ean == "1" else "rolled back")
            in_turn()

        return work

    def failing(in_turn):
        Product.objects.create(ean="2", name="rolled back")
        raise RuntimeError("chunk 2 failed")

    with pytest.raises(RuntimeError, match="chunk 2 failed"), chunks_in_order(2) as submit:
        for work in (ok("1"), failing, ok("3"), ok("4")):
            submit(work)
    assert list(Product.objects.values_list("ean", "name")) == [("1", "kept")]


def test_one_connection_inside_a_transaction_and_on_sqlite(settings):
    settings.PIXEE_IMPORT_WRITE_CONNECTIONS = 3
    assert write_connections() == 3
    with transaction.atomic():
        # A caller's transaction (a test's) must hold every write.
        assert write_connections() == 1
    settings.PIXEE_IMPORT_WRITE_CONNECTIONS = 0
    assert write_connections() == 1


@pytest.fixture
def locked_product():
    """A product whose row another connection holds locked until the event yielded is set."""
    Product.objects.create(ean="4006381333931", name="Locked")
    with product_locked("4006381333931") as release:
        yield release


def test_a_chunk_written_beside_others_gives_up_on_a_lock_held_too_long(locked_product, monkeypatch):
    monkeypatch.setattr(bulk, "PARALLEL_LOCK_TIMEOUT_MS", 200)

    def create(ean):
        def work(in_turn):
            Product.objects.create(ean=ean, name="rolled back")
            in_turn()

        return work

    def update_locked(in_turn):
        Product.objects.filter(ean="4006381333931").update(name="changed")

    with pytest.raises(bulk.WriteConflict), bulk.chunks_in_order(2) as submit:
        for work in (create("1"), update_locked, create("3"), create("4")):
            submit(work)
    assert sorted(Product.objects.values_list("ean", flat=True)) == ["1", "4006381333931"]


def test_one_chunk_at_a_time_waits_for_the_lock_without_a_timeout(locked_product):
    threading.Timer(0.5, locked_product.set).start()
    with bulk.chunks_in_order(1) as submit:
        submit(lambda in_turn: Product.objects.filter(ean="4006381333931").update(name="changed"))
    assert Product.objects.get(ean="4006381333931").name == "changed"
