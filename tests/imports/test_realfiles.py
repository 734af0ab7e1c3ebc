"""Every real supplier's file (``../shared/realfiles/``, never committed) imported through the API.

Every expectation is computed from the file itself with independent tools (the standard
library's csv, json and ElementTree, openpyxl, python-stdnum for GS1 check digits) and the
contract's rules (CONTRACT §3), never with our code. A file that is absent skips its test (fails
it when ``CI`` is set): see ``tests/realfiles.py``.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook
from stdnum import ean as stdnum_ean

from catalog.models import Product
from imports import services
from imports.models import ImportJob, ImportLog

from .. import realfiles
from ..realfiles import realfile

G = "{http://base.google.com/ns/1.0}"
EAN_MISSING = "EAN missing"
EAN_FORMAT = "EAN format invalid (expected 13 digits)"
EAN_CHECK = "EAN check digit invalid"
NAME_MISSING = "name missing (required to create a new product)"

pytestmark = pytest.mark.django_db


def import_through_api(api, name: str, **fields) -> ImportJob:
    data = realfile(name).read_bytes()
    response = api.post(
        "/api/v1/imports/jobs", {"file": SimpleUploadedFile(name, data), **fields}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    # The worker's run, in this process (the test transaction never commits, so nothing is queued).
    services.import_job_run(job_id=response.json()["id"])
    body = api.get(f"/api/v1/imports/jobs/{response.json()['id']}").json()
    job = ImportJob.objects.get(pk=body["id"])
    job.api_body = body  # type: ignore[attr-defined]
    return job


def assert_maps(job: ImportJob, expected: dict[str, str]) -> None:
    assert {column: job.mapping.get(column) for column in expected} == expected


def assert_first_row_reads(api, job: ImportJob, raw: dict[str, str], columns: dict | None = None) -> dict:
    """The preview's first row holds each field (→ its column; by default every mapped one but
    the EAN) as the file writes it."""
    if columns is None:
        columns = {f: column for column, f in job.mapping.items() if f not in ("ean", "")}
    first = api.get(f"/api/v1/imports/jobs/{job.pk}/preview?limit=1").json()["preview"][0]
    read = {f: Decimal(str(first[f])) if f == "price" else first[f] for f in columns}
    typed = {"price": Decimal, "stock": int}
    assert read == {f: typed.get(f, str)(raw[column]) for f, column in columns.items()}
    return first


# --- the contract's rules, applied with python-stdnum ------------------------------------------


def _digits(code: str) -> str:
    return code.strip().replace(" ", "").replace("-", "")


def gtin13(code: str) -> str | None:
    """The 13-digit form of a text cell that is a valid GTIN by python-stdnum (CONTRACT §3): an
    EAN-13, a UPC-A or an EAN-8 (zero-padded), a GTIN-14 with a leading 0, or 9 to 11 digits whose
    zeros a spreadsheet dropped (padded back only when the check digit then holds)."""
    digits = _digits(code)
    if not digits.isascii() or not digits.isdigit():
        return None
    if len(digits) == 14:
        return digits[1:] if digits.startswith("0") and stdnum_ean.is_valid(digits) else None
    if len(digits) in (8, 12, 13) or 9 <= len(digits) <= 11:
        padded = digits.zfill(13)
        return padded if stdnum_ean.is_valid(padded) else None
    return None


def ean_problem(code: str) -> str:
    """The contract's message for a text cell ``gtin13`` refuses."""
    digits = _digits(code)
    if not digits:
        return EAN_MISSING
    checkable = len(digits) in (8, 12, 13) or (len(digits) == 14 and digits.startswith("0"))
    return EAN_CHECK if digits.isascii() and digits.isdigit() and checkable else EAN_FORMAT


@dataclass
class Expected:
    """What importing the rows into an empty catalog must do, row by row."""

    created: dict[str, Any] = field(default_factory=dict)  # EAN → the raw record
    errors: dict[int, str] = field(default_factory=dict)  # row number → its error message

    @property
    def failed(self) -> int:
        return len(self.errors)


