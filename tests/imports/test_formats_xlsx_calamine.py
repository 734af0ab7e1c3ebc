"""XLSX's fast path: calamine holds the sheet only when that is safe, and reads what openpyxl reads."""

import datetime as dt
import io
import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from bench.data import bench_file
from imports.formats import base as base_module
from imports.formats import xlsx as xlsx_module
from imports.formats import xlsx_calamine
from imports.formats.base import MAX_FIELD_CHARS

from ..realfiles import REALFILES
from .helpers import batch_contents
from .test_formats_xlsx import FILES, workbook_bytes, zip_bytes


def read_with(data: bytes, engine: str):
    reader = xlsx_module.XlsxReader(io.BytesIO(data), engine=engine)  # type: ignore[arg-type]
    return reader.engine if engine == "openpyxl" else None, reader.columns(), list(reader.rows()), reader


def both(data: bytes):
    """(the engine that read the file on the fast path's side, its result, openpyxl's result)."""
    _, columns, rows, reader = read_with(data, "auto")
    _, expected_columns, expected_rows, _ = read_with(data, "openpyxl")
    return reader.engine, (columns, rows), (expected_columns, expected_rows)


def with_sheet(data: bytes, sheet: bytes, **parts: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    entries = {name: source.read(name) for name in source.namelist()}
    entries["xl/worksheets/sheet1.xml"] = sheet
    entries.update({name.replace("__", "/"): content for name, content in parts.items()})
    return zip_bytes(entries)


SHEET = (
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>%s'
    b"</sheetData></worksheet>"
)


def inline(ref: str, text: str) -> bytes:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()


# --- the same values as openpyxl --------------------------------------------------------------


XLSX_FILES = sorted(FILES.glob("*.xlsx")) + sorted(REALFILES.glob("*.xlsx"))


@pytest.mark.parametrize("path", XLSX_FILES, ids=lambda path: path.name)
def test_every_sample_and_real_workbook_reads_the_same_on_both_paths(path: Path):
    engine, fast, reference = both(path.read_bytes())
    assert engine == "calamine"
    assert fast == reference


def test_the_real_files_are_there_to_compare():
    assert any(path.parent == REALFILES for path in XLSX_FILES), f"no .xlsx in {REALFILES}"


_TEXT = st.lists(
    st.characters(min_codepoint=0x20, max_codepoint=0x2FF)
    | st.sampled_from(["_x000D_", "_x005F_", "\n", " ", "é€"]),
    min_size=1,
    max_size=8,
).map("".join)
_CELL = st.one_of(
    st.none(),
    _TEXT,
    st.integers(-(2**53), 2**53),  # from 9 * 10**15 on, openpyxl's path reads them (long integers)
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.floats(min_value=-1e6, max_value=1e6).map(lambda f: round(f, 2)),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(2100, 1, 1)),
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2100, 1, 1)),
    st.times(),
    st.booleans(),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.lists(_CELL, max_size=6), min_size=1, max_size=8),
    header=st.lists(_TEXT | st.none(), min_size=1, max_size=6),
    top=st.integers(1, 4),
    left=st.integers(1, 4),
    epoch_1904=st.booleans(),
)
def test_random_workbooks_read_the_same_on_both_paths(rows, header, top, left, epoch_1904):
    workbook = Workbook()
    if epoch_1904:
        workbook.epoch = CALENDAR_MAC_1904
    sheet = workbook.active
    for r, cells in enumerate([header, *rows]):
        for c, value in enumerate(cells):
            if value is not None:
                sheet.cell(top + r, left + c, value)
    out = io.BytesIO()
    workbook.save(out)
    try:
        _, reference_columns, reference_rows, _ = read_with(out.getvalue(), "openpyxl")
    except xlsx_module.FormatError as error:
        with pytest.raises(xlsx_module.FormatError, match=re.escape(str(error))):
            read_with(out.getvalue(), "auto")
        return
    _, columns, fast_rows, reader = read_with(out.getvalue(), "auto")
    assert (columns, fast_rows) == (reference_columns, reference_rows)
    texts = [value for value in [*header, *(v for cells in rows for v in cells)] if isinstance(value, str)]
    # openpyxl writes an integral float below 10**16 as an integer: it reads back as one.
    long_integers = [
        v
        for cells in rows
        for v in cells
        if (type(v) is int and abs(v) >= 9 * 10**15)
        or (type(v) is float and v.is_integer() and 9e15 <= abs(v) < 1e16)
    ]
    if all(text == text.strip() for text in texts) and not long_integers and not epoch_1904:
        # Nothing calamine would read differently (a text whose edge spaces openpyxl did not mark
        # as preserved, an integer floats may not hold, a 1904 date system): calamine read it.
        assert reader.engine == "calamine"


