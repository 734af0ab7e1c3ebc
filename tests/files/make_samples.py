"""Writes the generated sample files of tests/files (real files are read from ../shared/realfiles).

Run from the repository root after changing it: ``.venv/bin/python tests/files/make_samples.py``.
The outputs are committed, so tests do not depend on this script or on the writers it uses.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent


def write(name: str, data: bytes) -> None:
    (HERE / name).write_bytes(data)
    print(f"{name}: {len(data)} bytes")


def save(workbook: Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def rewrite_zip(data: bytes, edits: dict[str, callable]) -> bytes:
    """``data`` (a zip) with the entries named in ``edits`` passed through their function."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename in edits:
                content = edits[info.filename](content.decode()).encode()
            target.writestr(info.filename, content)
    return out.getvalue()


# --- XLSX -------------------------------------------------------------------------------------


def xlsx_catalog() -> bytes:
    """A French supplier sheet: typed cells, a blank row, a second sheet that must be ignored."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Produits"
    sheet.append(["EAN", "Désignation", "Prix HT", "Stock", "Disponible le", "Actif", "Poids (kg)", "Marque"])
    sheet.append([3760000000017, "Stylo bleu", 1.99, 120, dt.date(2024, 5, 1), True, 0.015, "Bic"])
    sheet.append([3760000000024.0, "Cahier A4", 3.5, 0, dt.datetime(2024, 5, 2, 14, 30), False, 0.25, None])
    sheet.append([])
    sheet.append([12345678905, "Gomme (code UPC saisi comme nombre)", 0.89, 40, None, None, None, None])
    sheet.append(["0036000000016", "Règle 30 cm", "2,10 €", "15", None, None, None, "Maped"])
    other = workbook.create_sheet("Notes")
    other.append(["This sheet is not the catalog"])
    return save(workbook)


def xlsx_header_offset() -> bytes:
    """Two blank rows above the header: the header is row 3, its rows are numbered from 4."""
    workbook = Workbook()
    sheet = workbook.active
    sheet["A3"], sheet["B3"] = "Code barre", "Titre"
    sheet["A4"], sheet["B4"] = "3760000000017", "Premier"
    sheet["A6"], sheet["B6"] = "3760000000024", "Après une ligne vide"
    return save(workbook)


def xlsx_many_rows(rows: int = 50) -> Workbook:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["ean", "name", "price"])
    for n in range(1, rows + 1):
        sheet.append([f"{n:013d}", f"Product {n}", n + 0.5])
    return workbook


def xlsx_wrong_dimension() -> bytes:
    """50 rows, but a <dimension> claiming A1:B2, as some writers leave it."""
    return rewrite_zip(
        save(xlsx_many_rows()),
        {
            "xl/worksheets/sheet1.xml": lambda xml: re.sub(
                r'<dimension ref="[^"]*"', '<dimension ref="A1:B2"', xml
            )
        },
    )


def xlsx_no_dimension() -> bytes:
    return rewrite_zip(
        save(xlsx_many_rows()),
        {"xl/worksheets/sheet1.xml": lambda xml: re.sub(r"<dimension [^>]*/>", "", xml)},
    )


def xlsx_excel_quirks() -> bytes:
    """Cells as Excel stores them, which openpyxl's writer never produces: a price with binary
    noise, a code stored in scientific notation, _x000D_ and _x005F_ escapes."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["EAN", "Libellé", "Prix", "Note"])
    sheet.append(["@EAN@", "Line one\nline two", "@PRICE@", "literal _x005F_x0041_ stays"])

    def edit(xml: str) -> str:
        xml = re.sub(
            r'<c r="A2" t="inlineStr"><is><t>@EAN@</t></is></c>',
            '<c r="A2" t="n"><v>3.760000000001E+12</v></c>',
            xml,
        )
        xml = re.sub(
            r'<c r="C2" t="inlineStr"><is><t>@PRICE@</t></is></c>',
            '<c r="C2" t="n"><v>29.989999999999998</v></c>',
            xml,
        )
        xml = xml.replace("Line one\nline two", "Line one_x000D_\nline two")
        assert "@" not in xml, xml
        return xml

    return rewrite_zip(save(workbook), {"xl/worksheets/sheet1.xml": edit})


