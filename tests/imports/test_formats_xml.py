"""XML: the root's children are records, streamed in flat memory; DTDs and entities refused."""

import io
import itertools
import tracemalloc
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from catalog.models import Product
from imports import services
from imports.formats import FormatError, content_mismatch, reader_for
from imports.formats import base as base_module
from imports.formats import xml as xml_module
from imports.formats.base import RawBatch, RawRow, RowReader
from imports.models import ImportLog

from .catalog_files import import_file
from .helpers import batch_contents

FILES = Path(__file__).resolve().parent.parent / "files"


def read(data: bytes):
    reader = reader_for("xml")(io.BytesIO(data))
    return reader.columns(), list(reader.rows())


def fails(data: bytes, message: str):
    with pytest.raises(FormatError) as caught:
        read(data)
    assert str(caught.value) == message


def test_records_fields_attributes_cdata_namespaces_and_nesting():
    columns, rows = read((FILES / "catalog.xml").read_bytes())
    # Namespaced names are kept as written (CONTRACT §3); the record's own attributes have none.
    assert columns == [
        "ref",
        "g:ean",
        "g:nom",
        "g:prix",
        "g:prix@devise",
        "g:marque",
        "g:image",
        "g:dimensions",
    ]
    # Record 2 (<produit/>) is blank; the processing instruction is not an element.
    assert [row.number for row in rows] == [1, 3, 4]
    pen, notebook, text_only = rows
    assert pen.values == {
        "ref": "ST-01",
        "g:ean": "3760000000017",
        "g:nom": "Stylo <bleu> & rouge",
        "g:prix": "1.99",
        "g:prix@devise": "EUR",
        "g:marque": None,  # xsi:nil="true"
        "g:image": ["https://img.example.com/st-01-a.jpg", "https://img.example.com/st-01-b.jpg"],
        "g:dimensions": {"@unite": "cm", "g:largeur": "1", "g:hauteur": "14"},
    }
    assert notebook.values == {
        "ref": "CA-02",
        "ean": "3760000000024",
        "g:nom": "Cahier A4 « Séyès »",
        "g:prix": "3,50",
        "g:stock": "0",
    }
    assert text_only.error == "record 4 (<g:produit>) has text but no field elements"


def test_default_namespace_and_attribute_only_records():
    _, [row] = read(b'<products xmlns="urn:x"><product ean="3760000000017" name="P"/></products>')
    assert row.values == {"ean": "3760000000017", "name": "P"}


@pytest.mark.parametrize(
    "name, text",
    [
        ("catalog_shift_jis.xml", "万年筆"),
        ("catalog_cp1252.xml", "Crème €"),
        ("catalog_utf16.xml", "Crème €"),
    ],
)
def test_any_encoding_the_declaration_names_is_read(name, text):
    columns, [row] = read((FILES / name).read_bytes())
    assert columns == ["ean", "nom", "prix"] and row.values["nom"] == text


def test_utf16_without_a_bom_is_detected():
    _, [row] = read('<?xml version="1.0"?><p><r><nom>Crème</nom></r></p>'.encode("utf-16-le"))
    assert row.values == {"nom": "Crème"}


def test_bytes_invalid_in_a_transcoded_encoding_fail():
    data = b'<?xml version="1.0" encoding="Shift_JIS"?><p><r><nom>\x81\x20</nom></r></p>'
    fails(data, "The file is not valid shift_jis text near byte 53.")


def test_an_unknown_encoding_fails():
    fails(
        b'<?xml version="1.0" encoding="klingon"?><p/>',
        "The XML declaration names the encoding 'klingon', which is not a known encoding.",
    )


def test_a_declaration_that_lies_about_utf16_fails():
    fails(
        b'<?xml version="1.0" encoding="UTF-16"?><p><r><a>1</a></r></p>',
        "The XML declaration says UTF-16 but the file is not UTF-16 text.",
    )


def test_bytes_that_are_not_the_declared_encoding_fail_with_their_line():
    fails(
        '<?xml version="1.0" encoding="UTF-8"?>\n<p><r><nom>Crème</nom></r></p>'.encode("latin-1"),
        "The XML is malformed at line 2, column 14 (in record 1): "
        "a character that is not allowed there "
        "(a lone < or &, or bytes that are not in the file's encoding).",
    )


def test_billion_laughs_is_refused():
    fails(
        (FILES / "billion_laughs.xml").read_bytes(),
        "The XML file declares a document type (<!DOCTYPE lolz>); DTDs are refused for safety, "
        "as they can define entities that expand without bound.",
    )


