"""The columnar validation agrees with RowValidator on every row, whatever the rows hold.

RowValidator is the reference: the vectorised path may only take the rows it would accept
unchanged, and must normalise them the same way; every other row is RowValidator's to judge.
"""

from __future__ import annotations

import io
from decimal import Decimal

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imports.choices import LogLevel
from imports.columnar import BatchValidator, FileChecks, staged_dict
from imports.formats import RawBatch, RawRow
from imports.formats.csv import CsvReader
from imports.mapping import ColumnMapper
from imports.validation import RowValidator
from pixee.text import PYTHON_WHITESPACE
from tests.factories import ean13

COLUMNS = ("EAN", "Nom", "Prix", "Stock", "Marque", "image_url", "Description", "Couleur", "Notes")

# Every quirk CONTRACT §3 and tests/files/ show, and the edges of the vectorised patterns.
_eans = st.sampled_from(
    [
        ean13(1),
        ean13(2),
        ean13(3),
        "4006381333931",
        "4006381333932",  # check digit wrong
        "400638133393",  # 12 digits: UPC-A
        "036000291452",
        "96385074",  # EAN-8
        "04006381333931",  # GTIN-14 with a leading 0
        "4006381 333931",
        "4006-381-333931",
        " 4006381333931 ",
        "6381333931",  # lost zeros, text
        "٤٠٠٦٣٨١٣٣٣٩٣١",  # Arabic-Indic digits
        "",
        "   ",
        "abc",
        "40063813339310000",
    ]
)
_prices = st.sampled_from(
    [
        "29.99",
        "29,99",
        "29.9",
        "0,5",
        "1 234,56",
        "1,234.56",
        "€29,99",
        "29.99 EUR",
        "9.999",
        "0,125",
        "1,234",
        "-5",
        "abc",
        " 29.99",
        "29.99 ",
        "12345678901",
        "9999999999.99",
        "٢٩",
        "",
        "\u00a0",
    ]
)
_stocks = st.sampled_from(["0", "12", "999999999", "1000000000", "12.0", " 12", "-1", "1 200", "x", "", "٣"])
_whitespace = st.sampled_from([*list(PYTHON_WHITESPACE), "", "", "", " "])
_words = st.text(
    alphabet=st.sampled_from(
        [*list("abcXYZ é\"\\'/:.-0123456789"), "\n", "\t", "\r", "\x1c", "\x01", "☃", "\xa0"]
    ),
    max_size=12,
)


@st.composite
def _text(draw, limit: int = 500):
    core = draw(st.one_of(_words, st.just("x" * limit), st.just("y" * (limit + 1)), st.just("é" * limit)))
    return draw(_whitespace) + core + draw(_whitespace)


_urls = st.sampled_from(
    [
        "https://example.test/a.jpg",
        "HTTP://EXAMPLE.TEST/A.JPG",
        "http://example.test/a b.jpg",
        "ftp://example.test/a.jpg",
        "https://",
        " https://example.test/x.png ",
        "http://example.test/\x1cx",
        "",
    ]
)
_cells = {
    "EAN": _eans,
    "Nom": _text(),
    "Prix": _prices,
    "Stock": _stocks,
    "Marque": _text(255),
    "image_url": _urls,
    "Description": _text(),
    "Couleur": _text(),
    "Notes": _text(),
}
# Values JSON, XML and XLSX readers give besides text.
_other_values = st.one_of(
    st.none(),
    st.integers(-5, 10**14),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, places=3, min_value=-100, max_value=10**6),
    st.booleans(),
    st.dictionaries(st.sampled_from(["a", "b"]), st.sampled_from(["1", "x"]), max_size=2),
    st.just("a\x00b"),
    st.just("\ud800"),
)


@st.composite
def _rows(draw, with_other_values: bool):
    rows = []
    for number in range(2, 2 + draw(st.integers(1, 25))):
        values = {}
        for column in COLUMNS:
            if draw(st.integers(0, 9)) == 0:
                continue  # a record without that key (JSON, XML)
            if with_other_values and draw(st.integers(0, 4)) == 0:
                values[column] = draw(_other_values)
            else:
                values[column] = draw(_cells[column])
        rows.append(
            RawRow(number, values, error="row has 3 values" if draw(st.integers(0, 30)) == 0 else None)
        )
    return rows


def _reference(rows: list[RawRow]) -> tuple[list[dict], list[tuple]]:
    validator = RowValidator(ColumnMapper({}))
    valid, logs = [], []
    for row in rows:
        result = validator.validate(row)
        if result.staged is not None:
            valid.append({"row_number": row.number, **result.staged})
        logs += [(row.number, LogLevel.ERROR, i.field, i.message, i.value) for i in result.errors]
        logs += [(row.number, LogLevel.WARNING, i.field, i.message, i.value) for i in result.warnings]
    return valid, logs


def _columnar(batch: RawBatch) -> tuple[list[dict], list[tuple]]:
    checked = BatchValidator(ColumnMapper({})).check(batch)
    valid = [
        {"row_number": row["row_number"], **staged_dict(row)} for row in checked.valid.iter_rows(named=True)
    ]
    return valid, sorted(checked.logs, key=lambda entry: entry[0])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_rows(with_other_values=True))
def test_records_the_same_as_row_by_row(rows):
    assert _columnar(RawBatch.of_rows(rows)) == _reference(rows)


