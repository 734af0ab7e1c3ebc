"""JSON: a streamed array of objects; stray items are row errors, broken files clear failures."""

import io
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from catalog.models import Product
from imports import services
from imports.formats import FormatError, content_mismatch, reader_for
from imports.formats import base as base_module
from imports.formats import json as json_format
from imports.formats.base import RowReader
from imports.formats.json import BUFFER_BYTES, FAST_BLOCK_BYTES, JsonReader
from imports.models import ImportLog

from ..realfiles import realfile_bytes
from .catalog_files import import_file
from .helpers import batch_contents

FILES = Path(__file__).resolve().parent.parent / "files"


def read(data: bytes):
    reader = reader_for("json")(io.BytesIO(data))
    return reader.columns(), list(reader.rows())


def fails(data: bytes, message: str):
    with pytest.raises(FormatError) as caught:
        read(data)
    assert str(caught.value) == message


def test_objects_are_rows_numbered_by_position_and_stray_items_are_row_errors():
    columns, rows = read((FILES / "catalog.json").read_bytes())
    assert columns == ["ean", "title", "price", "stock", "brand", "specs", "tags"]
    # Item 4 is {}: a blank row, not a row; the numbering keeps positions.
    assert [row.number for row in rows] == [1, 2, 3, 5]
    pen, notebook, stray, eraser = rows
    assert pen.values["price"] == Decimal("1.99") and pen.values["stock"] == 120
    assert pen.values["specs"] == {"colour": "blue", "weights": [Decimal("0.015"), Decimal("0.02")]}
    assert notebook.values["ean"] == 3760000000024 and notebook.values["stock"] is None
    assert stray.error == "item 3 is not an object (found a string)" and stray.values == {}
    assert eraser.values["discontinued"] is False


@pytest.mark.parametrize("name", ["catalog_bom.json", "catalog_utf16.json"])
def test_a_bom_and_utf16_read_the_same_rows(name):
    assert read((FILES / name).read_bytes()) == read((FILES / "catalog.json").read_bytes())


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_are_detected_without_a_bom(encoding):
    _, [row] = read('[{"ean": "3760000000017", "name": "Crème"}]'.encode(encoding))
    assert row.values == {"ean": "3760000000017", "name": "Crème"}


def test_text_that_is_not_valid_in_its_encoding_fails():
    data = '[{"ean": "1"}, {"name": "\ud800"}]'.encode("utf-16", "surrogatepass")
    with pytest.raises(FormatError) as caught:
        read(data)
    assert str(caught.value) == "The file is not valid utf-16 text near byte 52."


def test_columns_come_from_the_first_object_and_later_keys_still_arrive():
    columns, rows = read(b'["x", {"ean": 1}, {"ean": 2, "brand": "B"}]')
    assert columns == ["ean"]
    assert rows[0].error and rows[2].values == {"ean": 2, "brand": "B"}


def test_items_of_every_kind_that_are_not_objects_are_named():
    _, rows = read(b'[{"a": 1}, "s", 2, 2.5, true, null, [1, {"b": 2}]]')
    kinds = [re.search(r"found (.*)\)", row.error).group(1) for row in rows[1:]]
    assert kinds == ["a string", "a number", "a number", "a boolean", "null", "an array"]


def test_reading_is_streamed_not_loaded():
    """The first rows arrive after reading a sliver of a large file."""
    items = [{"ean": str(n), "name": f"Product {n}", "description": "x" * 200} for n in range(60_000)]
    data = json.dumps(items).encode()

    class Counting(io.BytesIO):
        consumed = 0

        def read(self, size=-1):
            chunk = super().read(size)
            Counting.consumed += len(chunk)
            return chunk

    reader = reader_for("json")(Counting(data))
    rows = reader.rows()
    next(rows)
    # The head (to tell the encoding) and about one block of the fast path, of a file ten times that.
    assert Counting.consumed < 2 * FAST_BLOCK_BYTES and len(data) > 10 * Counting.consumed
    assert 0 < reader.fraction_read() < 0.1
    assert sum(1 for _ in rows) == 59_999