@pytest.mark.parametrize(
    "data",
    [
        (FILES / "xxe.xml").read_bytes(),
        b'<?xml version="1.0"?><!DOCTYPE produits SYSTEM "x.dtd" [<!ELEMENT produits ANY>]><produits/>',
    ],
)
def test_external_entities_and_dtds_are_refused(data):
    with pytest.raises(FormatError, match=r"^The XML file declares a document type \(<!DOCTYPE produits>\)"):
        read(data)


def test_a_doctype_that_only_names_an_external_dtd_is_read_without_fetching_it():
    columns, rows = read(
        b'<?xml version="1.0"?><!DOCTYPE produits SYSTEM "http://attacker.example/x.dtd">'
        b"<produits><produit><ean>3760000000017</ean></produit></produits>"
    )
    assert columns == ["ean"] and [r.values for r in rows] == [{"ean": "3760000000017"}]


def test_records_are_the_repeated_element_at_any_depth():
    columns, rows = read(
        b'<rss xmlns:g="http://base.google.com/ns/1.0"><channel><title>Shop</title>'
        b"<item><g:gtin>1</g:gtin><g:img>a</g:img><g:img>b</g:img></item>"
        b"<item><g:gtin>2</g:gtin></item></channel></rss>"
    )
    assert columns == ["g:gtin", "g:img"]
    assert [(r.number, r.values) for r in rows] == [
        (1, {"g:gtin": "1", "g:img": ["a", "b"]}),
        (2, {"g:gtin": "2"}),
    ]


def test_an_undeclared_entity_is_a_format_error():
    fails(
        b"<p><r><ean>1</ean></r><r><ean>&secret;</ean></r></p>",
        "The XML is malformed at line 1, column 31 (in record 2): "
        "an entity XML does not define (XML knows &amp; &lt; &gt; &quot; &apos;).",
    )


@pytest.mark.parametrize(
    "data, message",
    [
        (
            b"<p>\n<r><ean>1</ean></r>\n<r><ean>2</r>\n</p>",
            "The XML is malformed at line 3, column 12 (in record 2): "
            "a closing tag that does not match the element it closes.",
        ),
        (
            b"<p><r><ean>1</ean></r></p><p/>",
            "The XML is malformed at line 1, column 27 (after record 1): "
            "content after the end of the root element.",
        ),
        (
            b"<p><r><ean>1</ean></r><r><e",
            "The XML is malformed at line 1, column 26 (in record 2): a tag that is cut off.",
        ),
        (
            b"<p>",
            "The XML is malformed at line 1, column 4 (before the first record): "
            "the file ends before its elements are closed (is it cut off?).",
        ),
    ],
)
def test_malformed_xml_fails_with_line_column_and_record(data, message):
    fails(data, message)


def test_a_root_without_records_fails():
    fails(b"<?xml version='1.0'?>\n<produits>\n</produits>", "The XML root <produits> holds no records.")


def test_nesting_beyond_the_limit_fails():
    deep = b"<p><r><f>" + b"<a>" * 70 + b"</a>" * 70 + b"</f></r></p>"
    fails(deep, "Record 1 is nested more than 64 levels deep.")


def test_a_record_with_too_many_elements_fails():
    fails(b"<p><r>" + b"<i>1</i>" * 10_001 + b"</r></p>", "Record 1 has more than 10000 elements.")


def test_too_many_fields_fail():
    fields = b"".join(b"<f%d>1</f%d>" % (n, n) for n in range(1001))
    fails(b"<p><r>" + fields + b"</r></p>", "Record 1 has 1001 fields; at most 1000 are supported.")


def test_an_overlong_value_fails():
    fails(
        b"<p><r><d>" + b"x" * 100_001 + b"</d></r></p>",
        "Record 1 has a value longer than 100000 characters.",
    )


def test_memory_stays_flat_whatever_the_number_of_records():
    record = (
        b"<produit><ean>3760000000017</ean><nom>%d</nom><description>"
        + b"x" * 300
        + b"</description></produit>"
    )
    data = b"<produits>" + b"".join(record % n for n in range(30_000)) + b"</produits>"
    reader = reader_for("xml")(io.BytesIO(data))
    tracemalloc.start()
    try:
        count = sum(1 for _ in reader.rows())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 30_000 and len(data) > 10_000_000
    assert peak < 2_000_000, f"peak {peak} bytes while reading {len(data)} bytes"