def _csv_safe(value: str) -> str:
    return value.replace(";", ",").replace('"', "'").replace("\n", " ").replace("\r", " ")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_rows(with_other_values=False), st.lists(st.integers(0, 30), max_size=4), st.booleans())
def test_csv_split_by_polars_the_same_as_read_by_csv(rows, blank_lines_at, crlf):
    """Without quotes the CSV reader splits lines itself: same rows, numbers and results."""
    lines = [";".join(COLUMNS)]
    for row in rows:
        lines.append(";".join(_csv_safe(str(row.values.get(column, ""))) for column in COLUMNS))
        if row.error:
            lines[-1] += ";extra;cells"  # a ragged row
    for position in sorted(blank_lines_at, reverse=True):
        lines.insert(min(position, len(lines)), "" if position % 2 else " ; ;")
    data = ("\r\n" if crlf else "\n").join(lines).encode("utf-8")

    split = CsvReader(io.BytesIO(data))
    batches = list(split.batches(7))
    assert split._splits_on_delimiters, "the file has no quote: the split path must be the one tested"
    by_csv = CsvReader(io.BytesIO(data))
    by_csv._splits_on_delimiters = False  # the records path, as a file with quotes takes
    reference = [row for batch in by_csv.batches(7) for row in (batch.raw_row(i) for i in range(len(batch)))]

    assert [n for batch in batches for n in batch.numbers] == [row.number for row in reference]
    valid, logs = [], []
    for batch in batches:
        batch_valid, batch_logs = _columnar(batch)
        valid += batch_valid
        logs += batch_logs
    assert (valid, logs) == _reference(reference)


def test_repeated_eans_and_nameless_new_products_are_rejected_across_batches():
    known = {ean13(9)}
    checks = FileChecks(lambda eans: {e for e in eans if e in known})
    validator = BatchValidator(ColumnMapper({}))
    first = RawBatch.of_rows(
        [RawRow(2, {"ean": ean13(1), "name": "A"}), RawRow(3, {"ean": ean13(2), "name": "B"})]
    )
    second = RawBatch.of_rows(
        [
            RawRow(4, {"ean": ean13(1), "name": "A again"}),  # repeats row 2, from the batch before
            RawRow(5, {"ean": ean13(3)}),  # new and nameless
            RawRow(6, {"ean": ean13(9)}),  # nameless but known: an update
            RawRow(7, {"ean": ean13(3), "name": "C"}),  # repeats row 5 (rejected, but first seen)
        ]
    )
    assert checks.apply(validator.check(first)).logs == []
    checked = checks.apply(validator.check(second))
    assert checked.valid["row_number"].to_list() == [6]
    assert checked.logs == [
        (4, "error", "ean", "duplicate EAN in file (first seen at row 2)", ean13(1)),
        (5, "error", "name", "name missing (required to create a new product)", ""),
        (7, "error", "ean", "duplicate EAN in file (first seen at row 5)", ean13(3)),
    ]
    assert checked.failed == 3


def test_many_batches_keep_every_first_occurrence():
    """The EANs seen are kept in merged sorted runs: a repeat is found whatever run holds it."""
    checks = FileChecks(lambda eans: set())
    validator = BatchValidator(ColumnMapper({}))
    number = 1
    for batch_index in range(40):
        rows = []
        for i in range(5):
            number += 1
            rows.append(RawRow(number, {"ean": ean13(batch_index * 5 + i), "name": "x"}))
        checks.apply(validator.check(RawBatch.of_rows(rows)))
    repeats = [RawRow(1000 + i, {"ean": ean13(i * 7), "name": "y"}) for i in range(28)]
    checked = checks.apply(validator.check(RawBatch.of_rows(repeats)))
    assert checked.valid.is_empty()
    assert [entry[3] for entry in checked.logs] == [
        f"duplicate EAN in file (first seen at row {i * 7 + 2})" for i in range(28)
    ]


def test_python_whitespace_is_what_python_strips():
    import sys

    assert {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()} == set(PYTHON_WHITESPACE)


def test_valid_rows_carry_text_prices_and_json_attributes():
    rows = [RawRow(2, {"ean": ean13(1), "name": " Pen ", "price": "29,99", "Couleur": 'bleu "nuit"\n'})]
    checked = BatchValidator(ColumnMapper({})).check(RawBatch.of_rows(rows))
    assert checked.valid.schema["price"] == pl.Utf8
    row = staged_dict(checked.valid.row(0, named=True))
    assert row["name"] == "Pen" and row["price"] == Decimal("29.99")
    assert row["attributes"] == {"Couleur": 'bleu "nuit"'}


def test_plain_rows_skip_the_row_by_row_validator():
    rows = [
        RawRow(n, {"ean": ean13(n), "name": f"P{n}", "price": "1.50", "stock": "3"}) for n in range(2, 52)
    ]
    rows.append(RawRow(52, {"ean": ean13(99), "name": "Comma", "price": "1 234,50"}))  # not plain
    validator = BatchValidator(ColumnMapper({}))
    judged = []
    original = validator.row_validator.validate
    validator.row_validator.validate = lambda raw: judged.append(raw.number) or original(raw)
    checked = validator.check(RawBatch.of_rows(rows))
    assert judged == [52]
    assert checked.valid.height == 51
