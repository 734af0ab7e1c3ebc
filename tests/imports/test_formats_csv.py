"""CSV: real supplier quirks (encodings, line endings, multi-line cells, delimiters) and clear failures."""

import io
from pathlib import Path

import pytest

from catalog.models import Product
from imports import services
from imports.formats import FormatError, content_mismatch, reader_for
from imports.models import ImportLog

from ..realfiles import realfile_bytes
from .catalog_files import import_file

FILES = Path(__file__).resolve().parent.parent / "files"


def read(data: bytes):
    reader = reader_for("csv")(io.BytesIO(data))
    return reader.columns(), list(reader.rows())


def fails(data: bytes, message: str):
    with pytest.raises(FormatError) as caught:
        read(data)
    assert str(caught.value) == message


@pytest.mark.parametrize("name", ["magento_products_gear_watches.csv", "magento_products_gear_bags.csv"])
def test_magento_multi_line_html_cells_are_one_row_each(name):
    columns, rows = read(realfile_bytes(name))
    assert columns[:6] == ["category", "name", "sku", "price", "qty", "description"]
    # A record spanning many lines is one spreadsheet row: rows are numbered 2, 3, 4...
    assert [row.number for row in rows] == list(range(2, len(rows) + 2))
    assert all(row.error is None for row in rows)
    first = rows[0].values
    assert first["category"].startswith("Gear\n")
    assert first["description"].startswith("<p>") and "\n<ul>\n<li>" in first["description"]


def test_watches_keep_doubled_quotes_inside_html():
    _, rows = read(realfile_bytes("magento_products_gear_watches.csv"))
    assert '<li>Strap fits 7" to 8.0".</li>' in rows[0].values["description"]


@pytest.mark.parametrize(
    "name, book",
    [
        ("die_books-ISO-8859-1.csv", "Merci à toi"),
        ("die_books-dos.csv", "Some book"),
        ("die_books-mac.csv", "Some book"),
        ("die_books-unicode.csv", "Some bookš"),
    ],
)
def test_encodings_and_line_endings_of_real_files(name, book):
    columns, rows = read(realfile_bytes(name))
    assert columns == ["id", "name", "author_email"]
    assert [(row.number, row.values) for row in rows] == [
        (2, {"id": "1", "name": book, "author_email": "test@example.com"})
    ]


def test_excel_csv_in_windows_1252_with_semicolons():
    columns, [row] = read((FILES / "excel_semicolon_cp1252.csv").read_bytes())
    assert columns == ["EAN", "Désignation", "Prix HT", "Stock"]
    assert row.values["Désignation"] == "Crème brûlée" and row.values["Prix HT"] == "€1 234,50"


def test_excel_unicode_text_is_utf16_with_tabs():
    reader = reader_for("csv")(io.BytesIO((FILES / "excel_unicode_text.csv").read_bytes()))
    assert reader.columns() == ["GTIN", "Product name", "Unit price"]
    assert (reader.encoding, reader.delimiter) == ("utf-16", "\t")
    assert next(reader.rows()).values["Product name"] == "Żółw 🐢"


def test_utf16_without_a_bom_is_detected():
    _, [row] = read("ean,name\n3760000000017,Crème\n".encode("utf-16-le"))
    assert row.values == {"ean": "3760000000017", "name": "Crème"}


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_delimiter_is_detected(delimiter):
    text = delimiter.join(["ean", "name", "price"]) + "\n" + delimiter.join(["1", "a, b; c", "1,5"]) + "\n"
    text = text.replace("a, b; c", '"a, b; c"') if delimiter in ",;" else text
    text = text.replace("1,5", '"1,5"') if delimiter == "," else text
    _, [row] = read(text.encode())
    assert row.values == {"ean": "1", "name": "a, b; c", "price": "1,5"}


def test_blank_lines_are_not_rows_but_keep_the_numbering():
    columns, rows = read(b"\n\nean;name\n1;a\n;\n\n2;b\n")
    assert columns == ["ean", "name"]
    assert [row.number for row in rows] == [4, 7]


def test_blank_and_repeated_headers_get_names():
    columns, [row] = read(b"ean,,name,name\n1,x,a,b\n")
    assert columns == ["ean", "column 2", "name", "name (2)"]
    assert row.values == {"ean": "1", "column 2": "x", "name": "a", "name (2)": "b"}


def test_extra_cells_are_a_row_error_and_short_rows_are_fine():
    _, rows = read(b"ean,name\n1,a,surplus\n2\n3,c,\n")
    assert rows[0].error == "row has 3 values but the header has 2 columns"
    assert rows[1].values == {"ean": "2"}
    assert rows[2].values == {"ean": "3", "name": "c"}


def test_a_quote_left_open_fails_with_its_line():
    fails(
        b'ean,name\n1,"open\n2,b\n',
        "A quoted field is never closed: the file ends inside quotes (line 3).",
    )


