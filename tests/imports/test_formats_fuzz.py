"""The format layer fuzzed: whatever bytes arrive under whatever extension, only FormatError escapes.

Any other exception would fail the job with "internal error" instead of a sentence the user can
act on (or, in the preview, answer 500). Inputs are random bytes, random bytes behind a plausible
start, and the sample files of tests/files/ (and the small real files of ../shared/realfiles/, when
present) mutated (bytes flipped, cut, repeated, inserted; for workbooks also inside their XML parts,
so openpyxl sees well-formed archives with broken content).

The row validator is fuzzed too: any RawRow, any mapping, and it returns a result whose every value
PostgreSQL can store.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from catalog.vocabulary import MAPPABLE_FIELDS
from imports.formats import FormatError, RawRow, reader_for
from imports.mapping import ColumnMapper
from imports.validation import RowValidator

from ..realfiles import REALFILES

FILES = Path(__file__).resolve().parent.parent / "files"
FILE_TYPES = ("csv", "xlsx", "json", "xml")
# The real files are not ours to commit; the small ones join the corpus where they are present.
REAL_SAMPLE_MAX_BYTES = 16 * 1024
SAMPLES = {
    t: sorted(FILES.glob(f"*.{t}"))
    + sorted(p for p in REALFILES.glob(f"*.{t}") if p.stat().st_size <= REAL_SAMPLE_MAX_BYTES)
    for t in FILE_TYPES
}
# What a file of each type starts with, so random bytes get past the content sniffing.
STARTS = {
    "csv": [b"ean,name,price\n", b"\xef\xbb\xbfEAN;Nom\r\n", b"\xff\xfee\x00a\x00n\x00\t\x00"],
    "json": [b"[", b'[{"ean": ', b"\xef\xbb\xbf[{", b"[\x00{\x00"],
    "xml": [b"<", b"<?xml version='1.0'?><p><r>", b'<?xml version="1.0" encoding="cp1252"?><p>'],
    "xlsx": [b"PK\x03\x04"],
}
ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


def read_everything(file_type: str, data: bytes) -> None:
    """What the pipeline does with a file: its columns, then every row. Only FormatError may escape."""
    reader = reader_for(file_type)(io.BytesIO(data), size=len(data))
    try:
        reader.columns()
        for row in reader.rows():
            assert isinstance(row, RawRow)
            reader.fraction_read()
    except FormatError as exc:
        message = str(exc)
        # A sentence for the job's error_summary (so storable), not an exception's repr.
        assert message[:1].isupper() and message.rstrip().endswith((".", ")", "?")), message
        assert _storable(message), message


# Bytes and tokens that have broken parsers before: encodings, escapes, numbers, markup.
TOKENS = [
    b"\x00",
    b"\xff",
    b"\xed\xa0\x80",  # a UTF-16 surrogate, encoded as UTF-8 (which UTF-8 forbids)
    b"\xc3",
    b"\r",
    b'"',
    b"\\u0000",
    b"\\ud800",
    b"NaN",
    b"-Infinity",
    b"1e999999999",
    b"9" * 40,
    b"&#0;",
    b"&#xD800;",
    b"&amp;",
    b"&x;",
    b"<![CDATA[",
    b"]]>",
    b"<!DOCTYPE x [<!ENTITY e 'e'>]>",
    b"<?xml version='1.0' encoding='utf-16'?>",
    b"_x0000_",
    b"_xD800_",
    b'<c r="A1" t="s"><v>999</v></c>',
    b'<c r="ZZZZ99999999" t="n"><v>NaN</v></c>',
    b'<c t="d"><v>x</v></c>',
    b'<c t="e"><v>#N/A</v></c>',
    b'<dimension ref="A1:XFD1048576"/>',
]


@st.composite
def mutated(draw, sample: bytes) -> bytes:
    data = bytearray(sample)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        kind = draw(st.sampled_from(["flip", "cut", "truncate", "insert", "token", "repeat"]))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[at : at + draw(st.integers(1, 64))]
        elif kind == "truncate":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=32))
        elif kind == "token":
            data[at:at] = draw(st.sampled_from(TOKENS))
        else:
            data[at:at] = data[at : at + draw(st.integers(1, 256))] * draw(st.integers(2, 20))
    return bytes(data)


# Files written the regular way from random content, to get past the syntax and reach the code
# that interprets values (encodings, escapes, numbers, odd shapes).
_cell_text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
_cell = st.one_of(
    _cell_text,
    st.sampled_from(["_x0041_", "_x000D_", "_x0000_", "=1+1", "3760000000017", "29,99", ""]),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
)
_records = st.lists(st.lists(_cell, max_size=5), min_size=1, max_size=6)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def written_csv(draw) -> bytes:
    import csv

    out = io.StringIO()
    writer = csv.writer(out, delimiter=draw(st.sampled_from([",", ";", "\t", "|"])))
    for record in draw(_records):
        writer.writerow(record)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252"]))
    return out.getvalue().encode(encoding, errors="replace")


@st.composite
def written_json(draw) -> bytes:
    items = draw(st.lists(_json_values, max_size=6))
    text = json.dumps(items, ensure_ascii=draw(st.booleans()))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-be", "utf-32-le"]))
    return text.encode(encoding, errors="surrogatepass")


@st.composite
def written_xml(draw) -> bytes:
    from xml.etree import ElementTree as ET

    tag = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_.-]{0,6}\Z")
    root = ET.Element(draw(tag))
    for record in draw(_records):
        element = ET.SubElement(root, draw(tag), {draw(tag): str(draw(_cell))} if draw(st.booleans()) else {})
        for value in record:
            ET.SubElement(element, draw(tag)).text = str(value)
    encoding = draw(st.sampled_from(["utf-8", "iso-8859-1", "utf-16", "shift_jis"]))
    return ET.tostring(root, encoding=encoding, xml_declaration=True)


@st.composite
def written_xlsx(draw) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    for record in draw(_records):
        workbook.active.append([ILLEGAL_XML.sub("", v) if isinstance(v, str) else v for v in record])
    out = io.BytesIO()
    workbook.save(out)
    saved = zipfile.ZipFile(out)
    parts = {info.filename: saved.read(info) for info in saved.infolist()}
    # openpyxl stamps the save time in the properties: pin it, so a draw gives the same bytes.
    parts["docProps/core.xml"] = re.sub(
        rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2024-01-01T00:00:00Z", parts["docProps/core.xml"]
    )
    return _zip(parts)


WRITERS = {"csv": written_csv, "json": written_json, "xml": written_xml, "xlsx": written_xlsx}


@st.composite
def mutated_workbook(draw) -> bytes:
    """A sample workbook, well-formed as a ZIP, with one of its parts mutated."""
    source = zipfile.ZipFile(draw(st.sampled_from(SAMPLES["xlsx"])))
    parts = {info.filename: source.read(info) for info in source.infolist()}
    name = draw(st.sampled_from(sorted(parts)))
    parts[name] = draw(mutated(parts[name]))
    return _zip(parts)


def _zip(parts: dict[str, bytes]) -> bytes:
    """A deflated ZIP of ``parts`` with fixed timestamps: the same draw must give the same bytes
    (hypothesis replays draws), and zipfile stamps each entry with the current time."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for part, content in parts.items():
            stamp = zipfile.ZipInfo(part, date_time=(2024, 1, 1, 0, 0, 0))
            archive.writestr(stamp, content, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def hostile_bytes(file_type: str):
    samples = [path.read_bytes() for path in SAMPLES[file_type]]
    written = WRITERS[file_type]()
    strategies = [
        st.binary(max_size=2048),
        st.tuples(st.sampled_from(STARTS[file_type]), st.binary(max_size=2048)).map(b"".join),
        st.sampled_from(samples).flatmap(mutated),
        written,
        written.flatmap(mutated),
    ]
    if file_type == "xlsx":
        strategies.append(mutated_workbook())
    return st.one_of(strategies)


@pytest.mark.parametrize("file_type", FILE_TYPES)
def test_only_format_errors_escape_the_readers(file_type):
    @FUZZ
    @given(data=hostile_bytes(file_type))
    def check(data):
        read_everything(file_type, data)

    check()


# --- the row validator ------------------------------------------------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from([Decimal("NaN"), Decimal("sNaN"), Decimal("-Infinity"), Decimal("1E+999999")]),
    st.text(max_size=40),
    st.text(alphabet=st.characters(exclude_categories=()), max_size=20),  # NUL, lone surrogates too
    st.sampled_from(["29,99", "1 234,56", "€29.99", "-1", "3760000000017", "0036000000016", ""]),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
_columns = st.one_of(
    st.sampled_from(["EAN", "Titre", "Prix HT", "stock", "marque", "x"]),
    st.text(alphabet=st.characters(exclude_categories=()), max_size=12),
)


@st.composite
def rows_and_mapping(draw):
    values = draw(st.dictionaries(_columns, _values, max_size=8))
    fields = draw(st.permutations([*MAPPABLE_FIELDS, "", ""]))
    mapping = {c: f for c, f in zip(values, fields, strict=False) if draw(st.booleans()) and "\x00" not in c}
    error = draw(st.none() | st.text(max_size=20))
    return RawRow(draw(st.integers(1, 10**6)), values, error), mapping


def _storable(value) -> bool:
    """What PostgreSQL text and jsonb accept: no NUL character, no lone surrogate, no NaN in JSON."""
    if isinstance(value, str):
        return "\x00" not in value and not re.search("[\ud800-\udfff]", value)
    if isinstance(value, dict):
        return all(_storable(k) and _storable(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(_storable(v) for v in value)
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, Decimal):
        return value.is_finite()
    return True


@FUZZ
@given(case=rows_and_mapping())
@example(case=(RawRow(2, {"ean": "3760000000017", "price": Decimal("NaN")}), {}))
@example(case=(RawRow(2, {"ean": "3760000000017", "name": "a\x00b"}), {}))
@example(case=(RawRow(2, {"ean": "3760000000017", "x": {"k\x00": "\ud800"}}), {}))
def test_the_row_validator_never_raises_and_returns_storable_values(case):
    raw, mapping = case
    result = RowValidator(ColumnMapper(mapping)).validate(raw)
    assert result.number == raw.number
    assert (result.staged is None) == bool(result.errors)
    if result.staged is not None:
        assert _storable({k: v for k, v in result.staged.items()})
    for issue in (*result.errors, *result.warnings):
        assert _storable([issue.field, issue.message, issue.value])