def test_a_top_level_object_holding_one_array_gives_its_records():
    columns, rows = read(
        b'{"total": 2, "meta": {"page": 1}, "products": [{"ean": "1"}, {"ean": "2"}], "skip": 0}'
    )
    assert columns == ["ean"]
    assert [(r.number, r.values) for r in rows] == [(1, {"ean": "1"}), (2, {"ean": "2"})]


def test_a_top_level_object_without_an_array_fails_naming_its_first_key():
    fails(
        b'{"total": 0, "meta": {"page": 1}}',
        "The JSON file's top level is an object (its first key is 'total') holding no array: "
        "expected an array of objects, or an object holding one.",
    )


@pytest.mark.parametrize(
    "data, message",
    [
        (b"[]", "The JSON array is empty: the file holds no products."),
        (b' [ {}, {"a": null} ] ', "The JSON array holds only empty objects: the file holds no products."),
        (
            b'["a", "b"]',
            "The JSON array holds no object with values (item 1 is a string): expected an array of objects.",
        ),
    ],
)
def test_arrays_without_usable_objects_fail(data, message):
    fails(data, message)


def test_an_array_that_starts_with_thousands_of_stray_items_fails():
    with pytest.raises(FormatError, match=r"^None of the first 1000 items of the JSON array is an object"):
        read(json.dumps([1] * 1500 + [{"ean": 1}]).encode())


@pytest.mark.parametrize(
    "data, message",
    [
        (
            b'[{"ean": "1"},\n {"ean": "2", "name": tru}]',
            "The JSON is malformed in item 2 (after key 'name'): it holds something that is not JSON "
            "(text goes in double quotes; true, false and null are written in lower case).",
        ),
        (
            b'[{"ean": "1"}] {"ean": "2"}',
            "The JSON is malformed after item 1: something follows the end of the array.",
        ),
        (b'[{"ean": "1"}, {"ean": "2"', "The JSON file is cut short: it ends in item 2 (after key 'ean')."),
        (b"[", "The JSON file is cut short: it ends before any item."),
        (
            b'[{"ean": "1", "price": NaN}]',
            "The JSON is malformed in item 1 (after key 'price'): NaN and Infinity are not JSON numbers.",
        ),
        (
            b'[{"ean": "\xff"}]',
            "The JSON is malformed in item 1 (after key 'ean'): it holds bytes that are not UTF-8 text.",
        ),
    ],
)
def test_malformed_json_fails_with_its_position(data, message):
    fails(data, message)


@pytest.mark.parametrize("string", [b"\xed\xa0\x80", b"a\\udc00", b"\\ud800x", b"\\\\\\ud800"])
def test_a_lone_surrogate_in_a_value_is_a_row_error_not_changed_text(string):
    # yajl turned an escaped high one into "?" and let a UTF-8-encoded one through.
    _, rows = read(b'[{"ean": "1", "name": "' + string + b'"}, {"ean": "2", "name": "ok"}]')
    assert [(r.number, r.error) for r in rows] == [
        (1, "item 1: the value at key 'name' holds a lone UTF-16 surrogate, which is not a character"),
        (2, None),
    ]


def test_surrogate_pairs_and_escaped_backslashes_are_kept_across_block_boundaries():
    # Each item is placed so that its escapes straddle the reader's blocks at every offset.
    items = []
    for pad in range(0, 40):
        items.append({"ean": str(pad), "name": "x" * (4090 + pad), "note": "\U0001f600 \\ud800"})
    data = json.dumps(items, ensure_ascii=True).encode()
    lone = data.replace(b'"note": "', b'"note": "\\ud800', 7)
    _, rows = read(data)
    assert all(r.error is None and r.values["note"] == "\U0001f600 \\ud800" for r in rows)
    _, rows = read(lone)
    assert [r.number for r in rows if r.error] == list(range(1, 8))


def test_a_lone_surrogate_in_a_key_fails():
    fails(
        b'[{"ean": "1", "na\\ud800me": "x"}]',
        "Item 1 has a key holding a lone UTF-16 surrogate, which is not a character.",
    )


@pytest.mark.parametrize("item", [b'{"ean\\u0000": "1"}', b'{"ean": "1", "specs": {"a\\u0000": 1}}'])
def test_a_key_holding_a_nul_character_fails(item):
    fails(b"[" + item + b"]", "Item 1 has a key holding a NUL character (U+0000).")