def expect(records: list[tuple[int, str, str, Any]]) -> Expected:
    """``records``: (row number, raw EAN, raw name, the record). The first valid occurrence of an
    EAN wins, later ones are duplicates; a new product needs a name (the catalog starts empty)."""
    expected = Expected()
    first_seen: dict[str, int] = {}
    for number, raw_ean, raw_name, record in records:
        ean = gtin13(raw_ean)
        if ean is None:
            expected.errors[number] = ean_problem(raw_ean)
        elif ean in first_seen:
            expected.errors[number] = f"duplicate EAN in file (first seen at row {first_seen[ean]})"
        else:
            first_seen[ean] = number
            if raw_name.strip():
                expected.created[ean] = record
            else:
                expected.errors[number] = NAME_MISSING
    return expected


def row_errors(job: ImportJob) -> dict[int, str]:
    """Each failed row's error message (a row fails on one error here)."""
    logged: dict[int, list[str]] = {}
    for number, message in ImportLog.objects.filter(
        job=job, level="error", row_number__isnull=False
    ).values_list("row_number", "message"):
        logged.setdefault(number, []).append(message)
    assert all(len(messages) == 1 for messages in logged.values()), logged
    return {number: messages[0] for number, messages in logged.items()}


def csv_records(name: str, delimiter: str) -> list[dict[str, str]]:
    """The file's records; CSV and spreadsheets number them as rows 2, 3, … (the header is 1)."""
    text = realfile(name).read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


def assert_outcome(job: ImportJob, expected: Expected, total: int) -> None:
    assert job.status == "completed", job.error_summary
    assert (job.total_rows, job.products_created, job.failed_rows) == (
        total,
        len(expected.created),
        expected.failed,
    )
    assert row_errors(job) == expected.errors
    assert set(Product.objects.values_list("ean", flat=True)) == set(expected.created)


# --- feeds and exports that import ----------------------------------------------------------------


def test_google_merchant_feed_imports_without_a_mapping(api):
    items = ET.parse(realfile("google_merchant_importpc_feed.xml")).getroot().findall("channel/item")
    expected = expect(
        [(n, i.findtext(f"{G}gtin") or "", i.findtext(f"{G}title") or "", i) for n, i in enumerate(items, 1)]
    )
    assert (len(items), len(expected.created)) == (1255, 1234)  # the figures, recounted here

    job = import_through_api(api, "google_merchant_importpc_feed.xml")

    assert_outcome(job, expected, len(items))
    assert job.api_body["mapping_sources"]["g:gtin"] == "synonym"
    ean, item = next(iter(expected.created.items()))
    product = Product.objects.get(ean=ean)
    price_text = item.findtext(f"{G}price")
    assert price_text == "599 CZK"
    assert (product.name, product.price, product.brand, product.sku) == (
        item.findtext(f"{G}title"),
        Decimal("599.00"),
        item.findtext(f"{G}brand"),
        item.findtext(f"{G}id"),
    )
    assert product.image_url == item.findtext(f"{G}image_link")
    assert len(product.attributes["g:additional_image_link"]) == len(
        item.findall(f"{G}additional_image_link")
    )
    assert product.attributes["g:shipping"] == {"g:country": "CZ", "g:price": "79 CZK"}


def test_dummyjson_imports_with_a_dotted_path_mapping(api):
    records = json.loads(realfile("dummyjson_products.json").read_text())
    expected = expect([(n, str(r["meta"]["barcode"]), r["title"], r) for n, r in enumerate(records, 1)])
    assert len(expected.created) == 16

    job = import_through_api(api, "dummyjson_products.json", mapping=json.dumps({"meta.barcode": "ean"}))

    assert_outcome(job, expected, len(records))
    assert job.api_body["mapping_sources"]["meta.barcode"] == "explicit"
    ean, record = next(iter(expected.created.items()))
    product = Product.objects.get(ean=ean)
    assert (product.name, product.price, product.stock, product.brand, product.category, product.sku) == (
        record["title"],
        Decimal(str(record["price"])),
        record["stock"],
        record.get("brand", ""),
        record["category"],
        record["sku"],
    )
    assert product.attributes["dimensions"] == record["dimensions"]


def test_open_food_facts_imports_with_no_mapping_at_all(api):
    rows = csv_records("off_products_sample.csv", "\t")
    expected = expect([(n, r["code"], r["product_name"], r) for n, r in enumerate(rows, 2)])
    assert (len(rows), len(expected.created), expected.failed) == (1000, 974, 26)

    job = import_through_api(api, "off_products_sample.csv")

    assert_outcome(job, expected, len(rows))
    assert job.api_body["mapping_sources"]["code"] == "values"
    assert "quantity" not in job.mapping
    messages = list(ImportLog.objects.filter(job=job, row_number=None).values_list("message", flat=True))
    assert any(m.startswith("Column 'code' is used as the EAN") for m in messages)
    assert any(m.startswith("Column 'quantity' looks like stock by its name, but ") for m in messages)
    ean, first = next(iter(expected.created.items()))
    product = Product.objects.get(ean=ean)
    assert (product.name, product.attributes["quantity"]) == (first["product_name"], first["quantity"])