@pytest.mark.parametrize(
    "data, kind",
    [
        (b"ean;name\n3760000000017;Stylo\n", "plain text (such as CSV)"),
        (b'[{"ean": "3760000000017"}]', "JSON"),
        (b"<!DOCTYPE html>\n<html><body>Login</body></html>", "an HTML page"),
        ((FILES / "catalog_fr.xlsx").read_bytes(), "a ZIP archive (such as an Excel .xlsx file)"),
    ],
)
def test_content_that_is_not_xml_is_named(data, kind):
    message = f"The file is named .xml but its content is {kind}, not XML."
    fails(data, message)
    assert content_mismatch("xml", data) == message


# --- through the pipeline ---------------------------------------------------------------------


@pytest.mark.django_db
def test_xml_catalog_imports_with_nested_fields_in_attributes():
    job = import_file((FILES / "catalog.xml").read_bytes(), "xml", mapping={"image": ""})
    assert job.status == "completed", job.error_summary
    assert (job.total_rows, job.products_created, job.failed_rows) == (3, 2, 1)
    pen = Product.objects.get(ean="3760000000017")
    assert (pen.name, pen.price, pen.sku, pen.brand) == ("Stylo <bleu> & rouge", Decimal("1.99"), "ST-01", "")
    assert pen.attributes == {
        "g:prix@devise": "EUR",
        "g:dimensions": {"@unite": "cm", "g:largeur": "1", "g:hauteur": "14"},
    }
    assert Product.objects.get(ean="3760000000024").stock == 0
    error = ImportLog.objects.get(job=job, level="error")
    assert (error.row_number, error.message) == (4, "record 4 (<g:produit>) has text but no field elements")


@pytest.mark.django_db
def test_a_repeated_element_mapped_to_one_field_is_a_row_error():
    job = import_file((FILES / "catalog.xml").read_bytes(), "xml")
    error = ImportLog.objects.get(job=job, level="error", row_number=1)
    assert error.field == "image_url" and error.value.startswith('["https://img.example.com/st-01-a.jpg"')


@pytest.mark.django_db
def test_xml_without_an_ean_field_fails_naming_the_missing_column():
    job = import_file(b"<books><book><id>1</id><title>Circles</title></book></books>", "xml")
    assert job.status == "failed"
    assert job.error_summary.startswith("No column maps to ean. The file's columns are: id, title.")


@pytest.mark.django_db
def test_a_dtd_fails_the_job_and_writes_nothing():
    job = import_file((FILES / "billion_laughs.xml").read_bytes(), "xml")
    assert job.status == "failed" and "DTDs are refused for safety" in job.error_summary
    assert not Product.objects.exists()


@pytest.mark.django_db
def test_json_renamed_xml_is_refused_with_a_sentence():
    data = (FILES / "catalog.json").read_bytes()
    expected = "The file is named .xml but its content is JSON, not XML."
    # Refused at upload (400), and by the reader itself for files that arrive another way.
    with pytest.raises(services.UploadRejected) as refused:
        import_file(data, "xml")
    assert str(refused.value) == expected
    with pytest.raises(FormatError) as unreadable:
        reader_for("xml")(io.BytesIO(data)).columns()
    assert str(unreadable.value) == expected


@pytest.mark.parametrize(
    "data",
    [
        b"<p><r><ean>1</ean></r><r><ean>2</r></p>",
        b"<p><r><ean>1</ean></r></p><p/>",
        b"<p><r><e",
        b"<p>",
        b"<p><r a='1' a='2'><ean>1</ean></r></p>",
        b"<p><r><x:ean>1</x:ean></r></p>",
        b"<p><r><ean>&#0;</ean></r></p>",
        b"<p><r><ean><![CDATA[1</ean></r></p>",
        b"<p><r><ean>1 & 2</ean></r></p>",
        b"<p><r><ean>\xff</ean></r></p>",
    ],
)
def test_a_malformed_file_is_described_in_our_words_never_in_expats(data):
    from xml.parsers.expat import errors

    with pytest.raises(FormatError) as caught:
        read(data)
    message = str(caught.value)
    assert message.startswith("The XML is malformed at line 1, column ")
    assert not [text for text in errors.messages.values() if text in message]


# --- the flat path and the general path agree -----------------------------------------------
# A record whose fields are all plain text elements is read as (name, text) pairs; anything else
# moves it, even halfway, to an element tree that the general path converts. Both must give the
# same records, errors and messages on any input, whatever the limits and wherever the blocks cut.

