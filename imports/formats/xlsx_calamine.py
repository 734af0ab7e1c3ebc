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

import functools
import io
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

# The sheet is scanned in blocks of this many bytes, each ending on the "<" that starts the next
# one's first tag, so a pattern may end on it and no tag or text is split (a text is at most
# xlsx.MAX_TEXT_RUN_BYTES long, which the stream bounds). A block the fast checks cannot decide
# is scanned again in pieces of SMALL_BLOCK_BYTES, and only the undecided pieces cell by cell.
BLOCK_BYTES = 1 << 20
SMALL_BLOCK_BYTES = 1 << 16

# A namespace prefix, as in <x:c>: calamine reads elements by their local name whatever it is.
_NAME = rb"[^\s<>/:!?=\"']+"
_PREFIX = rb"(?:" + _NAME + rb":)?"
_PREFIXED = re.compile(rb"<" + _NAME + rb":")
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


# An integer floats cannot hold (from 9 * 10**15, below 2**53): calamine reads every number as a
# float, openpyxl an integer exactly.
_LONG_INTEGER = rb"v\s*>\s*[+-]?(?:[0-9]{17,}|9[0-9]{15})\s*<"


def _different(prefix: bytes) -> dict[str, re.Pattern[bytes]]:
    """What calamine reads unlike openpyxl, each a reason to fall back; ``prefix``: the pattern of
    an element's namespace prefix (empty where the text has none)."""
    return {
        "a long integer": re.compile(rb"<" + prefix + _LONG_INTEGER),
        # an escaped UTF-16 surrogate (_xD83D_): openpyxl's path joins the pairs, calamine does not.
        "an escaped surrogate": re.compile(rb"_x[Dd][89A-Fa-f][0-9A-Fa-f]{2}_"),
        # a text whose <t> does not preserve space and starts or ends with a space: calamine trims it.
        "a text with edge spaces": re.compile(
            rb"<" + prefix + rb"t(?=[\s>])(?![^>]*xml:space\s*=\s*[\"']preserve)[^>]*>(?:\s|[^<]*\s<)"
        ),
        # a character reference (&#57;) or a CDATA section: calamine reads such a value as empty,
        # and trims a space so written; openpyxl reads them as any text.
        "a character reference": re.compile(rb"&#"),
        "a CDATA section": re.compile(rb"!\[CDATA\[(?<=<!\[CDATA\[)"),
    }


_DIFFERENT = _different(_PREFIX)
_DIFFERENT_UNPREFIXED = _different(b"")

# The fast checks (see _SheetScan) look for what is unusual, each a pass in C over a block: the
# patterns above that need no "<" to be found, and one pattern for every tag that matters.
_UNUSUAL_TEXT = [
    pattern
    for name, pattern in _DIFFERENT_UNPREFIXED.items()
    if name in ("an escaped surrogate", "a character reference", "a CDATA section")
]
# A "<" that starts a cell or row tag not written as usual (its reference first, inside the box:
# the first two %s are patterns of the columns and the rows in it; then its style, its type; the
# third, the date and duration cells as usual), a text tag other than <t> or a text that may start
# or end with a space, or a long integer.
_UNUSUAL_TAG = (
    rb'<(?:c(?! r="%s%s"(?:(?: s="%s[0-9]++")?+(?: t="(?:inlineStr|n|s|b|str)")?+/?+>%s))'
    rb'|row(?! r="%s")'
    rb"|t(?!>(?!\s)[^<]*+(?<!\s)<(?:/t>|\Z))"
    rb"|" + _LONG_INTEGER + rb")"
)
_ROW_NUMBER = re.compile(rb'<row r="([0-9]{1,7})"')
# For the exact count of date and duration cells: a cell's start tag (its attributes, and "/" if it
# closes at once), a value, or a cell's end tag.
_CELL_EVENT = re.compile(rb"<" + _PREFIX + rb"(?:c\s([^>]*?)(/?)>|v\s*>([^<]*)<)|</" + _PREFIX + rb"c\s*>")
_STYLE = re.compile(rb"""(?<![^\s])s\s*=\s*["']([^"']*)["']""")
_TYPE = re.compile(rb"""(?<![^\s])t\s*=\s*["']([^"']*)["']""")
_LAST_DATE_SERIAL = 2958465.9999
_LAST_DURATION_DAYS = 999_999_999
_COLUMN_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS = "0123456789"


