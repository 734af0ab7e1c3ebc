"""XLSX's fast path: the first worksheet held whole by python-calamine, when that is safe and exact.

calamine parses a sheet in Rust about fifteen times faster than openpyxl, but it holds the whole
sheet, and a few bytes of XML can make it allocate gigabytes: a sheet of two cells A1 and
XFD1048576 is a grid of 17 billion cells, and one long shared text referred to by every cell is
copied into each. Before calamine sees the file, ``fallback_reason`` streams the sheet (and the
shared text table) once, with regular expressions and bytes operations only, measures what
calamine would hold, and looks for the few things calamine reads differently from openpyxl
(``xlsx.py``'s reference behaviour). Any of them sends the file to openpyxl's streaming path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import IO, Any

# What the held sheet may cost. Measured on the bench's 100,000-row workbook (6 columns, inline
# text, bench/data.py): its sheet inflates to 32.6 MB of XML and calamine's load raises the
# process's peak RSS by 54 MiB (the cell grid and its texts), 1.7 bytes per byte of XML; at 2 per
# byte, 64 MiB holds sheets of up to 32 MiB of XML, about 100,000 rows of 6 columns.
HELD_BUDGET_BYTES = 64 << 20
MEMORY_PER_XML_BYTE = 2
MAX_HELD_XML_BYTES = HELD_BUDGET_BYTES // MEMORY_PER_XML_BYTE
# calamine's cell is a 32-byte enum, allocated for every position of the used range.
CELL_BYTES = 32

# The sheet is scanned in blocks of this many bytes; each block is cut before its last "<" so a
# tag and the text after it are never split (a text is at most xlsx.MAX_TEXT_RUN_BYTES long).
BLOCK_BYTES = 1 << 20

_PREFIX = rb"(?:[A-Za-z_][\w.-]*:)?"  # a namespace prefix, as in <x:c>
_ATTRIBUTE_END = rb"""["']"""
# A cell or row start tag, and the same with its reference (attributes in any order).
_CELL = re.compile(rb"<" + _PREFIX + rb"c[\s/>]")
_CELL_REF = re.compile(
    rb"<" + _PREFIX + rb"c\s[^>]*?(?<=\s)r\s*=\s*[\"']\$?([A-Za-z]{1,3})\$?([0-9]{1,7})[\"']"
)
_ROW = re.compile(rb"<" + _PREFIX + rb"row[\s/>]")
_ROW_REF = re.compile(rb"<" + _PREFIX + rb"row\s[^>]*?(?<=\s)r\s*=\s*[\"']([0-9]{1,7})[\"']")
# A cell's type when it is a shared text (s), an error (e) or an ISO date text (d): calamine gives
# an error cell as an empty text, openpyxl as its text (#N/A), and types date texts its own way.
_CELL_TYPE = re.compile(rb"<" + _PREFIX + rb"c\s[^>]*?(?<=\s)t\s*=\s*[\"']([sed])[\"']")
_SHARED_END = re.compile(rb"</" + _PREFIX + rb"si\s*>")
# What calamine reads unlike openpyxl, each a reason to fall back:
_DIFFERENT = {
    # an integer floats cannot hold (from 9 * 10**15, below 2**53): calamine reads every number as
    # a float, openpyxl an integer exactly.
    "a long integer": re.compile(rb"<" + _PREFIX + rb"v\s*>\s*[+-]?(?:[0-9]{17,}|9[0-9]{15})\s*<"),
    # an escaped UTF-16 surrogate (_xD83D_): openpyxl's path joins the pairs, calamine does not.
    "an escaped surrogate": re.compile(rb"_x[Dd][89A-Fa-f][0-9A-Fa-f]{2}_"),
    # a text whose <t> does not preserve space and starts or ends with a space: calamine trims it.
    "a text with edge spaces": re.compile(
        rb"<" + _PREFIX + rb"t(?=[\s>])(?![^>]*xml:space\s*=\s*[\"']preserve)[^>]*>(?:\s|[^<]*\s<)"
    ),
}


def fallback_reason(
    open_part: Callable[[str], IO[bytes]], sheet: str, sheet_size: int, strings: str | None, strings_size: int
) -> str | None:
    """Why the first sheet must not be held by calamine (a phrase for the log), or None when it may.

    ``open_part`` opens a part of the archive as a stream (bounded as openpyxl's are, so an
    endless text is refused here as it would be there); the sizes are the zip directory's.
    """
    if sheet_size + strings_size > MAX_HELD_XML_BYTES:
        return f"its sheet and shared text inflate to {sheet_size + strings_size} bytes"
    longest_text = 0
    if strings is not None:
        longest_text, reason = _scan_strings(open_part(strings))
        if reason:
            return reason
    scan = _SheetScan()
    with open_part(sheet) as stream:
        for block in _blocks(stream):
            reason = scan.add(block)
            if reason:
                return reason
    if scan.cells and scan.box_cells() * CELL_BYTES > HELD_BUDGET_BYTES:
        return f"its used range spans {scan.box_cells()} cells"
    if longest_text * scan.shared_cells > HELD_BUDGET_BYTES:
        return f"{scan.shared_cells} shared-text cells would copy texts of up to {longest_text} bytes"
    return None


class _SheetScan:
    """The bounding box of a sheet's cell references and its count of shared-text cells."""

    def __init__(self) -> None:
        self.cells = 0
        self.shared_cells = 0
        self.rows: set[bytes] = set()
        self.columns: set[bytes] = set()

    def add(self, block: bytes) -> str | None:
        references = _CELL_REF.findall(block)
        cells = len(_CELL.findall(block))
        if len(references) != cells:
            return "a cell has no reference"
        row_references = _ROW_REF.findall(block)
        if len(row_references) != len(_ROW.findall(block)):
            return "a row has no reference"
        for reason, pattern in _DIFFERENT.items():
            if pattern.search(block):
                return f"it holds {reason}"
        types = _CELL_TYPE.findall(block)  # one-byte strings: no allocation per cell
        if b"e" in types or b"d" in types:
            return "it holds an error or date-text cell"
        self.cells += cells
        self.shared_cells += types.count(b"s")
        self.rows.update(row_references)
        if references:
            columns, rows = zip(*references, strict=True)
            self.columns.update(columns)
            self.rows.update(rows)
        return None

    def box_cells(self) -> int:
        rows = [int(row) for row in self.rows]
        columns = [_column_index(letters) for letters in self.columns]
        return (max(rows) - min(rows) + 1) * (max(columns) - min(columns) + 1)


def _column_index(letters: bytes) -> int:
    index = 0
    for letter in letters.upper():
        index = index * 26 + letter - 64
    return index


def _scan_strings(stream: IO[bytes]) -> tuple[int, str | None]:
    """The longest shared text's XML in bytes (an upper bound of what calamine copies per cell)."""
    longest = 0
    with stream:
        for block in _blocks(stream):
            for reason, pattern in _DIFFERENT.items():
                if pattern.search(block):
                    return 0, f"its shared text holds {reason}"
            # Each piece holds one text's XML (and what follows the table's last one).
            longest = max(longest, *map(len, _SHARED_END.split(block)))
    return longest, None


def _blocks(stream: IO[bytes]) -> Iterator[bytes]:
    """The stream in blocks, each cut before its last "<" (the rest starts the next block).

    An element shorter than a block (a tag, a text and its end tag) is thus whole in one block.
    """
    carry = b""
    while data := stream.read(BLOCK_BYTES):
        data = carry + data
        cut = data.rfind(b"<")
        if cut <= 0:
            carry, data = b"", data
        else:
            carry, data = data[cut:], data[:cut]
        yield data
    if carry:
        yield carry


# --- number formats ----------------------------------------------------------------------------


def formats_agree(workbook) -> bool:
    """Whether calamine types every cell style as openpyxl does (a date, a duration or a number).

    ``workbook`` is openpyxl's, with its stylesheet applied. calamine decides from the format
    code itself (``_calamine_format``), openpyxl from its own rules; where they would differ the
    cells' values would, so such a workbook is read by openpyxl.
    """
    from openpyxl.styles.numbers import BUILTIN_FORMATS_MAX_SIZE

    for index, style in enumerate(workbook._cell_styles):
        number_format = style.numFmtId
        if number_format >= BUILTIN_FORMATS_MAX_SIZE:
            kind = _calamine_format(workbook._number_formats[number_format - BUILTIN_FORMATS_MAX_SIZE])
        else:
            kind = _BUILTIN_KINDS.get(number_format, "number")
        if index in workbook._timedelta_formats:
            expected = "duration"
        elif index in workbook._date_formats:
            expected = "date"
        else:
            expected = "number"
        if kind != expected:
            return False
    return True


_BUILTIN_KINDS = {**dict.fromkeys((*range(14, 23), 45, 47), "date"), 46: "duration"}
_CALAMINE_TOKENS = frozenset("dmhysDMHYS")


def _calamine_format(code: str) -> str | None:
    """calamine's reading of a custom number format code (its ``detect_custom_number_format``).

    None where calamine's versions disagree (a ``*`` fill), so the caller falls back.
    """
    if "*" in code:
        return None
    escaped = quoted = ap = hms = False
    brackets = 0
    previous = " "
    for char in code:
        if escaped:
            escaped = False
        elif char in "_\\":
            escaped = True
        elif quoted:
            quoted = char != '"'
        elif char == '"':
            quoted = True
        elif char == ";":
            return "number"
        elif char == "[":
            brackets += 1
        elif char == "]" and brackets == 1 and hms:
            return "duration"
        elif char == "]":
            brackets = max(brackets - 1, 0)
        elif char in "aA" and not ap and brackets == 0:
            ap = True
        elif brackets == 0 and ((ap and char in "pm/PM") or (not ap and char in _CALAMINE_TOKENS)):
            return "date"
        elif not (hms and char.lower() == previous.lower()):
            hms = previous == "[" and char in "mhsMHS"
        previous = char
    return "number"


# --- cells ----------------------------------------------------------------------------------------


def sheet_rows(sheet) -> Iterator[list[Any]]:
    """The rows of a calamine sheet as openpyxl's read-only mode gives them (``xlsx.py``).

    Every row from row 1 (calamine's rows start there), each from column A (calamine's start at
    the range's first column), an empty cell as None, no empty cell after the last value.
    """
    start = sheet.start
    pad = [None] * (start[1] if start else 0)
    for cells in sheet.iter_rows():
        # calamine's empty cell is an empty text; openpyxl reads an empty text as no value too.
        values = [None if cell == "" else cell for cell in cells]
        while values and values[-1] is None:
            values.pop()
        yield pad + values if values else values
