"""Real suppliers' files (``../shared/realfiles/``, never committed) imported through the API.

Every expectation is computed from the file itself with independent tools (the standard
library's csv, json and ElementTree, python-stdnum for GS1 check digits), never with our code.
"""

from __future__ import annotations

import csv
import io
import json
import os
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from stdnum import ean as stdnum_ean

from catalog.models import Product
from imports import services
from imports.models import ImportJob, ImportLog

ROOT = Path(__file__).resolve().parents[2]
# ../shared/realfiles from the repository's root; a git worktree under wt/ looks one level up.
REALFILES = next(
    (
        p
        for p in (ROOT.parent / "shared" / "realfiles", ROOT.parent.parent / "shared" / "realfiles")
        if p.is_dir()
    ),
    ROOT.parent / "shared" / "realfiles",
)
G = "{http://base.google.com/ns/1.0}"

if not REALFILES.is_dir():
    if os.environ.get("CI"):
        raise RuntimeError(f"CI is set but the real files are missing at {REALFILES}")
    pytest.skip("the real files (../shared/realfiles/) are not present", allow_module_level=True)

pytestmark = pytest.mark.django_db


def import_through_api(api, name: str, **fields) -> ImportJob:
    data = (REALFILES / name).read_bytes()
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


def gtin13(code: str) -> str | None:
    """The 13-digit form of a valid GTIN-8/12/13 (or GTIN-14 with a leading 0), by python-stdnum."""
    code = code.strip().replace(" ", "").replace("-", "")
    if not code.isdigit() or len(code) not in (8, 12, 13, 14) or not stdnum_ean.is_valid(code):
        return None
    if len(code) == 14:
        return code[1:] if code.startswith("0") else None
    return code.zfill(13)


def test_google_merchant_feed_imports_without_a_mapping(api):
    items = ET.parse(REALFILES / "google_merchant_importpc_feed.xml").getroot().findall("channel/item")
    seen: dict[str, ET.Element] = {}
    for item in items:
        ean = gtin13(item.findtext(f"{G}gtin") or "")
        if ean and ean not in seen and (item.findtext(f"{G}title") or "").strip():
            seen[ean] = item
    assert len(items) == 1255 and len(seen) == 1234  # the figures, recounted here

    job = import_through_api(api, "google_merchant_importpc_feed.xml")

    assert job.status == "completed", job.error_summary
    assert (job.total_rows, job.products_created, job.failed_rows) == (
        len(items),
        len(seen),
        len(items) - len(seen),
    )
    assert job.api_body["mapping_sources"]["g:gtin"] == "synonym"
    ean, item = next(iter(seen.items()))
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
    records = json.loads((REALFILES / "dummyjson_products.json").read_text())
    valid: dict[str, dict] = {}
    for record in records:
        ean = gtin13(str(record["meta"]["barcode"]))
        if ean and ean not in valid:
            valid[ean] = record
    assert len(valid) == 16

    job = import_through_api(api, "dummyjson_products.json", mapping=json.dumps({"meta.barcode": "ean"}))

    assert job.status == "completed", job.error_summary
    assert (job.total_rows, job.products_created) == (len(records), len(valid))
    ean, record = next(iter(valid.items()))
    product = Product.objects.get(ean=ean)
    assert (product.name, product.price, product.stock) == (
        record["title"],
        Decimal(str(record["price"])),
        record["stock"],
    )
    assert product.attributes["dimensions"] == record["dimensions"]


def test_open_food_facts_imports_with_no_mapping_at_all(api):
    text = (REALFILES / "off_products_sample.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text), delimiter="\t"))
    created: set[str] = set()
    for row in rows:
        ean = gtin13(row["code"])
        if ean and ean not in created and row["product_name"].strip():
            created.add(ean)
    assert (len(rows), len(created)) == (1000, 974)

    job = import_through_api(api, "off_products_sample.csv")

    assert job.status == "completed", job.error_summary
    assert (job.total_rows, job.products_created, job.failed_rows) == (1000, 974, 26)
    assert job.api_body["mapping_sources"]["code"] == "values"
    assert "quantity" not in job.mapping
    messages = list(ImportLog.objects.filter(job=job, row_number=None).values_list("message", flat=True))
    assert any(m.startswith("Column 'code' is used as the EAN") for m in messages)
    assert any(m.startswith("Column 'quantity' looks like stock by its name, but ") for m in messages)
    first = next(r for r in rows if gtin13(r["code"]))
    product = Product.objects.get(ean=gtin13(first["code"]))
    assert product.attributes["quantity"] == first["quantity"]


def test_shopify_classic_template_maps_variant_barcode(api):
    rows = list(csv.DictReader(io.StringIO((REALFILES / "shopify_product_template.csv").read_text())))
    job = import_through_api(api, "shopify_product_template.csv")
    assert job.mapping["Variant Barcode"] == "ean" and job.mapping["Variant Price"] == "price"
    assert job.mapping["Vendor"] == "brand"
    assert job.total_rows == len(rows)


def test_icecat_product_sheet_fails_with_one_sentence(api):
    job = import_through_api(api, "icecat_product_8806088281285_fr.xml")
    assert job.status == "failed"
    assert job.error_summary == (
        "The XML record <Product> holds its data in attributes and nested groups, with no child "
        "element per field, so it cannot be imported as a product list."
    )
    assert Product.objects.count() == 0


def test_heureka_feed_imports_with_no_mapping(api):
    items = ET.parse(REALFILES / "heureka_orrisfragrance_feed.xml").getroot().findall("SHOPITEM")
    valid = {gtin13(i.findtext("EAN") or "") for i in items} - {None}
    job = import_through_api(api, "heureka_orrisfragrance_feed.xml")
    assert job.status == "completed", job.error_summary
    assert (job.total_rows, job.products_created) == (len(items), len(valid))