def fallback_reason(
    open_part: Callable[[str], IO[bytes]],
    sheet: str,
    sheet_size: int,
    strings: str | None,
    strings_size: int,
    *,
    dates: frozenset[int] = frozenset(),
    durations: frozenset[int] = frozenset(),
) -> str | None:
    """Why the first sheet must not be held by calamine (a phrase for the log), or None when it may.

    ``open_part`` opens a part of the archive as a stream (bounded as openpyxl's are, so an
    endless text is refused here as it would be there); the sizes are the zip directory's;
    ``dates`` and ``durations`` are the cell styles openpyxl reads a date or a duration with.
    """
    if sheet_size + strings_size > MAX_HELD_XML_BYTES:
        return f"its sheet and shared text inflate to {sheet_size + strings_size} bytes"
    if 0 in dates | durations:
        return "its default cell style is a date or duration format"  # every plain number a date
    longest_text = 0
    if strings is not None:
        longest_text, reason = _scan_strings(open_part(strings))
        if reason:
            return reason
    # Without shared texts nothing is copied: the shared-text cells need not be counted.
    scan = _SheetScan(count_shared=longest_text > 0, dates=dates, durations=durations)
    with open_part(sheet) as stream:
        for block in _blocks(stream, BLOCK_BYTES):
            reason = scan.add(block)
            if reason:
                return reason
    if scan.cells and scan.box_cells() * CELL_BYTES > HELD_BUDGET_BYTES:
        return f"its used range spans {scan.box_cells()} cells"
    if longest_text * scan.shared_cells > HELD_BUDGET_BYTES:
        return f"{scan.shared_cells} shared-text cells would copy texts of up to {longest_text} bytes"
    return None