def test_heureka_feed_imports_with_no_mapping(api):
    items = ET.parse(realfile("heureka_orrisfragrance_feed.xml")).getroot().findall("SHOPITEM")
    expected = expect(
        [(n, i.findtext("EAN") or "", i.findtext("PRODUCTNAME") or "", i) for n, i in enumerate(items, 1)]
    )
    # The README's figures: 3 EANs a spreadsheet turned into numbers in scientific notation.
    failing = sorted(items[n - 1].findtext("EAN") or "" for n in expected.errors)
    assert failing == sorted(["7.8332E+11", "7.8332E+11", "7.83321E+11"])

    job = import_through_api(api, "heureka_orrisfragrance_feed.xml")

    assert_outcome(job, expected, len(items))
    assert set(row_errors(job).values()) == {EAN_FORMAT}
    # A product with several DELIVERY groups: the repeated, nested elements go to attributes.
    ean, item = next((e, i) for e, i in expected.created.items() if len(i.findall("DELIVERY")) > 1)
    product = Product.objects.get(ean=ean)
    assert (product.name, product.price, product.brand, product.category, product.sku, product.stock) == (
        item.findtext("PRODUCTNAME"),
        Decimal(item.findtext("PRICE_VAT")),
        item.findtext("MANUFACTURER"),
        item.findtext("CATEGORYTEXT"),
        item.findtext("ITEM_ID"),
        int(item.findtext("STOCK")),
    )
    assert product.image_url == item.findtext("IMGURL")
    assert product.attributes["DELIVERY"] == [
        {child.tag: child.text for child in delivery} for delivery in item.findall("DELIVERY")
    ]


# --- platform exports whose sample barcodes are not valid GTINs -----------------------------------


def test_shopify_classic_template_maps_variant_barcode(api):
    rows = csv_records("shopify_product_template.csv", ",")
    expected = expect([(n, r["Variant Barcode"], r["Title"], r) for n, r in enumerate(rows, 2)])

    job = import_through_api(api, "shopify_product_template.csv")

    assert_outcome(job, expected, len(rows))
    assert_maps(
        job, {"Variant Barcode": "ean", "Variant Price": "price", "Vendor": "brand", "Variant SKU": "sku"}
    )
    # Variant rows carry no Title: a valid barcode there still cannot create a product.
    assert NAME_MISSING in expected.errors.values()
    assert_first_row_reads(api, job, rows[0])


def test_shopify_2025_template_maps_its_new_headers(api):
    rows = csv_records("shopify_product_template_2025.csv", ",")
    expected = expect([(n, r["Barcode"], r["Title"], r) for n, r in enumerate(rows, 2)])
    # 10-digit barcodes, two of which are valid once their dropped zeros are restored.
    assert sum(len(_digits(r["Barcode"])) == 10 for r in rows) == 12

    job = import_through_api(api, "shopify_product_template_2025.csv")

    assert_outcome(job, expected, len(rows))
    assert_maps(
        job,
        {"Barcode": "ean", "Price": "price", "Inventory quantity": "stock", "Title": "name", "SKU": "sku"},
    )
    assert_first_row_reads(api, job, rows[0])


def test_prestashop_products_map_by_prestashops_headers(api):
    rows = csv_records("prestashop_products_import.csv", ";")
    expected = expect([(n, r["EAN13"], r["Name *"], r) for n, r in enumerate(rows, 2)])
    assert set(expected.errors.values()) == {EAN_CHECK}  # the sample's EAN13 is 1234567890123

    job = import_through_api(api, "prestashop_products_import.csv")

    assert_outcome(job, expected, len(rows))
    assert job.mapping == {
        "EAN13": "ean",
        "Name *": "name",
        "Price tax excluded": "price",
        "Manufacturer": "brand",
        "Categories (x,y,z...)": "category",
        "Description": "description",
        "Quantity": "stock",
        "Reference #": "sku",
    }
    first = assert_first_row_reads(api, job, rows[0])
    assert first["attributes"]["Supplier reference #"] == rows[0]["Supplier reference #"]