def test_infinity_is_refused_too():
    with pytest.raises(FormatError, match="NaN and Infinity are not JSON numbers"):
        read(b'[{"price": -Infinity}]')


def test_nesting_up_to_the_limit_is_read_and_beyond_it_fails():
    # The array is level 1 and the item level 2: 62 more levels reach the limit of 64.
    _, [row] = read(b'[{"a": ' + b"[" * 62 + b"]" * 62 + b"}]")
    value, depth = row.values["a"], 1
    while value:
        value, depth = value[0], depth + 1
    assert depth == 62
    fails(
        b'[{"a": ' + b"[" * 63 + b"]" * 63 + b"}]",
        "Item 1 is nested more than 64 levels deep (at key 'a').",
    )


def test_a_nesting_bomb_fails_before_building_anything():
    fails(b'[{"a": ' + b"[" * 1_000_000, "Item 1 is nested more than 64 levels deep (at key 'a').")


def test_a_number_with_thousands_of_digits_fails_and_the_parser_keeps_working():
    fails(
        b'[{"ean": "1"}, {"price": 1' + b"0" * 5000 + b"}]",
        "The JSON file holds a number longer than 4000 digits (from byte 25); numbers that long are refused.",
    )
    # ijson's C parser used to be left corrupted by such a number: the next file must still parse.
    _, rows = read(json.dumps([{"ean": str(n), "n": 10**50} for n in range(5000)]).encode())
    assert len(rows) == 5000


@pytest.mark.parametrize("number", [b"1e400", b"-1.5E+200", b"1" + b"0" * 150])
def test_a_huge_number_is_a_row_error(number):
    _, [row, after] = read(b'[{"ean": "1", "price": ' + number + b'}, {"ean": "2"}]')
    assert row.error == "item 1: the number at key 'price' is too large (more than 100 digits)"
    assert after.error is None


def test_an_overlong_value_fails():
    fails(
        json.dumps([{"description": "x" * 100_001}]).encode(),
        "Item 1 has a value longer than 100000 characters (at key 'description').",
    )


def test_too_many_keys_fail():
    fails(
        json.dumps([{f"k{n}": n for n in range(1001)}]).encode(),
        "Item 1 has 1001 keys; at most 1000 are supported.",
    )


@pytest.mark.parametrize(
    "data, kind",
    [
        (b"ean;name\n3760000000017;Stylo\n", "plain text (such as CSV)"),
        (b"<?xml version='1.0'?><products/>", "XML"),
        ((FILES / "catalog_fr.xlsx").read_bytes(), "a ZIP archive (such as an Excel .xlsx file)"),
        (b"\x00\x01\x02binary", "binary data"),
    ],
)
def test_content_that_is_not_json_is_named(data, kind):
    message = f"The file is named .json but its content is {kind}, not a JSON array of objects."
    fails(data, message)
    assert content_mismatch("json", data) == message


def test_empty_file_fails():
    fails(b"  \n", "The file is empty.")


# --- through the pipeline ---------------------------------------------------------------------


@pytest.mark.django_db
def test_json_catalog_imports_with_nested_values_in_attributes():
    job = import_file((FILES / "catalog.json").read_bytes(), "json", supplier_code="SUP")
    assert job.status == "completed", job.error_summary
    assert (job.total_rows, job.products_created, job.failed_rows) == (4, 3, 1)
    pen = Product.objects.get(ean="3760000000017")
    assert (pen.name, pen.price, pen.stock, pen.brand) == ("Stylo bleu", Decimal("1.99"), 120, "Bic")
    assert pen.attributes == {
        "specs": {"colour": "blue", "weights": [0.015, 0.02]},
        "tags": ["office", "pen"],
    }
    assert Product.objects.get(ean="3760000000024").price == Decimal("3.50")
    assert Product.objects.get(ean="0012345678905").attributes == {"discontinued": False}
    error = ImportLog.objects.get(job=job, level="error")
    assert (error.row_number, error.message) == (3, "item 3 is not an object (found a string)")