_XML_NAMES = st.sampled_from(["ean", "name", "g:price", "a", "xsi:nil"])
_XML_TEXTS = st.sampled_from(
    ["", " ", "\n  ", "1", "x y", "&amp;", "&lt;b&gt;", "<![CDATA[<c>]]>", "é€", "<!-- c -->", "<?pi x?>"]
)
_XML_ATTRIBUTES = st.lists(
    st.tuples(
        st.sampled_from(["id", "currency", "g:unit", "xsi:nil"]), st.sampled_from(["", "1", "true", "E"])
    ),
    max_size=2,
    unique_by=lambda pair: pair[0],
).map(lambda pairs: "".join(f' {name}="{value}"' for name, value in pairs))


def _xml_element(content):
    def element(parts) -> str:
        name, attributes, inner = parts
        return f"<{name}{attributes}>{inner}</{name}>" if inner is not None else f"<{name}{attributes}/>"

    return st.tuples(_XML_NAMES, _XML_ATTRIBUTES, st.one_of(st.none(), content)).map(element)


# A field's content: text, or text and elements (which make it a nested field).
_XML_CONTENT = st.recursive(
    _XML_TEXTS,
    lambda inner: st.lists(st.one_of(_XML_TEXTS, _xml_element(inner)), max_size=3).map("".join),
    max_leaves=5,
)
# Mostly plain fields, so most records start on the flat path.
_XML_FIELD = st.one_of(
    st.tuples(_XML_NAMES, _XML_TEXTS).map(lambda pair: f"<{pair[0]}>{pair[1]}</{pair[0]}>"),
    st.tuples(_XML_NAMES, _XML_TEXTS).map(lambda pair: f"<{pair[0]}>{pair[1]}</{pair[0]}>"),
    _xml_element(_XML_CONTENT),
    _XML_TEXTS,
)


@st.composite
def xml_documents(draw) -> bytes:
    records = draw(
        st.lists(
            st.tuples(_XML_ATTRIBUTES, st.lists(_XML_FIELD, max_size=6).map("".join)).map(
                lambda record: f"<product{record[0]}>{record[1]}</product>"
            ),
            min_size=1,
            max_size=4,
        )
    )
    space = draw(st.sampled_from(["", "\n  ", " "]))
    text = (
        '<?xml version="1.0"?>\n<products xmlns:g="http://base.google.com/ns/1.0" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        + space
        + space.join(records)
        + "\n</products>\n"
    )
    data = text.encode("utf-8")
    if draw(st.booleans()):
        data = data[: draw(st.integers(min_value=1, max_value=len(data)))]
    return data


_LIMITS = st.fixed_dictionaries(
    {
        "BLOCK_BYTES": st.sampled_from([1 << 16, 1, 7]),
        "MAX_FIELD_CHARS": st.sampled_from([100_000, 2]),
        "MAX_COLUMNS": st.sampled_from([1_000, 2]),
        "MAX_NESTING": st.sampled_from([64, 2, 3, 4]),
        "MAX_RECORD_ELEMENTS": st.sampled_from([10_000, 2, 5]),
    }
)


def _xml_outcome(data: bytes, *, flat: bool):
    reader = reader_for("xml")(io.BytesIO(data))
    reader.flat_path = flat
    rows: list = []
    try:
        columns = reader.columns()
        for row in reader.rows():
            rows.append((row.number, repr(row.values), row.error))
    except FormatError as exc:
        return rows, str(exc)
    return columns, rows


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(xml_documents(), _LIMITS)
@example(b"<p><r><a>1</a><b>2</b></r><r><a>3</a><b c='x'>4</b></r></p>", {})  # leaves after a field
@example(b"<p><r><a>1</a>\n<b>t<c>u</c>v</b></r><r><a>2</a></r></p>", {})  # a field opens a child
@example(b"<p><r> text </r><r/><r><a> </a></r></p>", {"BLOCK_BYTES": 1})  # text only, blank
@example(b"<p><r><a>1</a><a>2</a><a>3</a></r><r><a>x</a></r></p>", {"MAX_FIELD_CHARS": 0})
@example(b"<p><r><a>1</a><b>x<c/></b></r></p>", {"MAX_RECORD_ELEMENTS": 2})  # counted on into a tree
def test_the_flat_path_gives_what_the_general_path_gives(data, limits):
    with pytest.MonkeyPatch.context() as patch:
        for name, value in limits.items():
            patch.setattr(xml_module, name, value)
        assert _xml_outcome(data, flat=True) == _xml_outcome(data, flat=False)


