"""Files written by LibreOffice Calc import with their EANs intact (issue 3)."""

from decimal import Decimal

import pytest

from catalog.models import Product

from .catalog_files import import_file
from .test_formats_csv import FILES

pytestmark = pytest.mark.django_db

EXPECTED = {
    "3760000000017": ("Chaise pliante", Decimal("29.99"), "Acme", 12),
    "0012345678905": ("Lampe UPC", Decimal("149.00"), "Lumo", 3),
    "4006381333931": ("Stylo Stabilo", Decimal("1.99"), "Stabilo", 40),
    "0000096385074": ("Gomme EAN-8", Decimal("0.50"), "Acme", 7),
    "5901234123457": ("Étagère en chêne", Decimal("59.90"), "Bois & Co", 2),
}


@pytest.mark.parametrize(
    "name, warnings",
    [
        ("libreoffice_text_ean.xlsx", 0),  # EANs kept as text
        ("libreoffice_numeric_ean.xlsx", 2),  # EANs became numbers: two lost their zeros
        ("libreoffice_resaved_cp1252.csv", 2),  # and were written back without them
    ],
)
def test_libreoffice_files_import_with_eans_intact(name, warnings):
    data = (FILES / name).read_bytes()
    job = import_file(data, name.rsplit(".", 1)[1], supplier_code="LO")
    assert job.status == "completed", job.error_summary
    assert (job.products_created, job.failed_rows) == (5, 0)
    products = {p.ean: (p.name, p.price, p.brand, p.stock) for p in Product.objects.all()}
    assert products == EXPECTED
    assert job.logs.filter(level="warning", field="ean").count() == warnings