@pytest.mark.parametrize(
    "code",
    [
        "yyyy-mm-dd",
        "dd/mm/yyyy hh:mm",
        "[h]:mm:ss",
        "[mm]:ss",
        '0.00" m"',
        '#,##0.00\\ "€"',
        "[$-407]dddd, d. mmmm yyyy",
        "0.00E+00",
        "h AM/PM",
        "[Red]0.00;[Blue]-0.00",
        "General",
        '"Y: "0.00',
        "\\Y000000",
    ],
)
def test_custom_number_formats_are_typed_as_calamine_types_them(code):
    import python_calamine

    workbook = Workbook()
    workbook.active["A1"] = 45000.5
    workbook.active["A1"].number_format = code
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    (value,) = python_calamine.CalamineWorkbook.from_filelike(out).get_sheet_by_index(0).to_python()[0]
    kind = {float: "number", int: "number", dt.timedelta: "duration"}.get(type(value), "date")
    assert xlsx_calamine._calamine_format(code) == kind


# --- what sends a sheet to openpyxl ----------------------------------------------------------


def test_a_sheet_whose_xml_is_over_the_cap_is_streamed_by_openpyxl(monkeypatch):
    data = workbook_bytes(["ean", "name"], *([str(n), "x"] for n in range(50)))
    monkeypatch.setattr(xlsx_calamine, "MAX_HELD_XML_BYTES", 1000)
    engine, fast, reference = both(data)
    assert engine == "openpyxl" and fast == reference


def two_rows(first: bytes, second: bytes, second_row: int = 2) -> bytes:
    """A workbook whose sheet holds exactly the row 1 and the row ``second_row`` given (raw XML)."""
    rows = b'<row r="1">%s</row><row r="%d">%s</row>' % (first, second_row, second)
    return with_sheet(workbook_bytes(["ean"], ["1"]), SHEET % rows)


@pytest.mark.parametrize(
    "second_row, cell",
    [
        (300_000, "Z300000"),  # A1 and Z300000: 26 x 300,000 cells of 32 bytes, 250 MB
        (2, "XFD1048576"),  # a cell's own reference far from its row's
    ],
)
def test_far_apart_cells_do_not_make_calamine_allocate_their_whole_range(second_row, cell):
    data = two_rows(inline("A1", "ean"), inline(cell, "x"), second_row)
    reader = xlsx_module.XlsxReader(io.BytesIO(data))
    assert reader.columns() == ["ean"] and reader.engine == "openpyxl"


@pytest.mark.parametrize("prefix", [b"x", "é".encode()])
def test_a_far_cell_under_any_namespace_prefix_is_bounded_too(prefix):
    # calamine reads an element by its local name: <x:c> is a cell to it, whatever x stands for.
    far = b'<%s:c r="XFD1048576" t="inlineStr"><is><t>x</t></is></%s:c>' % (prefix, prefix)
    sheet = (SHEET % (b'<row r="1">' + inline("A1", "ean") + b'</row><row r="2">' + far + b"</row>")).replace(
        b"<worksheet ", b'<worksheet xmlns:%s="urn:other" ' % prefix
    )
    reader = xlsx_module.XlsxReader(io.BytesIO(with_sheet(workbook_bytes(["ean"], ["1"]), sheet)))
    assert reader.columns() == ["ean"] and reader.engine == "openpyxl"


@pytest.mark.parametrize("cell", [b'<c t="inlineStr"><is><t>x</t></is></c>', b'<c t="n"><v>1</v></c>'])
def test_a_cell_without_a_reference_is_streamed_by_openpyxl(cell):
    # calamine places such a cell after the previous one; its position cannot be bounded ahead.
    data = with_sheet(
        workbook_bytes(["ean"], ["1"]), SHEET % (b'<row r="1">' + inline("A1", "ean") + cell + b"</row>")
    )
    engine, _, _ = both(data)
    assert engine == "openpyxl"