def _batches_outcome(data: bytes, size: int, *, columns: bool):
    reader = reader_for("xml")(io.BytesIO(data))
    batches: list = []
    try:
        for batch in reader.batches(size) if columns else RowReader.batches(reader, size):
            batches.append(batch_contents(batch))
    except FormatError as exc:
        return batches, str(exc)
    return batches, None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    xml_documents(), _LIMITS, st.integers(min_value=1, max_value=5), st.sampled_from([1_572_864, 1, 2, 12])
)
@example(b"<p><r><a>1</a></r><r><b>2</b></r><r><a>3</a></r></p>", {}, 2, 1_572_864)  # other columns
@example(b"<p><r i='1'><a>1</a></r><r><a>2</a></r><r><a> </a></r></p>", {}, 5, 1_572_864)
@example(b"<p><r><a>1</a></r><r><a>2</a></r><r><a>3</a></r></p>", {}, 5, 2)  # cut at the limit
@example(b"<p><r><a>1</a></r><r><a>2</a></r>", {}, 1, 1_572_864)  # a batch, then the file is cut
# Past the first block, records go straight into the columns: there, shapes that change and return.
@example(
    b"<p><r><a>1</a></r><r><a>2</a></r><r><b>3</b></r><r><a>4</a><b>5</b></r><r><a>6</a></r></p>",
    {"BLOCK_BYTES": 1},
    5,
    1_572_864,
)
def test_batches_of_flat_records_are_the_batches_of_their_rows(data, limits, size, batch_chars):
    # The reader puts flat records straight into a batch's columns; RowReader.batches makes the
    # same batches of the rows one by one, with take_batch and RawBatch.of_rows.
    with pytest.MonkeyPatch.context() as patch:
        for name, value in limits.items():
            patch.setattr(xml_module, name, value)
        patch.setattr(base_module, "MAX_BATCH_CHARS", batch_chars)
        assert _batches_outcome(data, size, columns=True) == _batches_outcome(data, size, columns=False)


@pytest.mark.parametrize(
    "data",
    [
        b"<p><r><ean>&#0;</ean></r></p>",
        b"<p><r><ean>&#xD800;</ean></r></p>",
        b"<p><r><ean>\x00</ean></r></p>",
        b"<p><r><ean>\xed\xa0\x80</ean></r></p>",  # a surrogate, encoded
        b"<p><r><ean a='&#0;'>1</ean></r></p>",
        '<?xml version="1.0" encoding="utf-16"?><p><r><ean>\ud800</ean></r></p>'.encode(
            "utf-16-le", "surrogatepass"
        ),
        b'<?xml version="1.0" encoding="cp1252"?><p><r><ean>\x00</ean></r></p>',
    ],
)
def test_no_text_a_column_cannot_hold_gets_past_expat(data):
    # Why the reader's batches take their texts unchecked (Batches(storable=True)).
    with pytest.raises(FormatError):
        list(reader_for("xml")(io.BytesIO(data)).batches(5))


@pytest.mark.parametrize("size", [1, 2, 4])
def test_records_of_no_values_among_texts_are_batched_as_their_rows(size):
    # Batches keeps no texts for a record of no names (there are none to count it by).
    rows = [RawRow(1, {}), RawRow(2, {"a": "x"}), RawRow(3, {}), RawRow(4, {"a": "y"})]
    batches = base_module.Batches(size, lambda: None)
    for row in rows:
        batches.add(row)
    made = [*batches.done, batches.rest()]
    expected = [RawBatch.of_rows(rows[start : start + size]) for start in range(0, len(rows), size)]
    assert [batch_contents(batch) for batch in made if batch] == list(map(batch_contents, expected))


def test_what_is_remembered_per_tag_and_per_record_shape_stays_bounded(monkeypatch):
    # Records each of another shape (their fields in another order) must not grow the reader's
    # memory with the file: the memo starts over past its bound, and reads the same.
    fields = ["name", "brand", "price", "stock"]
    shapes = list(itertools.permutations(fields))
    document = (
        "<products>"
        + "".join(
            f"<product><ean>{i:013d}</ean>" + "".join(f"<{f}>{f} {i}</{f}>" for f in shape) + "</product>"
            for i, shape in enumerate(shapes * 3)
        )
        + "</products>"
    )

    def frames():
        reader = xml_module.XmlReader(io.BytesIO(document.encode()))
        return [(batch.numbers, batch.frame.to_dicts()) for batch in reader.batches(7)]

    expected = frames()
    monkeypatch.setattr(xml_module, "MEMO_ENTRIES", 3)
    assert frames() == expected
    memo = xml_module._Memo(str.upper)
    assert [memo[k] for k in "abcdefab"] == list("ABCDEFAB") and len(memo) <= 3