def test_a_nul_byte_fails():
    fails(b"ean,name\n1,a\x00b\n", "The file is named .csv but its content is binary data, not CSV.")


def test_a_nul_byte_past_the_sniffed_start_fails_with_its_line():
    # The upload sniffs the first bytes only; Python's csv module reads NUL as text.
    fails(
        b"ean,name\n" + b"1,a\n" * 20_000 + b"2,b\x00c\n",
        "Line 20002 contains a NUL byte: the file is not CSV text.",
    )


@pytest.mark.parametrize(
    "data, message",
    [
        (
            b"\xff\xfee\x00a\x00n\x00\t\x00m\xdc",
            "The file is not valid utf-16 text: it holds bytes that are not utf-16 text.",
        ),
        (
            b"\xef\xbb\xbfEAN;Nom\r\n\xf4",
            "The file is not valid utf-8-sig text: its last character is cut off.",
        ),
        (
            b"\xef\xbb\xbfEAN;Nom\r\n\xff1;a\r\n",
            "The file is not valid utf-8-sig text: it holds bytes that are not utf-8-sig text.",
        ),
    ],
)
def test_text_that_breaks_the_encoding_its_bom_announces_fails(data, message):
    fails(data, message)


def test_a_quote_followed_by_text_is_described_in_our_words():
    fails(
        b'ean;name\n1;"Lamp" 40W\n',
        "The CSV is malformed at line 2: a quoted field is followed by other text before the next ';' "
        '(a quote inside a quoted field is written twice: "").',
    )


def test_an_overlong_field_fails():
    with pytest.raises(FormatError, match=r"^A field ending at line 2 is longer than 100000 characters"):
        read(b"ean,description\n1," + b"x" * 100_001 + b"\n")


def test_a_csv_whose_first_header_has_brackets_is_not_taken_for_json():
    columns, _ = read(b"[Brand],EAN\nAcme,3760000000017\n")
    assert columns == ["[Brand]", "EAN"]


@pytest.mark.parametrize(
    "data, kind",
    [
        (b'[{"ean": "3760000000017"}]', "JSON"),
        (b"<?xml version='1.0'?><products/>", "XML"),
        ((FILES / "catalog_fr.xlsx").read_bytes(), "a ZIP archive (such as an Excel .xlsx file)"),
        (b"%PDF-1.7\n...", "a PDF document"),
    ],
)
def test_content_that_is_not_csv_is_named(data, kind):
    message = f"The file is named .csv but its content is {kind}, not CSV."
    fails(data, message)
    assert content_mismatch("csv", data) == message


def test_empty_file_fails():
    fails(b"\r\n \r\n", "The file is empty.")


# --- through the pipeline ---------------------------------------------------------------------


@pytest.mark.django_db
def test_real_csv_without_an_ean_column_fails_naming_the_missing_column():
    job = import_file(realfile_bytes("magento_products_gear_watches.csv"), "csv")
    assert job.status == "failed"
    assert job.error_summary.startswith("No column maps to ean. The file's columns are: category, name, sku,")
    assert "Name the EAN column EAN, GTIN or Code barre" in job.error_summary
    assert not Product.objects.exists()


@pytest.mark.django_db
def test_real_csv_mapped_to_a_non_ean_column_fails_every_row_clearly():
    job = import_file(realfile_bytes("magento_products_gear_bags.csv"), "csv", mapping={"sku": "ean"})
    assert job.status == "completed"
    assert job.failed_rows == job.total_rows > 5 and not Product.objects.exists()
    errors = ImportLog.objects.filter(job=job, level="error").order_by("row_number")
    assert {(e.field, e.message) for e in errors} == {("ean", "EAN format invalid (expected 13 digits)")}
    assert errors[0].row_number == 2 and errors[0].value == "24-MB01"
    assert job.error_summary == f"{job.failed_rows} rows failed: {job.failed_rows} EAN format invalid"


@pytest.mark.django_db
def test_real_latin1_csv_mapped_to_its_id_reports_the_ean_format():
    job = import_file(realfile_bytes("die_books-ISO-8859-1.csv"), "csv", mapping={"id": "ean"})
    log = ImportLog.objects.get(job=job, level="error")
    assert (log.row_number, log.field, log.message, log.value) == (
        2,
        "ean",
        "EAN format invalid (expected 13 digits)",
        "1",
    )


@pytest.mark.django_db
def test_xlsx_renamed_csv_is_refused_with_a_sentence():
    data = (FILES / "catalog_fr.xlsx").read_bytes()
    expected = (
        "The file is named .csv but its content is a ZIP archive (such as an Excel .xlsx file), not CSV."
    )
    # Refused at upload (400), and by the reader itself for files that arrive another way.
    with pytest.raises(services.UploadRejected) as refused:
        import_file(data, "csv")
    assert str(refused.value) == expected
    with pytest.raises(FormatError) as unreadable:
        reader_for("csv")(io.BytesIO(data)).columns()
    assert str(unreadable.value) == expected
