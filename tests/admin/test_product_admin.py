"""The catalog admin: look products up by EAN or name; imports are what write them."""

import pytest
from django.urls import reverse

from ..factories import ProductFactory, ean13

pytestmark = pytest.mark.django_db
LIST_URL = reverse("admin:catalog_product_changelist")


def results(client, **params):
    return list(client.get(LIST_URL, params).context["cl"].result_list)


def test_list_shows_the_catalog_columns(admin_client):
    ProductFactory(ean=ean13(1), name="Chaise", price="29.99", brand="Acme", stock=7)
    html = admin_client.get(LIST_URL).content.decode()
    for text in (ean13(1), "Chaise", "29.99", "Acme", "SUPPLIER_A", "Updated at"):
        assert text in html


def test_search_by_ean_prefix_or_name(admin_client):
    chair = ProductFactory(ean=ean13(1), name="Chaise pliante")
    table = ProductFactory(ean=ean13(2), name="Table basse")
    assert results(admin_client, q=ean13(2)) == [table]
    assert results(admin_client, q=ean13(1)[:7]) == [chair, table]
    assert results(admin_client, q="376-0000") == [chair, table]  # typed with a separator
    assert results(admin_client, q="pliante") == [chair]


def test_filter_by_supplier(admin_client):
    ProductFactory(supplier_code="A")
    wanted = ProductFactory(supplier_code="B")
    assert results(admin_client, supplier_code="B") == [wanted]


def test_products_are_read_only(admin_client):
    product = ProductFactory()
    assert admin_client.get(reverse("admin:catalog_product_add")).status_code == 403
    change = reverse("admin:catalog_product_change", args=[product.pk])
    assert 'name="_save"' not in admin_client.get(change).content.decode()
    assert admin_client.post(change, {"name": "Renamed"}).status_code == 403
