"""The one encoding detector: every reader finds UTF-16 and UTF-32 the same way, BOM or not."""

import io

import pytest

from imports.formats import content_mismatch, reader_for
from imports.formats.encoding import unicode_encoding


def read(file_type: str, data: bytes):
    reader = reader_for(file_type)(io.BytesIO(data))
    return reader.columns(), [row.values for row in reader.rows()]


@pytest.mark.parametrize(
    "head, encoding",
    [
        (b"\xff\xfe\x00\x00[\x00\x00\x00", "utf-32"),  # UTF-32's BOM starts with UTF-16's
        (b"\xff\xfe[\x00{\x00", "utf-16"),
        (b"\xef\xbb\xbf[{", "utf-8-sig"),
        (b"<\x00\x00\x00?\x00\x00\x00", "utf-32-le"),
        (b"\x00<\x00?", "utf-16-be"),
        ("Élément,nom\n".encode("utf-16-le"), "utf-16-le"),  # no ASCII first: every other byte NUL
        (b"ean,name\n", None),
        ("Crème".encode("cp1252"), None),
    ],
)
def test_a_bom_then_the_nul_pattern_name_the_unicode_encoding(head, encoding):
    assert unicode_encoding(head) == encoding


@pytest.mark.parametrize("encoding", ["utf-32", "utf-32-le", "utf-32-be"])
def test_a_utf32_csv_is_read_with_or_without_a_bom(encoding):
    data = "ean,name\n3760000000017,Crème\n".encode(encoding)
    assert content_mismatch("csv", data) is None
    assert read("csv", data) == (["ean", "name"], [{"ean": "3760000000017", "name": "Crème"}])


def test_utf16_xml_without_a_bom_may_start_with_whitespace():
    data = "\n<p><r><nom>Crème</nom></r></p>".encode("utf-16-le")
    assert content_mismatch("xml", data) is None
    assert read("xml", data) == (["nom"], [{"nom": "Crème"}])


def test_a_utf16_json_named_xlsx_is_named_json():
    data = '[{"ean": "3760000000017"}]'.encode("utf-16-le")
    assert content_mismatch("xlsx", data) == (
        "The file is named .xlsx but its content is JSON, not an Excel workbook."
    )