def with_shared_strings(data: bytes, sheet: bytes, strings: list[bytes]) -> bytes:
    """``data`` with ``sheet`` (raw XML) and a shared text table of ``strings`` (each an <si>'s XML)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    entries = {name: source.read(name) for name in source.namelist()}
    entries["xl/worksheets/sheet1.xml"] = sheet
    entries["xl/sharedStrings.xml"] = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + b"".join(b"<si>%s</si>" % text for text in strings)
        + b"</sst>"
    )
    entries["[Content_Types].xml"] = entries["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    )
    entries["xl/_rels/workbook.xml.rels"] = entries["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdS" Target="sharedStrings.xml" Type="http://schemas.openxmlformats.org/'
        b'officeDocument/2006/relationships/sharedStrings"/></Relationships>',
    )
    return zip_bytes(entries)


@pytest.mark.parametrize("rows", [3000, 30_000], ids=["one block", "many blocks"])
def test_one_long_shared_text_in_every_cell_is_not_copied_into_each(rows):
    # 30,000 characters x 3,000 cells: calamine would hold 90 MB of copies of one text; with more
    # rows the sheet spans blocks that the fast checks count.
    long_text = "y" * 30_000
    cells = b"".join(
        f'<row r="{r}"><c r="A{r}" t="s"><v>{0 if r == 1 else 1}</v></c></row>'.encode()
        for r in range(1, rows + 1)
    )
    data = with_shared_strings(
        workbook_bytes(["ean"], ["1"]), SHEET % cells, [b"<t>ean</t>", b"<t>" + long_text.encode() + b"</t>"]
    )
    engine, fast, reference = both(data)
    assert engine == "openpyxl" and fast == reference
    assert fast[1][0].values == {"ean": long_text}


def shared(ref: str, index: int) -> bytes:
    return f'<c r="{ref}" t="s"><v>{index}</v></c>'.encode()


@pytest.mark.parametrize("empty", [b"<t></t>", b"<t/>", b"<r><t></t></r>"])
def test_an_empty_text_reads_as_an_empty_cell_on_both_paths(empty):
    # openpyxl reads an empty text as "", calamine as its empty cell: both are no value.
    texts = [b"<t>ean</t>", b"<t>name</t>", b"<t>x</t>", b"<t>1</t>", empty]
    rows = (
        b'<row r="1">' + shared("A1", 0) + shared("B1", 1) + shared("C1", 2) + b"</row>"
        b'<row r="2">' + shared("A2", 3) + shared("B2", 4) + shared("C2", 4) + b"</row>"
        b'<row r="3">' + shared("A3", 3) + shared("B3", 4) + shared("C3", 3) + inline("D3", "") + b"</row>"
    )
    engine, fast, reference = both(with_shared_strings(workbook_bytes(["ean"], ["1"]), SHEET % rows, texts))
    assert engine == "calamine" and fast == reference
    assert [row.values for row in fast[1]] == [{"ean": "1"}, {"ean": "1", "name": None, "x": "1"}]


def test_a_shared_text_longer_than_a_block_is_measured_whole(monkeypatch):
    monkeypatch.setattr(xlsx_calamine, "BLOCK_BYTES", 1000)
    text = b"<si>" + b"<r><t>yyyyyyyyy</t></r>" * 500 + b"</si>"  # 11 kB of runs, none over a block
    table = b"<sst><si><t>ean</t></si>" + text + b"</sst>"
    longest, reason = xlsx_calamine._scan_strings(io.BytesIO(table))
    assert reason is None and longest >= len(text) - len(b"</si>")  # its XML but the end tag


@pytest.mark.parametrize(
    "cell",
    [
        b'<c r="B2" t="e"><v>#DIV/0!</v></c>',  # calamine: an empty text
        b'<c r="B2"><v>9007199254740993</v></c>',  # calamine: a float, one less
        b'<c r="B2" t="inlineStr"><is><t>_xD83D__xDE00_</t></is></c>',  # calamine: not joined
        b'<c r="B2" t="inlineStr"><is><t> padded </t></is></c>',  # calamine: trimmed
        b'<c r="B2" t="inlineStr"><is><t>&#32;padded</t></is></c>',  # calamine: trimmed
        b'<c r="B2"><v>&#52;007</v></c>',  # calamine: empty
        b'<c r="B2"><v><![CDATA[4007]]></v></c>',  # calamine: empty
    ],
)
def test_cells_calamine_reads_differently_send_the_sheet_to_openpyxl(cell):
    data = two_rows(inline("A1", "ean") + inline("B1", "x"), inline("A2", "1") + cell)
    engine, fast, reference = both(data)
    assert engine == "openpyxl" and fast == reference


def with_serial(number_format: str, serial: str) -> bytes:
    """A workbook whose B2 holds ``serial`` (as written in the XML) in ``number_format``."""
    workbook = Workbook()
    workbook.active.append(["ean", "when"])
    workbook.active.append(["1", 1])
    workbook.active["B2"].number_format = number_format
    out = io.BytesIO()
    workbook.save(out)
    sheet = zipfile.ZipFile(out).read("xl/worksheets/sheet1.xml")
    return with_sheet(out.getvalue(), sheet.replace(b"<v>1</v>", b"<v>%s</v>" % serial.encode()))


@pytest.mark.parametrize(
    "number_format, serial",
    [
        ("yyyy-mm-dd", "2958466"),  # openpyxl: #VALUE!, calamine: the number
        ("yyyy-mm-dd hh:mm", "2958465.999999999"),  # openpyxl: #VALUE! (rounded to 10000-01-01)
        ("yyyy-mm-dd", "1e10"),
        ("yyyy-mm-dd", "-1"),  # openpyxl: 1899-12-29, calamine: a time of day
        ("[h]:mm:ss", "1e10"),  # openpyxl: #VALUE!, calamine: OverflowError
        ("[h]:mm:ss", "-1000000000"),
    ],
)
@pytest.mark.filterwarnings("ignore:Cell B2 is marked as a date")  # openpyxl's, on its #VALUE!
def test_a_date_or_duration_outside_what_both_read_alike_sends_the_sheet_to_openpyxl(number_format, serial):
    engine, fast, reference = both(with_serial(number_format, serial))
    assert engine == "openpyxl" and fast == reference


@pytest.mark.parametrize(
    "number_format, serial, shown",
    [
        ("yyyy-mm-dd", "0", "00:00:00"),
        ("yyyy-mm-dd", "45000", "2023-03-15"),
        ("yyyy-mm-dd hh:mm", "2958465.5", "9999-12-31T12:00:00"),
        ("[h]:mm:ss", "-0.5", "-1 day, 12:00:00"),
        ("[h]:mm:ss", "999999998.5", "999999998 days, 12:00:00"),
    ],
)
def test_dates_and_durations_that_both_read_alike_are_read_by_calamine(number_format, serial, shown):
    engine, fast, reference = both(with_serial(number_format, serial))
    assert engine == "calamine" and fast == reference
    assert fast[1][0].values["when"] == shown


def test_a_number_format_calamine_types_otherwise_sends_the_sheet_to_openpyxl(monkeypatch):
    workbook = Workbook()
    workbook.active.append(["ean", "when"])
    workbook.active.append(["1", 45000])
    workbook.active["B2"].number_format = "yyyy-mm-dd"
    out = io.BytesIO()
    workbook.save(out)
    assert both(out.getvalue())[0] == "calamine"
    monkeypatch.setattr(xlsx_calamine, "_calamine_format", lambda code: "number")
    engine, fast, reference = both(out.getvalue())
    assert engine == "openpyxl" and fast == reference


def test_fraction_read_follows_the_rows_calamine_holds():
    reader = xlsx_module.XlsxReader(io.BytesIO(workbook_bytes(["ean"], *([str(n)] for n in range(9)))))
    fractions = [reader.fraction_read() for _ in reader.rows()]
    assert reader.engine == "calamine"
    assert fractions[0] == pytest.approx(0.2) and fractions[-1] == 1.0


def test_a_sheet_calamine_cannot_parse_is_named_in_our_words(caplog):
    data = workbook_bytes(["ean"], ["1"], ["2"])
    source = zipfile.ZipFile(io.BytesIO(data))
    sheet = source.read("xl/worksheets/sheet1.xml")
    broken = with_sheet(
        data, sheet.replace(b'<c r="A3"', b'<c r="A3" t="n"><v>not a number</v></c><c r="B3"')
    )
    with pytest.raises(xlsx_module.FormatError) as caught:
        read_with(broken, "auto")
    assert str(caught.value).startswith("The workbook is corrupt")
    assert "calamine cannot read it" in caplog.text


def test_column_letters_index_as_spreadsheets_count_them():
    assert [xlsx_calamine._column_index(get_column_letter(n).encode()) for n in (1, 26, 27, 16384)] == [
        1,
        26,
        27,
        16384,
    ]


# --- the pre-scan's fast checks ---------------------------------------------------------------


DATE_STYLE, DURATION_STYLE = 3, 4  # the styles scan_state reads as dates and durations


def usual_row(number: int) -> bytes:
    """A row as openpyxl writes it: an inline text, a number, a styled empty cell, a date."""
    return (
        f'<row r="{number}"><c r="A{number}" t="inlineStr"><is><t>{number}</t></is></c>'
        f'<c r="B{number}" t="n"><v>{number}.5</v></c><c r="C{number}" s="1"/>'
        f'<c r="D{number}" s="{DATE_STYLE}"><v>{45000 + number}.25</v></c></row>'
    ).encode()


# Rows and cells the fast checks must leave to the exact count, or count as it would ({n}: the
# row's number).
_ODD_CELLS = [
    '<c r="Z{n}"><v>1</v></c>',
    '<c r="AB{n}"><v>1</v></c>',
    '<c r="A900000"><v>1</v></c>',
    '<c r="B0"><v>1</v></c>',
    '<c r="B0{n}"><v>1</v></c>',
    '<c r="b{n}"><v>1</v></c>',
    '<c r="$B${n}"><v>1</v></c>',
    "<c r='B{n}'><v>1</v></c>",
    '<c t="n" r="Z{n}"><v>1</v></c>',
    '<c t="n"><v>1</v></c>',
    '<c\nr="Z{n}"><v>1</v></c>',
    '<x:c r="Z{n}"><x:v>1</x:v></x:c>',
    '<é:c r="Z{n}"><v>1</v></é:c>',
    '<c r="B{n}" t="e"><v>#N/A</v></c>',
    '<c r="B{n}" t="d"><v>2024-01-01</v></c>',
    '<c r="B{n}" t="s"><v>0</v></c>',
    '<c r="B{n}" s="2" t = "s"><v>0</v></c>',
    '<c r="B{n}" cm="1" t="s"><v>0</v></c>',
    '<c r="B{n}"><v>9007199254740993</v></c>',
    '<c r="B{n}"><v> 9007199254740993 </v></c>',
    '<c r="B{n}"><x:v>9007199254740993</x:v></c>',
    '<c r="B{n}" t="inlineStr"><is><t> x</t></is></c>',
    '<c r="B{n}" t="inlineStr"><is><t>x </t></is></c>',
    '<c r="B{n}" t="inlineStr"><is><t xml:space="preserve"> x </t></is></c>',
    '<c r="B{n}" t="inlineStr"><is><t foo="1"> x</t></is></c>',
    '<c r="B{n}" t="inlineStr"><is><t>a<b/> x</t></is></c>',
    '<c r="B{n}" t="inlineStr"><is><t>_xD83D_</t></is></c>',
    '<c r="B{n}"><v>&#57;</v></c>',
    '<c r="B{n}"><v><![CDATA[1]]></v></c>',
    '<c r="B{n}" s="1" t="n"/>',
    "\n  ",
    '<c r="B{n}" s="3"><v>3000000</v></c>',
    '<c r="B{n}" s="3" t="n"><v>-1</v></c>',
    '<c r="B{n}" s="3"><v>2958465.99995</v></c>',
    '<c r="B{n}" s="3"><v>2958465.5</v></c>',
    '<c r="B{n}" s="3"><v>1E-3</v></c>',
    '<c r="B{n}" s="3"><f>NOW()</f><v>3000000</v></c>',
    '<c r="B{n}" s="3" t="s"><v>0</v></c>',
    '<c r="B{n}" s="3"/>',
    '<c r="B{n}" s="33"><v>3000000</v></c>',
    '<c r="B{n}" s="4"><v>-5.5</v></c>',
    '<c r="B{n}" s="4"><v>1e10</v></c>',
    '<c r="B{n}" s="4"><v>999999999</v></c>',
    '<x:c r="B{n}" s="3"><x:v>3000000</x:v></x:c>',
]
_ODD_ROWS = [
    '<row r="{n}" spans="1:3">',
    "<row>",
    '<row spans="1:3" r="{n}">',
    '<row r="0{n}">',
    '<row r="900000">',
]


def scan_state(sheet: bytes, block: int):
    scan = xlsx_calamine._SheetScan(dates=frozenset({DATE_STYLE}), durations=frozenset({DURATION_STYLE}))
    for data in xlsx_calamine._blocks(io.BytesIO(sheet), block):
        reason = scan.add(data)
        if reason:
            return reason
    return scan.rows, scan.columns, scan.shared_cells, bool(scan.cells)


def odd_sheet(rows: int, odd_cells: list[tuple[int, str]], odd_rows: list[tuple[int, str]]) -> bytes:
    lines = [usual_row(n) for n in range(1, rows + 1)]
    for n, cell in odd_cells:
        if n <= rows:
            lines[n - 1] = lines[n - 1].replace(b"</row>", cell.format(n=n).encode() + b"</row>")
    for n, tag in odd_rows:
        if n <= rows:
            lines[n - 1] = lines[n - 1].replace(f'<row r="{n}">'.encode(), tag.format(n=n).encode())
    return SHEET % b"".join(lines)


def assert_fast_counts_as_exact(sheet: bytes, block: int) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(xlsx_calamine, "SMALL_BLOCK_BYTES", block // 3 + 20)
        fast = scan_state(sheet, block)
        patch.setattr(xlsx_calamine._SheetScan, "_add_fast", lambda self, data: False)
        assert fast == scan_state(sheet, block)


@pytest.mark.parametrize("block", [300, 2000])
@pytest.mark.parametrize("odd", [*_ODD_CELLS, *_ODD_ROWS])
def test_the_fast_checks_count_each_odd_row_or_cell_as_the_exact_ones(odd, block):
    # In row 40 of 60: past the first block, where the fast checks decide what they can.
    cells, rows = ([(40, odd)], []) if odd in _ODD_CELLS else ([], [(40, odd)])
    assert_fast_counts_as_exact(odd_sheet(60, cells, rows), block)


@settings(max_examples=200, deadline=None)
@given(
    rows=st.integers(1, 60),
    odd_cells=st.lists(st.tuples(st.integers(1, 60), st.sampled_from(_ODD_CELLS)), max_size=3),
    odd_rows=st.lists(st.tuples(st.integers(1, 60), st.sampled_from(_ODD_ROWS)), max_size=2),
    block=st.integers(60, 900),
)
def test_the_fast_checks_count_what_the_exact_ones_count(rows, odd_cells, odd_rows, block):
    assert_fast_counts_as_exact(odd_sheet(rows, odd_cells, odd_rows), block)


def test_a_usual_sheet_is_counted_by_the_fast_checks(monkeypatch):
    exact = []
    add_exact = xlsx_calamine._SheetScan._add_exact
    monkeypatch.setattr(
        xlsx_calamine._SheetScan, "_add_exact", lambda self, data: exact.append(data) or add_exact(self, data)
    )
    monkeypatch.setattr(xlsx_calamine, "SMALL_BLOCK_BYTES", 500)
    sheet = SHEET % b"".join(usual_row(n) for n in range(1, 2001))
    assert scan_state(sheet, 5000) == ((1, 2000), (1, 4), 0, True)
    assert len(exact) == 1 and len(exact[0]) < 1000  # the first piece only: the box was not known


@pytest.mark.parametrize("low, high", [(1, 1), (1, 9), (5, 5), (9, 10), (37, 4521), (99, 1000), (1, 100_001)])
def test_row_number_patterns_match_exactly_the_numbers_between_their_bounds(low, high):
    pattern = re.compile(xlsx_calamine._between(str(low), str(high), "[1-9]", "0123456789").encode() + b'"')
    assert [n for n in range(0, 20_000) if pattern.fullmatch(b'%d"' % n)] == list(
        range(low, min(high, 19_999) + 1)
    )
    assert not pattern.fullmatch(b'0%d"' % low)


@pytest.mark.parametrize("low, high", [(1, 1), (1, 6), (3, 30), (26, 27), (27, 800), (702, 703), (1, 16384)])
def test_column_patterns_match_exactly_the_columns_between_their_bounds(low, high):
    letters = xlsx_calamine._between(
        get_column_letter(low), get_column_letter(high), "[A-Z]", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    )
    pattern = re.compile(letters.encode() + b"1")
    matched = [n for n in range(1, 18_279) if pattern.fullmatch(get_column_letter(n).encode() + b"1")]
    assert matched == list(range(low, high + 1))


def test_blocks_end_on_the_next_tag_and_hold_a_long_text_whole():
    xml = b"<a><t>" + b"x" * 5000 + b"</t>" + b"<b/>" * 100 + b"</a>"
    blocks = list(xlsx_calamine._blocks(io.BytesIO(xml), 64))
    assert all(block.endswith(b"<") for block in blocks[:-1])
    assert b"".join(block[:-1] for block in blocks[:-1]) + blocks[-1] == xml
    assert any(b"<t>" + b"x" * 5000 + b"<" in block for block in blocks)


OUTSIDE = "a date or duration cell holds a number outside the range both read alike"


@pytest.mark.parametrize("row", [1, 40], ids=["first block", "later block"])
@pytest.mark.parametrize(
    "cell",
    [
        '<c r="B{n}" s="3"><v>3000000</v></c>',
        '<c r="B{n}" s="3" t="n"><v>-1</v></c>',
        '<c r="B{n}" s="3"><v>2958465.99995</v></c>',
        '<c r="B{n}" s="3"><f>NOW()</f><v>3000000</v></c>',
        '<c r="B{n}" s="4"><v>1e10</v></c>',
        '<x:c r="B{n}" s="3"><x:v>3000000</x:v></x:c>',
    ],
)
def test_a_date_or_duration_cell_outside_the_range_is_found_in_any_block(cell, row):
    assert scan_state(odd_sheet(60, [(row, cell)], []), 300) == OUTSIDE


@pytest.mark.parametrize("prefix", ["", "x:"])
def test_a_date_cell_split_between_blocks_is_checked_whole(prefix):
    scan = xlsx_calamine._SheetScan(dates=frozenset({DATE_STYLE}))
    assert scan.add(b"".join(usual_row(n) for n in range(1, 4)) + b"<") is None
    assert scan.add(f'<{prefix}c r="D4" s="{DATE_STYLE}"><'.encode()) is None
    assert scan.add(f"<{prefix}v>3000000</{prefix}v></{prefix}c><".encode()) == OUTSIDE


def test_a_reader_of_the_first_rows_streams_them_and_reads_them_alike():
    # A preview or a mapping's sample needs a few rows: calamine would parse the whole sheet first.
    data = workbook_bytes(["ean", "name"], *([f"{n:013d}", f"item {n}"] for n in range(50)))
    whole = xlsx_module.XlsxReader(io.BytesIO(data))
    first = xlsx_module.XlsxReader.for_first_rows(io.BytesIO(data))
    first_rows = [row for row, _ in zip(first.rows(), range(10), strict=False)]
    whole_rows = list(whole.rows())
    assert (whole.engine, first.engine) == ("calamine", "openpyxl")
    assert first.columns() == whole.columns() and first_rows == whole_rows[:10]


# --- batches: calamine's rows converted a column at a time ------------------------------------


def batch_outcome(data: bytes, size: int, *, by_columns: bool) -> tuple[str, list]:
    """The engine and everything the batches of ``data`` hold, up to the error that stops them:
    made by the reader's own batches (by columns on calamine's path) or from its records."""
    reader = xlsx_module.XlsxReader(io.BytesIO(data))
    made = []
    try:
        reader.columns()
        batches = reader.batches(size) if by_columns else xlsx_module.RowReader.batches(reader, size)
        for batch in batches:
            made.append(batch_contents(batch))
    except xlsx_module.FormatError as error:
        made.append((type(error), str(error)))
    made.append(reader.fraction_read() if hasattr(reader, "_cells") else None)
    return reader.engine, made


_XML_TEXT = st.lists(st.sampled_from(["a", "b", "é", "<", "&", " ", "\t", "_x0"]), max_size=7).map("".join)
_XML_CELL = st.one_of(
    st.none(),
    _XML_TEXT.map(lambda text: ("text", text)),  # "" an empty text, " " a blank one
    st.floats(-1e15, 1e15).map(lambda number: ("n", repr(number))),  # below the long integers
    st.floats(-1e4, 1e4).map(lambda number: ("n", repr(round(number, 2)))),
    st.floats(-1e-3, 1e-3).map(lambda number: ("n", repr(number))),  # shown as 1E-05 and such
    st.integers(-(10**6), 10**6).map(lambda number: ("n", str(number))),
    st.booleans().map(lambda value: ("b", str(int(value)))),
)


def xml_cell(reference: str, cell: tuple[str, str]) -> str:
    kind, value = cell
    if kind == "text":
        return f'<c r="{reference}" t="inlineStr"><is><t xml:space="preserve">{escape(value)}</t></is></c>'
    return f'<c r="{reference}" t="{kind}"><v>{value}</v></c>'


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    header=st.lists(_XML_TEXT.filter(str.strip), min_size=1, max_size=4),
    rows=st.lists(st.tuples(st.integers(0, 2), st.lists(_XML_CELL, max_size=6)), max_size=14),
    size=st.integers(1, 6),
    max_chars=st.integers(1, 40),
    max_field=st.sampled_from([4, MAX_FIELD_CHARS]),
    fail_after=st.none() | st.integers(1, 15),  # after the header
    first_rows=st.sampled_from([1, 3, xlsx_module.FIRST_HELD_ROWS]),
)
def test_batches_made_by_columns_hold_what_the_records_make(
    header, rows, size, max_chars, max_field, fail_after, first_rows
):
    """Blank rows (gaps, empty or blank cells), too many values, a batch cut by its text or its
    size, a cell too long, calamine failing mid-sheet, a batch converted in several parts: the
    same batches, errors and rows."""
    lines, number = [], 1
    for gap, cells in [(0, [("text", name) for name in header]), *rows]:
        number += gap
        written = "".join(
            xml_cell(f"{get_column_letter(column)}{number}", cell)
            for column, cell in enumerate(cells, start=1)
            if cell is not None
        )
        lines.append(f'<row r="{number}">{written}</row>')
        number += 1
    data = with_sheet(workbook_bytes(["ean"], ["1"]), SHEET % "".join(lines).encode())
    real_sheet_rows = xlsx_module.sheet_rows

    def failing_sheet_rows(sheet):
        for count, cells in enumerate(real_sheet_rows(sheet)):
            if count == fail_after:
                raise ValueError("calamine failed")
            yield cells

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(base_module, "MAX_BATCH_CHARS", max_chars)
        patch.setattr(xlsx_module, "MAX_FIELD_CHARS", max_field)
        patch.setattr(xlsx_module, "FIRST_HELD_ROWS", first_rows)
        if fail_after is not None:
            patch.setattr(xlsx_module, "sheet_rows", failing_sheet_rows)
        engine, by_columns = batch_outcome(data, size, by_columns=True)
        reference_engine, by_records = batch_outcome(data, size, by_columns=False)
    assert engine == reference_engine == "calamine"
    assert by_columns == by_records


@pytest.mark.parametrize("first_rows", [1, 2, xlsx_module.FIRST_HELD_ROWS])
def test_batches_cut_by_their_text_are_cut_alike(monkeypatch, first_rows):
    monkeypatch.setattr(base_module, "MAX_BATCH_CHARS", 9)
    monkeypatch.setattr(xlsx_module, "FIRST_HELD_ROWS", first_rows)
    lines = [
        f'<row r="{n}">{xml_cell(f"A{n}", ("text", "abcd" if n > 1 else "ean"))}</row>' for n in range(1, 12)
    ]
    data = with_sheet(workbook_bytes(["ean"], ["1"]), SHEET % "".join(lines).encode())
    engine, by_columns = batch_outcome(data, 5, by_columns=True)
    assert (engine, by_columns) == batch_outcome(data, 5, by_columns=False)
    assert [batch[0] for batch in by_columns[:-1]] == [[2, 3, 4], [5, 6, 7], [8, 9, 10], [11]]


def test_the_bench_workbook_is_read_by_columns_as_by_records(tmp_path):
    path = bench_file("xlsx", 3000, tmp_path)
    engine, by_columns = batch_outcome(path.read_bytes(), 1000, by_columns=True)
    assert (engine, by_columns) == batch_outcome(path.read_bytes(), 1000, by_columns=False)
    assert engine == "calamine" and len(by_columns) == 4


# --- the text runs openpyxl and the scan read are bounded ----------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(st.sampled_from([b"<", b"a", b"abc", b"abcdefgh", b"<t>", b"xy<"]), max_size=30),
    limit=st.integers(1, 12),
    block=st.integers(1, 40),
)
def test_a_text_run_is_refused_exactly_when_it_is_too_long(parts, limit, block):
    data = b"".join(parts)
    too_long = re.search(rb"[^<]{%d,}" % (limit + 1), data) is not None
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(xlsx_module, "MAX_TEXT_RUN_BYTES", limit)
        patch.setattr(xlsx_module, "_RUN_WINDOW", (limit + 1) // 2)
        stream = xlsx_module._BoundedTextRuns(io.BytesIO(data), "sheet")
        try:
            while stream.read(block):
                pass
        except xlsx_module.SafetyLimitError:
            assert too_long
        else:
            assert not too_long
