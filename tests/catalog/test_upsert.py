import json
from decimal import Decimal

import polars as pl
import pytest

from catalog.models import Product
from catalog.upsert import Expected, PostgresProductWriter, PythonProductWriter
from catalog.vocabulary import PRODUCT_FIELDS
from imports.columnar import VALID_SCHEMA
from tests.factories import ImportJobFactory, ProductFactory, ean13


class PostgresWriterComparingFirst(PostgresProductWriter):
    """The same writer, always taking its way for chunks expected to be mostly unchanged."""

    def upsert(self, rows, *, supplier_code, expected=Expected.UNKNOWN):
        return super().upsert(rows, supplier_code=supplier_code, expected=Expected.UNCHANGED)


class PostgresWriterCopyingFirst(PostgresProductWriter):
    """The same writer, always trying the COPY of new products first (a known EAN makes it fail)."""

    def upsert(self, rows, *, supplier_code, expected=Expected.UNKNOWN):
        return super().upsert(rows, supplier_code=supplier_code, expected=Expected.NEW)


WRITERS = [
    PostgresProductWriter,
    PostgresWriterComparingFirst,
    PostgresWriterCopyingFirst,
    PythonProductWriter,
]


def stage(job, rows):
    """Rows as the import hands them to the writers: price as text, attributes as JSON text."""
    converted = []
    for row in rows:
        row = {"ean": row["ean"], **{field: row.get(field) for field in PRODUCT_FIELDS}}
        if row["price"] is not None:
            row["price"] = str(row["price"])
        if row["attributes"] is not None:
            row["attributes"] = json.dumps(row["attributes"])
        converted.append(row)
    schema = {name: VALID_SCHEMA[name] for name in ("ean", *PRODUCT_FIELDS)}
    return pl.DataFrame(converted, schema=schema)


@pytest.fixture
def job(db):
    return ImportJobFactory(supplier_code="SUP")


@pytest.fixture(params=WRITERS, ids=["postgres", "postgres-compare-first", "postgres-copy-first", "python"])
def writer(request, db):
    from django.db import connection

    if issubclass(request.param, PostgresProductWriter) and connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    return request.param()


def test_counts_created_updated_and_unchanged(job, writer):
    ProductFactory(ean=ean13(1), name="Same", price=Decimal("1.00"), supplier_code="SUP")
    ProductFactory(ean=ean13(2), name="Old name", price=Decimal("2.00"), supplier_code="SUP")
    rows = stage(
        job,
        [
            {"ean": ean13(1), "name": "Same", "price": Decimal("1.00")},
            {"ean": ean13(2), "name": "New name"},
            {"ean": ean13(3), "name": "Brand new", "price": Decimal("3.50"), "attributes": {"color": "red"}},
        ],
    )
    predicted = writer.classify(rows, supplier_code="SUP")
    counts = writer.upsert(rows, supplier_code="SUP")
    assert (counts.created, counts.updated, counts.unchanged) == (1, 1, 1)
    assert predicted == counts
    updated = Product.objects.get(ean=ean13(2))
    assert updated.name == "New name"
    assert updated.price == Decimal("2.00")  # absent in the row: kept
    created = Product.objects.get(ean=ean13(3))
    assert (created.name, created.price, created.attributes, created.supplier_code) == (
        "Brand new",
        Decimal("3.50"),
        {"color": "red"},
        "SUP",
    )
    assert created.brand == ""


def test_empty_fields_never_erase_and_attributes_merge(job, writer):
    ProductFactory(ean=ean13(1), name="Kept", brand="Acme", stock=5, attributes={"a": "1", "b": "2"})
    rows = stage(job, [{"ean": ean13(1), "name": None, "brand": "", "stock": None, "attributes": {"b": "3"}}])
    counts = writer.upsert(rows, supplier_code="")
    assert (counts.created, counts.updated, counts.unchanged) == (0, 1, 0)
    product = Product.objects.get(ean=ean13(1))
    assert (product.name, product.brand, product.stock) == ("Kept", "Acme", 5)
    assert product.attributes == {"a": "1", "b": "3"}
    assert product.supplier_code == "SUPPLIER_A"  # the job had none: kept


def test_reimport_of_the_same_rows_is_all_unchanged(job, writer):
    rows = stage(
        job, [{"ean": ean13(n), "name": f"P{n}", "price": Decimal("9.90"), "stock": n} for n in range(5)]
    )
    first = writer.upsert(rows, supplier_code="SUP")
    second = writer.upsert(rows, supplier_code="SUP")
    assert (first.created, second.unchanged, second.updated, second.created) == (5, 5, 0, 0)


def test_price_equal_in_value_is_unchanged(job, writer):
    ProductFactory(ean=ean13(1), name="P", price=Decimal("29.90"))
    rows = stage(job, [{"ean": ean13(1), "price": Decimal("29.9")}])
    assert writer.upsert(rows, supplier_code="").unchanged == 1