class _SheetScan:
    """The bounding box of a sheet's cell references and its count of shared-text cells.

    Most blocks are decided by a few passes of bytes operations and regular expressions that
    match only what is unusual (``_add_fast``); a block they cannot decide is read cell by cell
    (``_add_exact``), piece by piece. Either way the box and the count are those of every cell:
    the fast path accepts a block only when each of its cells lies inside the box already known.
    """

    def __init__(
        self,
        *,
        count_shared: bool = True,
        dates: frozenset[int] = frozenset(),
        durations: frozenset[int] = frozenset(),
    ) -> None:
        self.count_shared = count_shared
        self.dates = dates
        self.durations = durations
        self.open_serial: tuple[float, float] | None = None  # see _serials_agree
        self.cells = 0
        self.shared_cells = 0
        self.rows: tuple[int, int] | None = None  # the lowest and highest row number seen
        self.columns: tuple[int, int] | None = None  # the same for column numbers (A is 1)

    def add(self, block: bytes) -> str | None:
        if self._add_fast(block):
            return None
        start = 0  # where the pieces not yet counted start
        for piece in _blocks(io.BytesIO(block), SMALL_BLOCK_BYTES):
            start += len(piece) - 1  # the pieces overlap by their last "<"
            if self._add_fast(piece):
                continue
            reason = self._add_exact(piece)
            if reason:
                return reason
            if self._add_fast(block[start:]):
                return None  # the rest is usual (the first piece was counted to know the box)
        return None

    def _add_fast(self, block: bytes) -> bool:
        """Account for ``block`` if nothing in it needs a closer look; False (nothing counted) if not."""
        if self.columns is None or self.rows is None or self.open_serial is not None:
            return False  # the box is not known yet, or a date cell's number is still to come
        if b":" in block and _PREFIXED.search(block):
            return False
        rows = self.rows
        first = _ROW_NUMBER.search(block)
        if first:
            # Rows come in order: the first and the last extend the box, and any row or cell the
            # pattern finds outside it sends the block to the exact count.
            last = _ROW_NUMBER.match(block, block.rfind(b'<row r="')) or first
            rows = min(rows[0], int(first[1]), int(last[1])), max(rows[1], int(first[1]), int(last[1]))
        # The tags first: in a sheet of unusual cells this stops at the first, near the start.
        if _unusual_tag(*self.columns, *rows, self.dates, self.durations).search(block):
            return False
        if any(pattern.search(block) for pattern in _UNUSUAL_TEXT):
            return False
        self.rows = rows
        if self.count_shared:
            # Every cell tag here has its type as t="s" if shared; a text may add to the count.
            self.shared_cells += block.count(b't="s"')
        return True

    def _add_exact(self, block: bytes) -> str | None:
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
        if (self.dates or self.durations) and not self._serials_agree(block):
            return "a date or duration cell holds a number outside the range both read alike"
        self.cells += cells
        self.shared_cells += types.count(b"s")
        rows = [int(row) for row in row_references]
        columns = [_column_index(letters) for letters, _ in references]
        rows.extend(int(row) for _, row in references)
        if self.rows is not None:
            rows.extend(self.rows)
        if self.columns is not None:
            columns.extend(self.columns)
        if rows:
            self.rows = min(rows), max(rows)
        if columns:
            self.columns = min(columns), max(columns)
        return None

    def _serials_agree(self, block: bytes) -> bool:
        """Whether every number of a date or duration cell in ``block`` is read alike by both.

        openpyxl reads a date from 0 (1899-12-30) to 9999-12-31, rounded to the millisecond (so
        not its last seconds), a duration up to 999,999,999 days either way, and "#VALUE!"
        outside; calamine a number, a time of day or an error there. A cell may end in the next
        block: ``self.open_serial`` carries the range its number must lie in.
        """
        for event in _CELL_EVENT.finditer(block):
            attributes, closed, value = event.groups()
            if attributes is not None:
                self.open_serial = None if closed else self._serial_range(attributes)
            elif value is not None and self.open_serial is not None:
                low, high = self.open_serial
                try:
                    if not low <= float(value) < high:
                        return False
                except ValueError:
                    return False  # openpyxl's path names the problem
            elif value is None:
                self.open_serial = None  # the cell's end
        return True

    def _serial_range(self, attributes: bytes) -> tuple[float, float] | None:
        style, kind = _STYLE.search(attributes), _TYPE.search(attributes)
        if not style or (kind and kind[1] != b"n"):
            return None  # style 0 is no date (see fallback_reason); a text, a boolean
        try:
            index = int(style[1])
        except ValueError:
            return (0, 0)  # no number agrees: openpyxl's path names the problem
        if index in self.dates:
            return 0, _LAST_DATE_SERIAL
        if index in self.durations:
            return -_LAST_DURATION_DAYS, _LAST_DURATION_DAYS
        return None

    def box_cells(self) -> int:
        if self.rows is None or self.columns is None:
            return 0
        return (self.rows[1] - self.rows[0] + 1) * (self.columns[1] - self.columns[0] + 1)


def _column_index(letters: bytes) -> int:
    index = 0
    for letter in letters.upper():
        index = index * 26 + letter - 64
    return index


def _column_letters(index: int) -> str:
    letters = ""
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = _COLUMN_LETTERS[remainder] + letters
    return letters


@functools.lru_cache(maxsize=64)
def _unusual_tag(
    first_column: int,
    last_column: int,
    first_row: int,
    last_row: int,
    dates: frozenset[int] = frozenset(),
    durations: frozenset[int] = frozenset(),
) -> re.Pattern[bytes]:
    """``_UNUSUAL_TAG`` for this box of columns and rows and these date and duration styles."""
    columns = _between(_column_letters(first_column), _column_letters(last_column), "[A-Z]", _COLUMN_LETTERS)
    rows = _between(str(first_row), str(last_row), "[1-9]", _DIGITS)
    plain_style = dated = ""
    if dates | durations:
        plain_style = f'(?!(?:{"|".join(map(str, sorted(dates | durations)))})")'
    # A number in the range both read alike (see _SheetScan._serials_agree), as Excel writes it.
    for styles, serial in (
        (
            dates,
            rf"(?:0|{_between('1', '2958464', '[1-9]', _DIGITS)})(?:\.[0-9]+)?|2958465(?:\.(?!9999)[0-9]+)?",
        ),
        (durations, rf"-?(?:0|{_between('1', '999999998', '[1-9]', _DIGITS)})(?:\.[0-9]+)?"),
    ):
        if styles:
            ids = "|".join(map(str, sorted(styles)))
            dated += f'| s="(?:{ids})"(?: t="n")?+(?:/>|><v>(?:{serial})</v>)'
    return re.compile(
        _UNUSUAL_TAG % tuple(part.encode() for part in (columns, rows, plain_style, dated, rows))
    )