def test_prestashop_combinations_take_their_own_reference_as_the_sku(api):
    text = realfile("prestashop_combinations_import.csv").read_text(encoding="utf-8")
    header, *records = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert len(records[0]) == len(header) + 1 and records[0][-1] == ""  # the ragged first row
    rows = [dict(zip(header, record, strict=False)) for record in records]
    # No product name column (these name an attribute and a shop): every valid EAN is a new
    # product without a name, or a duplicate.
    assert [c for c in header if "name" in c.lower()] == [
        "Attribute (Name:Type:Position)*",
        "ID / Name of shop",
    ]
    expected = expect([(n, r["EAN13"], "", r) for n, r in enumerate(rows, 2)])

    job = import_through_api(api, "prestashop_combinations_import.csv")

    assert_outcome(job, expected, len(rows))
    assert job.mapping == {"EAN13": "ean", "Quantity": "stock", "Reference": "sku"}
    first = assert_first_row_reads(api, job, rows[0], {"sku": "Reference", "stock": "Quantity"})
    assert first["ean"] == gtin13(rows[0]["EAN13"])
    assert first["attributes"]["Supplier reference"] == rows[0]["Supplier reference"]


# --- files that cannot be imported ------------------------------------------------------------------


def _text_table(name: str) -> tuple[list[str], list[list[Any]]]:
    data = realfile(name).read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    return header, rows


def _json_table(name: str) -> tuple[list[str], list[list[Any]]]:
    records = json.loads(realfile(name).read_text())
    header = list(dict.fromkeys(key for record in records for key in record))
    return header, [[record.get(key) for key in header] for record in records]


def _xlsx_table(name: str) -> tuple[list[str], list[list[Any]]]:
    sheet = load_workbook(realfile(name), read_only=True, data_only=True).worksheets[0]
    header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    return [str(h) for h in header], rows


@pytest.mark.parametrize(
    "name, table",
    [
        ("magento_products_gear_watches.csv", _text_table),
        ("magento_products_gear_bags.csv", _text_table),
        ("die_books-ISO-8859-1.csv", _text_table),
        ("die_books-dos.csv", _text_table),
        ("die_books-mac.csv", _text_table),
        ("die_books-unicode.csv", _text_table),
        ("die_books.json", _json_table),
        ("die_books.xlsx", _xlsx_table),
    ],
)
def test_a_file_without_any_barcode_fails_naming_its_columns_and_writes_nothing(api, name, table):
    header, rows = table(name)
    # Checked, not assumed: no header names a barcode, and no cell of any column holds a GTIN.
    assert rows and not any(gtin13(str(cell)) for row in rows for cell in row if cell is not None)

    job = import_through_api(api, name)

    assert job.status == "failed"
    assert job.error_summary == (
        f"No column maps to ean. The file's columns are: {', '.join(header)}. Name the EAN column "
        'EAN, GTIN or Code barre, or send a mapping such as {"<column>": "ean"}.'
    )
    assert job.total_rows is None and not ImportLog.objects.filter(job=job, row_number__isnull=False).exists()
    assert not Product.objects.exists()


def test_icecat_product_sheet_fails_with_one_sentence(api):
    root = ET.parse(realfile("icecat_product_8806088281285_fr.xml")).getroot()
    product = root.find("Product")
    assert product is not None and product.attrib and not (product.text or "").strip()

    job = import_through_api(api, "icecat_product_8806088281285_fr.xml")

    assert job.status == "failed"
    assert job.error_summary == (
        "The XML record <Product> holds its data in attributes and nested groups, with no child "
        "element per field, so it cannot be imported as a product list."
    )
    assert Product.objects.count() == 0


# --- where the files come from ----------------------------------------------------------------------


def test_a_missing_real_file_skips_its_test_or_fails_it_under_ci(monkeypatch, tmp_path):
    monkeypatch.setattr(realfiles, "REALFILES", tmp_path)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"the real file gone\.csv is not in "):
        realfiles.realfile("gone.csv")
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match=r"^CI is set but the real file gone\.csv is not in "):
        realfiles.realfile("gone.csv")
    (tmp_path / "here.csv").write_text("ean\n")
    assert realfiles.realfile_bytes("here.csv") == b"ean\n"