@pytest.mark.django_db
def test_a_mapped_nested_value_becomes_json_text():
    data = b'[{"ean": "3760000000017", "name": "P", "category": ["Office", {"sub": 1.5}]}]'
    job = import_file(data, "json")
    assert job.status == "completed", job.error_summary
    assert Product.objects.get().category == '["Office", {"sub": 1.5}]'


@pytest.mark.django_db
def test_real_json_without_an_ean_column_fails_naming_the_missing_column():
    job = import_file(realfile_bytes("die_books.json"), "json")
    assert job.status == "failed"
    assert job.error_summary.startswith("No column maps to ean. The file's columns are: id, name, author,")
    assert not Product.objects.exists()


@pytest.mark.django_db
def test_real_json_mapped_to_a_non_ean_column_fails_every_row_clearly():
    job = import_file(realfile_bytes("die_books.json"), "json", mapping={"id": "ean"})
    assert job.status == "completed" and (job.total_rows, job.failed_rows) == (3, 3)
    errors = ImportLog.objects.filter(job=job, level="error").order_by("row_number")
    assert [(e.row_number, e.field, e.message) for e in errors] == [
        (n, "ean", "EAN check digit invalid") for n in (1, 2, 3)
    ]


@pytest.mark.django_db
def test_xml_renamed_json_is_refused_with_a_sentence():
    data = (FILES / "catalog.xml").read_bytes()
    expected = "The file is named .json but its content is XML, not a JSON array of objects."
    # Refused at upload (400), and by the reader itself for files that arrive another way.
    with pytest.raises(services.UploadRejected) as refused:
        import_file(data, "json")
    assert str(refused.value) == expected
    with pytest.raises(FormatError) as unreadable:
        reader_for("json")(io.BytesIO(data)).columns()
    assert str(unreadable.value) == expected


@pytest.mark.django_db
def test_malformed_json_fails_the_job_and_writes_nothing():
    job = import_file(b'[{"ean": "3760000000017", "name": "A"}, {"ean": ', "json")
    assert job.status == "failed"
    assert job.error_summary == "The JSON file is cut short: it ends in item 2 (after key 'ean')."
    assert not Product.objects.exists()


# Broken files whose parser complaints differ: the summary says where and what in our words.
BROKEN = [
    b'[{"ean": "3760000000017", "name": tru}]',
    b'[{"ean": "3760000000017"}] x',
    b'[{ean: "3760000000017"}]',
    b'[{"ean" "3760000000017"}]',
    b'[{"ean": "3760000000017" "name": "A"}]',
    b'[{"ean": "3760000000017"} {"ean": "3760000000024"}]',
    b'[{"ean": "3760000000017", "price": 1.}]',
    b'[{"ean": "3760000000017", "name": "a\\q"}]',
    b'[{"ean": "3760000000017", "name": "a\nb"}]',
    b'[/* exported */ {"ean": "3760000000017"}]',
    b'[{"ean": "3760000000017",}]',
    b'[{"ean": "3760000000017"},]',
    b'[{"ean": "\xff"}]',
]


def _parser_complaint(data: bytes) -> str:
    from ijson import JSONError

    from imports.formats.json import _backend

    with pytest.raises(JSONError) as caught:
        list(_backend().basic_parse(io.BytesIO(data)))
    message = caught.value.args[0]
    return message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)


@pytest.mark.django_db
@pytest.mark.parametrize("data", BROKEN)
def test_a_broken_json_files_summary_is_one_sentence_of_ours_naming_the_item(data):
    job = import_file(data, "json")
    summary = job.error_summary
    assert job.status == "failed"
    assert re.match(
        r"The JSON is malformed (at its start|in item 1 \(after key '\w+'\)|after item 1): ", summary
    )
    assert "\n" not in summary and ". " not in summary and summary.endswith("."), summary
    # None of the parser's words: neither its reason nor its picture of the spot.
    complaint = _parser_complaint(data)
    reason = complaint.splitlines()[0].split(": ", 1)[-1].rstrip(".")
    assert reason not in summary and "right here" not in summary, (summary, complaint)


# --- the fast path and the event path agree -------------------------------------------------
# Most items are decoded whole by the standard library's scanner; the event path (ijson) stays the
# judge of everything else. Both must give the same records, errors and messages on any input.