def _between(low: str, high: str, lead: str, symbols: str) -> str:
    """A pattern of the words from ``low`` to ``high`` (column letters, or row numbers without
    leading zeros: ``lead`` matches their first symbol), in the numbers' order.

    Words shorter than ``high`` and longer than ``low`` match outright; a word as long as a bound
    is matched, then compared with it looking behind, so a word is tried against a few branches.
    """
    one = f"[{symbols[0]}-{symbols[-1]}]"

    def beyond(word: str, step: int) -> str:
        # The words as long as ``word`` before it (step -1) or after it (step 1), as a tree.
        branches = []
        edge = symbols[0] if step < 0 else symbols[-1]
        if word[0] != edge:
            neighbour = symbols[symbols.index(word[0]) + step]
            span = f"[{edge}-{neighbour}]" if step < 0 else f"[{neighbour}-{edge}]"
            branches.append(f"{span}{one}{{{len(word) - 1}}}")
        rest = beyond(word[1:], step) if len(word) > 1 else ""
        if rest:
            branches.append(f"{word[0]}(?:{rest})")
        return "|".join(branches)

    def bounded(length: int, lowest: str | None, highest: str | None) -> str:
        pattern = f"{lead}{one}{{{length - 1}}}"
        # No bound to check against the lowest or highest word of this length ("1", "A", "99").
        if lowest and lowest != lead[1] + symbols[0] * (length - 1):
            pattern += f"(?<!{beyond(lowest, -1)})"
        if highest and highest != symbols[-1] * length:
            pattern += f"(?<!{beyond(highest, 1)})"
        return pattern

    if len(high) == 1:
        return f"[{low}-{high}]"
    if len(low) == len(high):
        return bounded(len(low), low, high)
    branches = [bounded(len(high), None, high), bounded(len(low), low, None)]
    if len(high) - len(low) > 1:
        branches.insert(0, f"{lead}{one}{{{len(low)},{len(high) - 2}}}")
    return f"(?:{'|'.join(branches)})"


def _scan_strings(stream: IO[bytes]) -> tuple[int, str | None]:
    """The longest shared text's XML in bytes (an upper bound of what calamine copies per cell)."""
    longest = 0
    open_text = 0  # the bytes of the text still open at the end of the previous block
    with stream:
        for block in _blocks(stream, BLOCK_BYTES):
            prefixed = b":" in block and _PREFIXED.search(block)
            for reason, pattern in (_DIFFERENT if prefixed else _DIFFERENT_UNPREFIXED).items():
                if pattern.search(block):
                    return 0, f"its shared text holds {reason}"
            # Each piece holds one text's XML (and what follows the table's last one); a text may
            # run on from the previous block.
            lengths = list(map(len, _SHARED_END.split(block) if prefixed else block.split(b"</si>")))
            lengths[0] += open_text
            longest = max(longest, *lengths)
            open_text = lengths[-1]
    return longest, None


def _blocks(stream: IO[bytes], size: int) -> Iterator[bytes]:
    """The stream in blocks of about ``size`` bytes, each ending on the "<" that starts the next.

    A block is cut before its last cell or row, else before its last tag: an element shorter than
    a block (a cell as written, a tag, a text and its end tag) is thus whole in one block,
    followed by the "<" of the next tag. A text longer than a block is read whole first.
    """
    carry = b""
    while data := stream.read(size):
        data = carry + data
        cut = max(data.rfind(b"<c "), data.rfind(b"<row "))
        if cut <= 0:
            cut = data.rfind(b"<")
        if cut <= 0:
            carry = data  # one text so far: as long as the stream allows
            continue
        carry = data[cut:]
        yield data[: cut + 1]
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
    the range's first column). An empty cell is an empty text, which ``xlsx.py`` reads as None.
    """
    start = sheet.start
    if not start or not start[1]:
        yield from sheet.iter_rows()
        return
    pad = [None] * start[1]
    for cells in sheet.iter_rows():
        yield pad + cells
