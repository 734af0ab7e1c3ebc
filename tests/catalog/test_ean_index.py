"""One index on ean serves every EAN lookup: equality, ON CONFLICT, prefix search, ordering."""

import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.test import RequestFactory

from catalog import upsert
from catalog.models import Product
from tests.factories import ProductFactory, ean13

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")


@pytest.fixture
def planner_prefers_indexes(db):
    ProductFactory.create_batch(20)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_product")
        # A small table is cheaper to scan whole: ask the planner whether the index *can* serve.
        cursor.execute("SET LOCAL enable_seqscan = off")
    yield


def _plan(queryset) -> str:
    return queryset.explain()


def test_ean_has_exactly_one_index(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'catalog_product' AND indexdef LIKE '%(ean%'"
        )
        assert [name for (name,) in cursor.fetchall()] == ["catalog_product_ean_key"]
        cursor.execute(
            "SELECT count(*) FROM pg_indexes "
            "WHERE tablename = 'catalog_product' AND indexdef LIKE '%pattern_ops%'"
        )
        assert cursor.fetchone()[0] == 0


def test_admin_prefix_search_uses_the_index(planner_prefers_indexes, admin_user):
    request = RequestFactory().get("/admin/catalog/product/", {"q": "4006"})
    request.user = admin_user
    queryset, _ = site._registry[Product].get_search_results(request, Product.objects.all(), "4006")
    plan = _plan(queryset)
    assert "catalog_product_ean_key" in plan and "Index Cond" in plan


def test_api_ean_filter_and_ordering_use_the_index(planner_prefers_indexes):
    assert "catalog_product_ean_key" in _plan(Product.objects.filter(ean=ean13(1)))
    ordered = _plan(Product.objects.order_by("ean")[:50])
    assert "catalog_product_ean_key" in ordered and "Sort" not in ordered


def test_lookups_of_many_eans_use_the_index_whatever_the_statistics(db):
    """Right after a load the statistics say the catalog is small: a lookup then scanned all of it."""
    ProductFactory.create_batch(20)
    eans = [ean13(n) for n in range(5_000)]
    lookup = Product.objects.filter(ean__in=eans).order_by()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_product")
    assert "Seq Scan" in _plan(lookup)  # what the planner chooses for a table it believes small
    with upsert.lookups_by_ean_index():
        plan = _plan(lookup)
    assert "catalog_product_ean_key" in plan and "Seq Scan" not in plan
