"""XLSX: the first sheet, every row, cells as the spreadsheet shows them, hostile archives refused."""

import io
import os
import re
import tracemalloc
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from catalog.models import Product
from imports import services
from imports.formats import FormatError, content_mismatch, reader_for
from imports.formats import xlsx as xlsx_module
from imports.models import ImportLog

from ..realfiles import realfile_bytes
from .catalog_files import import_file

FILES = Path(__file__).resolve().parent.parent / "files"
# Written by LibreOffice with its text in xl/sharedStrings.xml (see tests/files/README.md).
SHARED_STRINGS_WORKBOOK = "libreoffice_text_ean.xlsx"


def read(data: bytes):
    reader = reader_for("xlsx")(io.BytesIO(data))
    return reader.columns(), list(reader.rows())


def sample(name: str) -> bytes:
    return (FILES / name).read_bytes()


def workbook_bytes(*rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return out.getvalue()


def test_cells_read_as_the_spreadsheet_shows_them():
    columns, rows = read(sample("catalog_fr.xlsx"))
    assert columns == [
        "EAN",
        "Désignation",
        "Prix HT",
        "Stock",
        "Disponible le",
        "Actif",
        "Poids (kg)",
        "Marque",
    ]
    # Row 4 is blank: skipped, but the rows after it keep their spreadsheet numbers.
    assert [row.number for row in rows] == [2, 3, 5, 6]
    first, second, upc, text_codes = (row.values for row in rows)
    assert first == {
        "EAN": 3760000000017,
        "Désignation": "Stylo bleu",
        "Prix HT": Decimal("1.99"),
        "Stock": 120,
        "Disponible le": "2024-05-01",
        "Actif": True,
        "Poids (kg)": Decimal("0.015"),
        "Marque": "Bic",
    }
    assert second["EAN"] == 3760000000024 and type(second["EAN"]) is int  # stored as 3760000000024.0
    assert second["Disponible le"] == "2024-05-02T14:30:00"
    assert second["Actif"] is False
    assert upc["EAN"] == 12345678905  # a number: catalog/ean.py pads the lost zeros back
    assert text_codes["EAN"] == "0036000000016" and text_codes["Prix HT"] == "2,10 €"


def test_numbers_and_text_stored_the_excel_way_read_exactly():
    _, [row] = read(sample("excel_quirks.xlsx"))
    assert row.values["EAN"] == 3760000000001  # <v>3.760000000001E+12</v>
    assert row.values["Prix"] == Decimal("29.99")  # <v>29.989999999999998</v>, as Excel displays it
    assert row.values["Libellé"] == "Line one\r\nline two"  # _x000D_ decoded
    assert row.values["Note"] == "literal _x0041_ stays"  # _x005F_ escapes the underscore


def test_float_cells_keep_what_the_spreadsheet_displays():
    cell = xlsx_module._cell_value
    assert cell(3760000000001.0, 1, 0) == 3760000000001
    assert cell(29.99, 1, 0) == Decimal("29.99")
    assert cell(0.1 + 0.2, 1, 0) == Decimal("0.3")
    assert cell(12.000000000000002, 1, 0) == 12
    assert cell(1e20, 1, 0) == 10**20


def test_header_is_the_first_non_blank_row():
    columns, rows = read(sample("header_offset.xlsx"))
    assert columns == ["Code barre", "Titre"]
    assert [(row.number, row.values["Titre"]) for row in rows] == [
        (4, "Premier"),
        (6, "Après une ligne vide"),
    ]


@pytest.mark.parametrize("engine, fraction", [("openpyxl", None), ("auto", 1.0)])
@pytest.mark.parametrize("name", ["wrong_dimension.xlsx", "no_dimension.xlsx"])
def test_every_row_is_read_whatever_the_stored_dimension_says(name, engine, fraction):
    reader = xlsx_module.XlsxReader(io.BytesIO(sample(name)), engine=engine)
    rows = list(reader.rows())
    assert [row.number for row in rows] == list(range(2, 52))
    assert rows[-1].values == {"ean": "0000000000050", "name": "Product 50", "price": Decimal("50.5")}
    # openpyxl's stream knows only the stored dimension, which cannot tell; calamine the real height.
    assert reader.fraction_read() == fraction


def test_fraction_read_follows_the_stored_dimension():
    reader = reader_for("xlsx")(io.BytesIO(workbook_bytes(["ean"], *([str(n)] for n in range(9)))))
    fractions = [reader.fraction_read() for _ in reader.rows()]
    assert fractions[0] == pytest.approx(0.2) and fractions[-1] == 1.0


def test_libreoffice_wrote_the_real_sample():
    data = realfile_bytes("die_books.xlsx")
    assert b"LibreOffice" in zipfile.ZipFile(io.BytesIO(data)).read("docProps/app.xml")


def test_only_the_first_sheet_is_read():
    _, rows = read(sample("catalog_fr.xlsx"))
    assert all("This sheet is not the catalog" not in str(row.values) for row in rows)


def test_libreoffice_formula_cells_read_their_saved_value():
    columns, [row] = read(realfile_bytes("die_books.xlsx"))
    assert columns == ["id", "name", "author_email", "price"]
    assert row.number == 2 and row.values["price"] == 4  # =ABS(-4)


def test_duplicate_and_blank_headers_get_names_and_trailing_empty_headers_are_dropped():
    columns, _ = read(workbook_bytes(["ean", None, "ean", "name", None, None], ["1", "x", "2", "n"]))
    assert columns == ["ean", "column 2", "ean (2)", "name"]


def test_values_beyond_the_header_are_a_row_error():
    _, rows = read(workbook_bytes(["ean", "name"], ["1", "a", None, "stray"], ["2", "b"]))
    assert rows[0].error == "row has 4 values but the header has 2 columns"
    assert rows[1].values == {"ean": "2", "name": "b"}


def test_an_overlong_cell_is_a_format_error_naming_the_cell():
    # openpyxl's writer cuts text at Excel's 32767 characters; other writers do not.
    source = zipfile.ZipFile(io.BytesIO(workbook_bytes(["ean", "description"], ["1", "@LONG@"])))
    entries = {name: source.read(name) for name in source.namelist()}
    sheet = entries["xl/worksheets/sheet1.xml"]
    entries["xl/worksheets/sheet1.xml"] = sheet.replace(b"@LONG@", b"x" * 100_001)
    with pytest.raises(FormatError, match=r"^Cell B2 is longer than 100000 characters \(100001\)\.$"):
        read(zip_bytes(entries))


def workbook_with_sheet_cells(cells: bytes) -> bytes:
    """A workbook whose first sheet's second row is ``cells`` (raw XML), as other writers may write."""
    source = zipfile.ZipFile(io.BytesIO(workbook_bytes(["ean", "x"], ["1", "@CELLS@"])))
    entries = {name: source.read(name) for name in source.namelist()}
    sheet = entries["xl/worksheets/sheet1.xml"]
    entries["xl/worksheets/sheet1.xml"] = re.sub(rb'<c r="B2".*?</c>', cells, sheet)
    return zip_bytes(entries)


@pytest.mark.parametrize("number", [b"1E999", b"-1e999"])
def test_a_number_cell_beyond_floats_reads_as_the_error_a_spreadsheet_shows(number):
    _, [row] = read(workbook_with_sheet_cells(b'<c r="B2" t="n"><v>' + number + b"</v></c>"))
    assert row.values["x"] == "#NUM!"


@pytest.mark.parametrize(
    "text, value",
    [
        (b"a_x0041__x000D_b", "aA\rb"),
        (b"_xD83D__xDE00_", "\U0001f600"),  # a character beyond U+FFFF: two escapes, one character
        (b"_xD800_ alone", "_xD800_ alone"),  # a lone surrogate is no character: kept as written
        (b"a_x0000_b", "a\x00b"),  # the validator refuses it (a row error), as for JSON's \u0000
    ],
)
def test_excel_escapes_decode_to_characters_only(text, value):
    _, [row] = read(workbook_with_sheet_cells(b'<c r="B2" t="inlineStr"><is><t>' + text + b"</t></is></c>"))
    assert row.values["x"] == value


def test_a_header_holding_a_nul_character_is_a_format_error():
    with pytest.raises(FormatError, match=r"^Column 2 of the header holds a NUL character \(U\+0000\)\.$"):
        read(workbook_bytes(["ean", "na_x0000_me"], ["1", "a"]))


def test_a_part_declaring_an_unknown_encoding_is_corrupt():
    source = zipfile.ZipFile(io.BytesIO(workbook_bytes(["ean"], ["1"])))
    entries = {name: source.read(name) for name in source.namelist()}
    entries["[Content_Types].xml"] = b"<?xml version='1.0' encoding='klingon'?><Types/>"
    with pytest.raises(FormatError, match=r"^The workbook is corrupt and cannot be opened\.$"):
        read(zip_bytes(entries))


def test_encrypted_parts_and_foreign_compression_methods_are_refused_by_name():
    data = bytearray(workbook_bytes(["ean"], ["1"]))
    # Set the "encrypted" flag of the first entry in the central directory.
    central = data.index(b"PK\x01\x02")
    data[central + 8] |= 0x1
    with pytest.raises(
        FormatError, match=r"^The workbook's part '.+' is encrypted: save the workbook without"
    ):
        read(bytes(data))
    data = bytearray(workbook_bytes(["ean"], ["1"]))
    data[central + 10 : central + 12] = (99).to_bytes(2, "little")  # AES, as 7-Zip writes it
    with pytest.raises(FormatError, match=r"^The workbook's part '.+' uses ZIP compression method 99; "):
        read(bytes(data))


def test_an_empty_first_sheet_is_a_format_error():
    with pytest.raises(FormatError, match=r"^The first sheet of the workbook is empty\.$"):
        read(workbook_bytes())


@pytest.mark.parametrize(
    "data, kind",
    [
        (b"ean;name\n3760000000017;Stylo\n", "plain text (such as CSV)"),
        (b'[{"ean": "3760000000017"}]', "JSON"),
        (b"<?xml version='1.0'?><products/>", "XML"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "an old binary Excel .xls file"),
    ],
)
def test_content_that_is_not_a_workbook_is_named(data, kind):
    with pytest.raises(FormatError, match=rf"^The file is named \.xlsx but its content is {re.escape(kind)}"):
        read(data)
    assert content_mismatch("xlsx", data).startswith("The file is named .xlsx")


@pytest.mark.parametrize(
    "entries, kind",
    [
        ({"word/document.xml": b"<w/>", "[Content_Types].xml": b"<x/>"}, "a Word document"),
        (
            {"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"},
            "an OpenDocument",
        ),
        ({"readme.txt": b"hello"}, "a ZIP archive without xl/workbook.xml"),
    ],
)
def test_zip_archives_that_are_not_workbooks_are_named(entries, kind):
    with pytest.raises(FormatError, match=rf"^The file is named \.xlsx but it is {kind}"):
        read(zip_bytes(entries))


def test_a_workbook_without_a_worksheet_is_a_format_error():
    source = zipfile.ZipFile(io.BytesIO(workbook_bytes(["ean"])))
    entries = {name: source.read(name) for name in source.namelist()}
    entries["xl/workbook.xml"] = re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", entries["xl/workbook.xml"])
    with pytest.raises(FormatError, match=r"^The workbook has no worksheet\.$"):
        read(zip_bytes(entries))


def test_a_workbook_whose_parts_are_missing_cannot_be_opened():
    with pytest.raises(FormatError, match=r"^The workbook is corrupt and cannot be opened\.$"):
        read(zip_bytes({"xl/workbook.xml": b"<workbook/>"}))


def test_a_truncated_workbook_is_a_format_error():
    data = sample("catalog_fr.xlsx")
    with pytest.raises(
        FormatError, match=r"^The file is named \.xlsx but it is not a readable ZIP archive\.$"
    ):
        read(data[: len(data) // 2])


def test_a_workbook_with_a_corrupt_sheet_is_a_format_error():
    source = zipfile.ZipFile(io.BytesIO(workbook_bytes(["ean"], ["1"])))
    entries = {name: source.read(name) for name in source.namelist()}
    entries["xl/worksheets/sheet1.xml"] = entries["xl/worksheets/sheet1.xml"][:-40]
    with pytest.raises(
        FormatError, match=r"^The workbook is corrupt: its first sheet cannot be read after row \d+\.$"
    ):
        read(zip_bytes(entries))


@pytest.mark.parametrize(
    "entries",
    [
        {"xl/workbook.xml": b"<workbook/>"},
        {"[Content_Types].xml": b"<?xml version='1.0' encoding='klingon'?><Types/>", "xl/workbook.xml": b""},
        {
            "[Content_Types].xml": b"<Types>\n<Override PartName='/imports/2026/12/x.xlsx'",
            "xl/workbook.xml": b"",
        },
    ],
)
def test_a_corrupt_workbook_is_named_in_our_words_never_the_library_s(entries):
    with pytest.raises(FormatError) as caught:
        read(zip_bytes(entries))
    message = str(caught.value)
    assert message == "The workbook is corrupt and cannot be opened."
    assert "\n" not in message and "/" not in message


def _renamed_shared_strings(data: bytes, new_name: str) -> bytes:
    """The workbook with its shared text table moved to ``new_name``, found as openpyxl finds it."""
    source = zipfile.ZipFile(io.BytesIO(data))
    entries = {name: source.read(name) for name in source.namelist()}
    entries[new_name] = entries.pop("xl/sharedStrings.xml")
    entries["[Content_Types].xml"] = entries["[Content_Types].xml"].replace(
        b"/xl/sharedStrings.xml", b"/" + new_name.encode()
    )
    rels = "xl/_rels/workbook.xml.rels"
    entries[rels] = entries[rels].replace(b"sharedStrings.xml", new_name.split("/", 1)[1].encode())
    return zip_bytes(entries)


def test_the_shared_text_cap_applies_to_the_part_the_workbook_uses_whatever_its_name(monkeypatch):
    data = _renamed_shared_strings(sample(SHARED_STRINGS_WORKBOOK), "xl/texts.xml")
    columns, rows = read(data)  # a valid workbook under that name
    assert columns and rows
    monkeypatch.setattr(xlsx_module, "MAX_SHARED_STRINGS_BYTES", 100)
    with pytest.raises(
        FormatError, match=r"^The workbook's shared text table inflates to \d+ bytes; at most 100"
    ):
        read(data)


def _inline_cell_workbook(text_bytes: int) -> bytes:
    """A one-row workbook whose B2 is an inline text of ``text_bytes`` bytes, barely compressible."""
    source = zipfile.ZipFile(io.BytesIO(workbook_bytes(["ean", "name"], ["1", "x"])))
    entries = {name: source.read(name) for name in source.namelist()}
    noise = os.urandom(text_bytes).translate(bytes(b"ab"[i & 1] for i in range(256)))
    entries["xl/worksheets/sheet1.xml"] = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>ean</t></is></c>'
        b'<c r="B1" t="inlineStr"><is><t>name</t></is></c></row>'
        b'<row r="2"><c r="A2" t="inlineStr"><is><t>1</t></is></c><c r="B2" t="inlineStr"><is><t>'
        + noise
        + b"</t></is></c></row></sheetData></worksheet>"
    )
    return zip_bytes(entries)


def test_a_cell_text_over_the_limit_is_refused_while_it_streams():
    data = _inline_cell_workbook(20 << 20)
    tracemalloc.start()
    try:
        with pytest.raises(FormatError, match=r"^The workbook holds a text longer than 100000 characters"):
            read(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The parser never held the 20 MB text (nor its str): a few blocks of XML at a time.
    assert peak < 8 << 20, f"peak {peak >> 20} MB"


def test_a_long_cell_text_within_the_limit_is_read():
    data = _inline_cell_workbook(90_000)
    _, (row,) = read(data)
    assert len(row.values["name"]) == 90_000


def test_a_zip_bomb_is_refused_before_inflating():
    bomb = zip_bytes({"xl/workbook.xml": b"<w/>", "xl/worksheets/sheet1.xml": b"\x00" * (20 << 20)})
    assert len(bomb) < 100_000
    with pytest.raises(
        FormatError, match=r"inflates \d+ times \(at most 100 is accepted\): it looks like a zip bomb"
    ):
        read(bomb)


def test_too_many_entries_are_refused():
    entries = {f"xl/media/{n}.txt": b"" for n in range(xlsx_module.MAX_ENTRIES)}
    with pytest.raises(FormatError, match=r"^The workbook holds 10001 files; at most 10000"):
        read(zip_bytes({"xl/workbook.xml": b"<w/>", **entries}))


def test_too_much_inflated_data_is_refused(monkeypatch):
    monkeypatch.setattr(xlsx_module, "MAX_UNCOMPRESSED_BYTES", 10_000)
    with pytest.raises(FormatError, match=r"^The workbook inflates to \d+ bytes; at most 10000"):
        read(sample("catalog_fr.xlsx"))


def test_a_shared_text_table_too_big_for_memory_is_refused(monkeypatch):
    monkeypatch.setattr(xlsx_module, "MAX_SHARED_STRINGS_BYTES", 100)
    expected = r"^The workbook's shared text table inflates to \d+ bytes; at most 100 "
    with pytest.raises(FormatError, match=expected):
        read(sample(SHARED_STRINGS_WORKBOOK))


@pytest.mark.parametrize("name", ["../../etc/cron.d/evil", "/etc/passwd", "xl/../../evil.xml", "C:\\evil"])
def test_unsafe_entry_paths_are_refused(name):
    with pytest.raises(FormatError, match=r"^The workbook contains an unsafe file path"):
        read(zip_bytes({"xl/workbook.xml": b"<w/>", name: b"x"}))


# --- through the pipeline ---------------------------------------------------------------------


@pytest.mark.django_db
def test_xlsx_catalog_imports_with_typed_cells():
    job = import_file(sample("catalog_fr.xlsx"), "xlsx", supplier_code="FR")
    assert job.status == "completed", job.error_summary
    assert (job.total_rows, job.products_created, job.failed_rows) == (4, 4, 0)
    pen = Product.objects.get(ean="3760000000017")
    assert (pen.name, pen.price, pen.stock) == ("Stylo bleu", Decimal("1.99"), 120)
    assert pen.attributes == {"Disponible le": "2024-05-01", "Actif": True, "Poids (kg)": 0.015}
    assert Product.objects.get(ean="0036000000016").price == Decimal("2.10")
    assert Product.objects.filter(ean="0012345678905", name__startswith="Gomme").exists()
    warning = ImportLog.objects.get(job=job, level="warning", row_number=5)
    assert warning.field == "ean" and "0012345678905" in warning.message


@pytest.mark.django_db
def test_real_xlsx_without_an_ean_column_fails_naming_the_missing_column():
    job = import_file(realfile_bytes("die_books.xlsx"), "xlsx")
    assert job.status == "failed"
    assert job.error_summary.startswith(
        "No column maps to ean. The file's columns are: id, name, author_email, price."
    )
    assert not Product.objects.exists()


@pytest.mark.django_db
def test_real_xlsx_mapped_to_a_non_ean_column_fails_every_row_clearly():
    job = import_file(realfile_bytes("die_books.xlsx"), "xlsx", mapping={"id": "ean"})
    assert job.status == "completed" and (job.total_rows, job.failed_rows) == (1, 1)
    log = ImportLog.objects.get(job=job, level="error")
    assert (log.row_number, log.field, log.message, log.value) == (2, "ean", "EAN check digit invalid", "1")


@pytest.mark.django_db
def test_csv_renamed_xlsx_is_refused_with_a_sentence():
    data = b"ean,name\n3760000000017,Stylo\n"
    expected = "The file is named .xlsx but its content is plain text (such as CSV), not an Excel workbook."
    # Refused at upload (400), and by the reader itself for files that arrive another way.
    with pytest.raises(services.UploadRejected) as refused:
        import_file(data, "xlsx")
    assert str(refused.value) == expected
    with pytest.raises(FormatError) as unreadable:
        reader_for("xlsx")(io.BytesIO(data)).columns()
    assert str(unreadable.value) == expected
