"""The same catalog written as CSV, XLSX, JSON or XML imports to the same products."""

import random
from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.models import Product
from tests.factories import ean13

from .catalog_files import FORMATS, import_file, write_catalog

# Rows are compared as PostgreSQL renders them (byte equality); make test runs on PostgreSQL.
pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="compares PostgreSQL's text rendering"
)

# What a supplier's text can hold in all four formats: no control characters but the newline
# (XML forbids them; XLSX too), no carriage return (XML reads \r\n as \n), no surrogates.
TEXT = st.text(
    alphabet=st.one_of(
        st.characters(exclude_categories=("Cc", "Cs", "Co", "Cn")),
        st.sampled_from(list("\n ;,\t|\"'<>&=_x0123456789€éÉ")),
    ).filter(lambda c: c not in "\r\t"),
    max_size=40,
)
# EANs with leading zeros too: spreadsheets store them as numbers that lose the zeros.
EANS = st.one_of(st.integers(0, 30).map(ean13), st.integers(1, 30).map(lambda n: _ean_from_body(f"{n:012d}")))
PRODUCT = st.fixed_dictionaries(
    {
        "ean": EANS,
        "name": TEXT,
        "price": st.none() | st.decimals(min_value=0, max_value=Decimal("99999999.99"), places=2),
        "stock": st.none() | st.integers(0, 10**6),
        "brand": st.none() | TEXT,
        "category": st.none() | TEXT,
        "description": st.none() | TEXT,
        "image_url": st.none()
        | st.sampled_from(["https://img.example.com/a.jpg", "http://x.example/b?c=1&d=2"]),
        "sku": st.none() | TEXT,
        "colour": st.none() | TEXT,
    }
)


def _ean_from_body(body: str) -> str:
    from stdnum.ean import calc_check_digit

    return body + calc_check_digit(body)


def catalog_rows() -> list[tuple]:
    """The catalog as PostgreSQL renders it: every column as text, so equality is byte equality."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT ean, name, price::text, brand, category, description, stock::text, image_url, sku,
                      supplier_code, attributes::text
               FROM catalog_product ORDER BY ean"""
        )
        return cursor.fetchall()


def import_each_format(products: list[dict]) -> dict[str, tuple]:
    """Import ``products`` once per format into an empty catalog; what each import produced."""
    outcomes = {}
    for file_type in FORMATS:
        Product.objects.all().delete()
        job = import_file(write_catalog(products, file_type), file_type, supplier_code="SUP")
        assert job.status == "completed", (file_type, job.error_summary)
        counts = (job.total_rows, job.failed_rows, job.products_created)
        outcomes[file_type] = (counts, catalog_rows())
    return outcomes


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(products=st.lists(PRODUCT, min_size=1, max_size=8))
def test_a_catalog_imports_to_identical_products_whatever_its_format(products):
    outcomes = import_each_format(products)
    assert outcomes["xlsx"] == outcomes["csv"]
    assert outcomes["json"] == outcomes["csv"]
    assert outcomes["xml"] == outcomes["csv"]


def supplier_catalog(size: int, seed: int = 3) -> list[dict]:
    """A realistic catalog: accents, multi-line descriptions, empty cells, codes with leading zeros."""
    rng = random.Random(seed)
    words = ["Stylo", "Cahier", "Règle", "Gomme", "Classeur", "Agrafeuse", "Crayon", "Trousse", "Ciseaux"]
    brands = ["Bic", "Maped", "Clairefontaine", "Stabilo", "Pilot", None]
    products = []
    for n in range(size):
        word = rng.choice(words)
        products.append(
            {
                "ean": _ean_from_body(f"{n:012d}") if n % 10 == 0 else ean13(n),
                "name": f"{word} n°{n} « {rng.choice(['bleu', 'vert', 'A4', '30 cm'])} »",
                "price": Decimal(rng.randint(1, 999_999)) / 100 if n % 17 else None,
                "stock": rng.randint(0, 5000) if n % 13 else None,
                "brand": rng.choice(brands),
                "category": f"Bureau > {word}s",
                "description": f"{word} de qualité.\nLigne 2 ; avec, des « séparateurs » & <balises>."
                if n % 3
                else None,
                "image_url": f"https://img.example.com/{n}.jpg" if n % 5 else None,
                "sku": f"SKU-{n:05d}",
                "colour": rng.choice(["rouge", "vert", "bleu", None]),
            }
        )
    return products


@pytest.mark.django_db
def test_a_2000_product_catalog_gives_byte_identical_rows_in_all_four_formats():
    outcomes = import_each_format(supplier_catalog(2000))
    counts, rows = outcomes["csv"]
    assert counts == (2000, 0, 2000) and len(rows) == 2000
    for file_type in ("xlsx", "json", "xml"):
        assert outcomes[file_type] == outcomes["csv"], file_type