_KEYS = st.text(alphabet=st.sampled_from(["a", "b", "é", "\x00", "\ud800", "\\", '"', "k"]), max_size=4)
_NUMBERS = st.one_of(
    st.integers(min_value=-(10**110), max_value=10**110).map(str),
    st.decimals(allow_nan=False, allow_infinity=False).map(str).filter(lambda d: "E" not in d or d[0] != "."),
    st.sampled_from(["1e100", "1E99", "-0", "0.10", "2.50", "1e-7", "NaN", "Infinity"]),
)
_STRINGS = st.text(
    alphabet=st.sampled_from(["x", " ", "é", "\x00", "\ud800", "\udc00", "\U0001f600", "\n", "\uffff"])
)


def _key(key: str, ascii_only: bool) -> str:
    return json.dumps(key, ensure_ascii=ascii_only)


def _scalar(ascii_only: bool):
    return st.one_of(
        st.just("null"),
        st.sampled_from(["true", "false"]),
        _NUMBERS,
        _STRINGS.map(lambda s: json.dumps(s, ensure_ascii=ascii_only)),
    )


def _value(ascii_only: bool):
    return st.recursive(
        _scalar(ascii_only),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3).map(lambda items: "[" + ",".join(items) + "]"),
            st.lists(st.tuples(_KEYS, inner), max_size=3).map(
                lambda pairs: "{" + ",".join(f"{_key(k, ascii_only)}:{v}" for k, v in pairs) + "}"
            ),
        ),
        max_leaves=6,
    )


@st.composite
def json_documents(draw) -> bytes:
    ascii_only = draw(st.booleans())
    space = draw(st.sampled_from(["", " ", "\n  ", "\t"]))
    item = st.one_of(
        st.lists(st.tuples(_KEYS, _value(ascii_only)), max_size=5).map(
            lambda pairs: (
                "{" + ("," + space).join(f"{_key(k, ascii_only)}:{space}{v}" for k, v in pairs) + "}"
            )
        ),
        _value(ascii_only),
    )
    text = "[" + space + ("," + space).join(draw(st.lists(item, max_size=6))) + space + "]"
    text += draw(st.sampled_from(["", "\n", " x", ",", "]"]))
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        data = data[: draw(st.integers(min_value=1, max_value=len(data)))]
    return data


def _outcome(data: bytes, *, fast: bool):
    reader = JsonReader(io.BytesIO(data))
    rows: list = []
    try:
        reader._head = reader.read_head(BUFFER_BYTES)
        reader._position, reader._first_stray, reader._key = 0, "", None
        stream = reader._stream(reader._head)
        for row in reader._read(stream) if fast else reader._read_events(stream):
            rows.append((row.number, repr(row.values), row.error))
    except FormatError as exc:
        return rows, str(exc)
    return rows, None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_documents())
@example(b'[{"":1e100,"":null}]')  # a repeated key replaced the value that broke a limit
@example(b'[{"a": 1}, 1e')  # a cut number: the standard library's scanner would take "1"
# A run of items decoded at once is cut after a "}" that a "," follows: here inside a nested
# array, inside a string, and before an item that is not plain.
@example(b'[{"a":[{"b":1},{"c":2}]}]')
@example(b'[{"b":1},{"a":"x},"}]')
@example(b'[{"a":1},{"a":[1]},{"b":2},{"c":3}]')
# In a run, what makes one item not plain: a huge integer or decimal, an escaped NUL in a key, an
# escaped lone surrogate in a value, a repeated key.
@example(b'[{"a":1},{"a":' + b"9" * 101 + b'},{"b":2}]')
@example(b'[{"a":1},{"a":1.5e100},{"b":2}]')
@example(b'[{"a":1},{"\\u0000":1},{"b":2}]')
@example(b'[{"a":1},{"a":"\\ud800"},{"b":2}]')
@example(b'[{"a":1},{"a":1,"a":2},{"b":2}]')
@example(b'[{"a":"x"},{"a":" \\n"},{"a":"y"}]')  # a blank item (whitespace only) in a run
def test_the_fast_path_gives_what_the_event_path_gives(data):
    assert _outcome(data, fast=True) == _outcome(data, fast=False)