# --- JSON -------------------------------------------------------------------------------------

JSON_CATALOG = [
    {
        "ean": "3760000000017",
        "title": "Stylo bleu",
        "price": 1.99,
        "stock": 120,
        "brand": "Bic",
        "specs": {"colour": "blue", "weights": [0.015, 0.02]},
        "tags": ["office", "pen"],
    },
    {"ean": 3760000000024, "title": "Cahier A4 « Séyès »", "price": "3,50", "stock": None, "brand": ""},
    "a stray string where an object should be",
    {},
    {"ean": 12345678905, "title": "Gomme", "price": 0.89, "stock": 40, "discontinued": False},
]


def json_catalog() -> bytes:
    return json.dumps(JSON_CATALOG, ensure_ascii=False, indent=2).encode("utf-8")


# --- XML --------------------------------------------------------------------------------------

XML_CATALOG = """<?xml version="1.0" encoding="UTF-8"?>
<!-- exported by a supplier's ERP -->
<g:catalogue xmlns:g="http://example.com/catalogue" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <g:produit ref="ST-01">
    <g:ean>3760000000017</g:ean>
    <g:nom><![CDATA[Stylo <bleu> & rouge]]></g:nom>
    <g:prix devise="EUR">1.99</g:prix>
    <g:marque xsi:nil="true"/>
    <g:image>https://img.example.com/st-01-a.jpg</g:image>
    <g:image>https://img.example.com/st-01-b.jpg</g:image>
    <g:dimensions unite="cm"><g:largeur>1</g:largeur><g:hauteur>14</g:hauteur></g:dimensions>
  </g:produit>
  <g:produit/>
  <g:produit ref="CA-02" ean="3760000000024">
    <g:nom>Cahier A4 « Séyès »</g:nom>
    <g:prix>3,50</g:prix>
    <g:stock>0</g:stock>
  </g:produit>
  <?page-break?>
  <g:produit>just text, no fields</g:produit>
</g:catalogue>
"""

XML_ENCODED = """<?xml version="1.0" encoding="{encoding}"?>
<produits>
  <produit><ean>3760000000017</ean><nom>{name}</nom><prix>1,99</prix></produit>
</produits>
"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<produits><produit><ean>3760000000017</ean><nom>&lol3;</nom></produit></produits>
"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE produits [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<produits><produit><ean>3760000000017</ean><nom>&secret;</nom></produit></produits>
"""


# --- CSV --------------------------------------------------------------------------------------

CSV_FR = "EAN;Désignation;Prix HT;Stock\r\n3760000000017;Crème brûlée;€1 234,50;3\r\n"
CSV_UNICODE_TEXT = "GTIN\tProduct name\tUnit price\n3760000000017\tŻółw 🐢\t12.00\n"


def main() -> None:
    write("catalog_fr.xlsx", xlsx_catalog())
    write("header_offset.xlsx", xlsx_header_offset())
    write("wrong_dimension.xlsx", xlsx_wrong_dimension())
    write("no_dimension.xlsx", xlsx_no_dimension())
    write("excel_quirks.xlsx", xlsx_excel_quirks())
    write("catalog.json", json_catalog())
    write("catalog_bom.json", b"\xef\xbb\xbf" + json_catalog())
    write("catalog_utf16.json", json_catalog().decode().encode("utf-16"))
    write("catalog.xml", XML_CATALOG.encode("utf-8"))
    write(
        "catalog_shift_jis.xml", XML_ENCODED.format(encoding="Shift_JIS", name="万年筆").encode("shift_jis")
    )
    write("catalog_cp1252.xml", XML_ENCODED.format(encoding="windows-1252", name="Crème €").encode("cp1252"))
    write("catalog_utf16.xml", XML_ENCODED.format(encoding="UTF-16", name="Crème €").encode("utf-16"))
    write("billion_laughs.xml", BILLION_LAUGHS.encode())
    write("xxe.xml", XXE.encode())
    write("excel_semicolon_cp1252.csv", CSV_FR.encode("cp1252"))
    write("excel_unicode_text.csv", CSV_UNICODE_TEXT.encode("utf-16"))


if __name__ == "__main__":
    main()
