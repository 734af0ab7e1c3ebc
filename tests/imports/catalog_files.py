"""One catalog written as CSV, XLSX, JSON and XML, the way supplier tools write each format,
and a helper that imports a file in-process on the real database."""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree as ET

from imports.models import ImportJob

from .helpers import run_import

FORMATS = ("csv", "xlsx", "json", "xml")
# Header names every format can carry (XML names allow no spaces); they map by synonym.
COLUMNS = {
    "ean": "ean",
    "name": "designation",
    "price": "prix_ht",
    "stock": "stock",
    "brand": "marque",
    "category": "categorie",
    "description": "description",
    "image_url": "image",
    "sku": "reference",
    "colour": "couleur",  # no product field: kept in attributes
}
_EXCEL_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")


def write_catalog(products: list[dict[str, Any]], file_type: str) -> bytes:
    """``products`` (dicts keyed like COLUMNS, values typed: Decimal price, int stock) as a file."""
    return {"csv": _csv, "xlsx": _xlsx, "json": _json, "xml": _xml}[file_type](products)


def import_file(data: bytes, file_type: str, **options) -> ImportJob:
    """Create a job for ``data`` and run its whole pipeline in this process."""
    return run_import(data, name=f"catalog.{file_type}", **options)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _csv(products):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS.values())
    for product in products:
        writer.writerow(_text(product.get(key)) for key in COLUMNS)
    # Excel's "CSV UTF-8": a BOM, semicolons, CRLF.
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def _xlsx(products):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(COLUMNS.values()))
    for row, product in enumerate(products, start=2):
        for column, key in enumerate(COLUMNS, start=1):
            value = product.get(key)
            if value is None:
                continue
            cell = sheet.cell(row=row, column=column)
            if key == "ean":
                cell.value = int(value)  # the classic: codes typed as numbers lose their leading zeros
            elif key == "price":
                cell.value = float(value)
            elif isinstance(value, str):
                # As Excel writes text: "_x" escaped, and never a formula even if it starts with "=".
                cell.value = _EXCEL_ESCAPE.sub(r"_x005F_\1", value)
                cell.data_type = "s"
            else:
                cell.value = value
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _json(products):
    items = []
    for product in products:
        item = {}
        for key, column in COLUMNS.items():
            value = product.get(key)
            if isinstance(value, Decimal):
                value = float(value)  # a JSON number, as most exporters write prices
            item[column] = value
        items.append(item)
    return json.dumps(items, ensure_ascii=False, indent=1).encode("utf-8")


def _xml(products):
    root = ET.Element("catalogue")
    for product in products:
        record = ET.SubElement(root, "produit", {"ean": _text(product.get("ean"))})
        for key, column in COLUMNS.items():
            if key != "ean" and product.get(key) is not None:
                ET.SubElement(record, column).text = _text(product[key])
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