def test_items_across_many_blocks_are_the_same_on_both_paths():
    items = [
        {"ean": f"{i:013d}", "name": "Café \U0001f600" if i % 3 else "x" * (i % 5000), "price": i / 8, "n": i}
        for i in range(6000)
    ]
    items[4321]["name"] = {"nested": [1, 2]}
    text = json.dumps(items, ensure_ascii=False).replace('"n": 4000', '"n": 1e400')
    data = text.encode()
    assert len(data) > 10 * BUFFER_BYTES and len(data) > 4 * FAST_BLOCK_BYTES
    assert _outcome(data, fast=True) == _outcome(data, fast=False)
    assert _outcome(data, fast=True)[1] is None


def test_items_that_are_not_plain_are_not_decoded_again_for_each_item(monkeypatch):
    # A run of items is decoded at once and, where one of them is not plain (here every item
    # has nested values), its items are read one by one: the run is not tried again from each.
    items = [{"ean": f"{i:013d}", "size": {"w": 1, "h": 2}, "tags": ["a"]} for i in range(20_000)]
    data = json.dumps(items).encode()
    decoder = json_format._DECODER
    runs = []

    class Counting:
        def decode(self, text):
            runs.append(len(text))
            return decoder.decode(text)

        def raw_decode(self, text, index):
            return decoder.raw_decode(text, index)

    monkeypatch.setattr(json_format, "_DECODER", Counting())
    rows = list(JsonReader(io.BytesIO(data)).rows())
    assert [row.values for row in rows] == items
    # About one try per MAX_FIELD_CHARS of text; once per item, this was 20,000 tries.
    assert len(runs) <= 2 * len(data) // json_format.MAX_FIELD_CHARS + 2


def _batches_outcome(data: bytes, size: int, *, runs: bool):
    reader = JsonReader(io.BytesIO(data))
    batches: list = []
    try:
        for batch in reader.batches(size) if runs else RowReader.batches(reader, size):
            batches.append(batch_contents(batch))
    except FormatError as exc:
        return batches, str(exc)
    return batches, None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_documents(), st.integers(min_value=1, max_value=5), st.sampled_from([1_572_864, 1, 2, 12]))
@example(b'[{"a":"x"},{"a":" "},{"b":null},{"a":"y","b":2}]', 3, 1_572_864)  # blank items in a run
@example(b'[{"a":"x"},{"a":" \\n"},{"a":"y"}]', 3, 1_572_864)  # blank by whitespace alone
@example(b'[{"a":"xy"},{"a":"z"},{"a":"w"},{"a":"v"}]', 5, 3)  # the text limit falls in a run
@example(b'[{"a":"xy"},{"a":"z"},{"a":"w"},{"a":"v"},{"a":"u"}]', 2, 1_572_864)  # cut by the count
@example(b'[{"a":1},{"a":[1]},{"b":2},{"c":3},{"c":true}]', 2, 1_572_864)  # runs and single items
def test_batches_of_plain_runs_are_the_batches_of_their_rows(data, size, batch_chars):
    # A run of plain items goes into its batch's columns as decoded; RowReader.batches makes the
    # same batches of the rows one by one, with take_batch and RawBatch.of_rows.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(base_module, "MAX_BATCH_CHARS", batch_chars)
        assert _batches_outcome(data, size, runs=True) == _batches_outcome(data, size, runs=False)


def test_batches_of_many_blocks_are_the_batches_of_their_rows():
    # Runs of several blocks, cut by the text limit (long names) and by the count (short ones after
    # item 6 000), a nested item, a blank one.
    items = [
        {"ean": f"{i:013d}", "name": "x" * (i % 1500 if i < 6000 else i % 200), "price": i / 8, "n": i}
        for i in range(9000)
    ]
    items[4321]["name"] = {"nested": [1, 2]}
    items[5000] = {"ean": None, "name": "  "}
    data = json.dumps(items).encode()
    assert len(data) > 4 * FAST_BLOCK_BYTES
    expected = _batches_outcome(data, 2000, runs=False)
    sizes = [len(batch[0]) for batch in expected[0][:-1]]
    assert expected[1] is None and 2000 in sizes and min(sizes) < 2000
    assert _batches_outcome(data, 2000, runs=True) == expected
