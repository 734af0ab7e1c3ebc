"""XLSX: the first worksheet, held by python-calamine when safe, else streamed by openpyxl.

After the zip-bomb checks, ``xlsx_calamine`` decides whether calamine may hold the sheet (its
size, its used range, its shared texts, and nothing calamine reads differently); openpyxl's
read-only mode, which streams any sheet, is the reference the fast path matches value for value.

Cells come back as the values a spreadsheet shows: a number typed as a code stays exact
(``3760000000001.0`` → ``3760000000001``), a decimal is what Excel displays (15 significant
digits, so a stored ``29.989999999999998`` reads ``29.99``), dates become ISO text, and Excel's
``_xHHHH_`` escapes in text (``_x000D_`` for a carriage return) are decoded, which openpyxl
leaves to its callers. Formulas read as the value the spreadsheet application last computed and
saved with the file (a file written by a library that computes nothing has none: empty cells).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import posixpath
import re
import warnings
import zipfile
import zlib
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import accumulate, compress, islice
from typing import Any, Literal
from xml.etree.ElementTree import ParseError

from . import base
from .base import (
    MAX_FIELD_CHARS,
    FormatError,
    RawBatch,
    RawRow,
    RowReader,
    SafetyLimitError,
    clean_header,
    name_content,
    register,
    row_chars,
    take_batch,
)
from .xlsx_calamine import fallback_reason, formats_agree, sheet_rows

logger = logging.getLogger(__name__)

# Zip-bomb limits, checked on the archive's directory before anything is inflated. Python's
# zipfile never inflates an entry past the size its directory declares (it fails the CRC
# instead), so checking the declared sizes is enough.
MAX_ENTRIES = 10_000
MAX_UNCOMPRESSED_BYTES = 4 << 30
# Real sheets compress 5-30x; bombs 1000x and more. Small entries are exempt: a tiny file of
# repeated bytes may legitimately have a high ratio without being able to hurt anyone.
MAX_RATIO = 100
RATIO_EXEMPT_BYTES = 1 << 20
# openpyxl streams the sheet but holds the shared strings table (the text of every cell, for
# files written by Excel or LibreOffice) in memory: this bounds that table, about 1 GB of RAM.
MAX_SHARED_STRINGS_BYTES = 256 << 20

# openpyxl warns about workbook features it does not model (data validation, conditional
# formats, missing default style); none of them changes the cell values we read.
warnings.filterwarnings("ignore", category=UserWarning, module=r"openpyxl\..*")

# ECMA-376 ST_Xstring: a character written as _xHHHH_ (a literal "_x" is escaped as _x005F_).
_XSTRING_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")

# What openpyxl raises on a damaged part of a workbook; any of them means "corrupt file".
_CORRUPT = (
    zipfile.BadZipFile,
    zlib.error,
    ParseError,
    ValueError,
    TypeError,
    # KeyError and IndexError (a part or a style missing), and an XML part that declares an
    # encoding expat does not know.
    LookupError,
    AttributeError,
    EOFError,
    OSError,
    NotImplementedError,  # zipfile: a ZIP feature it cannot read
)


@register
class XlsxReader(RowReader):
    """The first worksheet of an Excel workbook; the header is its first non-blank row."""

    file_type = "xlsx"

    _header: list[str]
    _cells: Iterator[Sequence[Any]]
    _step: int  # calamine's path: how many rows a batch converts at first (_held_batch)

    def __init__(self, fileobj, size: int | None = None, *, engine: Literal["auto", "openpyxl"] = "auto"):
        super().__init__(fileobj, size)
        # "openpyxl" forces the streaming path (the reference); after opening, ``engine`` says
        # which one reads the file.
        self.engine: str = engine

    @classmethod
    def for_first_rows(cls, fileobj, size: int | None = None) -> XlsxReader:
        # calamine parses the whole sheet before its first row: openpyxl streams. Both give the
        # same values wherever calamine is used at all (xlsx_calamine.fallback_reason).
        return cls(fileobj, size, engine="openpyxl")

    @classmethod
    def content_mismatch(cls, head: bytes) -> str | None:
        if head.startswith(b"PK\x03\x04"):
            return None
        return f"The file is named .xlsx but its content is {name_content(head)}, not an Excel workbook."

    def columns(self) -> list[str]:
        self._open()
        return self._header

    def rows(self) -> Iterator[RawRow]:
        self._open()
        held = self.engine == "calamine"
        yield from self._records(self._held if held else enumerate(self._cells, self._number + 1))

    def batches(self, size: int) -> Iterator[RawBatch]:
        """On calamine's path, the rows converted a column at a time (``_held_batch``)."""
        self._open()
        if self.engine != "calamine":
            yield from super().batches(size)
            return
        while (batch := self._held_batch(size)) is not None:
            yield batch

    def _records(self, numbered: Iterable[tuple[int, Sequence[Any]]]) -> Iterator[RawRow]:
        """The records of the rows ``numbered`` (each with its row number) after the header."""
        width = len(self._header)
        decode = self.engine == "openpyxl"  # calamine decodes _xHHHH_ itself
        try:
            for number, cells in numbered:
                self._number = self._rows_read = number
                values = _row_values(cells, number, decode)
                if (not values or _blank(values[0])) and all(_blank(v) for v in values):
                    continue
                while values[-1] is None:
                    values.pop()  # a formatted but empty cell ends the row as no cell would
                if len(values) > width and not all(_blank(v) for v in values[width:]):
                    extra = max(i for i, v in enumerate(values) if not _blank(v)) + 1
                    yield RawRow(
                        self._number, error=f"row has {extra} values but the header has {width} columns"
                    )
                    continue
                yield RawRow(self._number, dict(zip(self._header, values, strict=False)))
        except FormatError:
            raise
        except _CORRUPT:
            logger.info("unreadable workbook row %s", self._number, exc_info=True)
            raise FormatError(
                f"The workbook is corrupt: its first sheet cannot be read after row {self._number}."
            ) from None
        finally:
            self._close()

    def _held_batch(self, size: int) -> RawBatch | None:
        """The next batch on calamine's path, as ``RowReader.batches`` would make it from
        ``rows()``, or None at the end of the sheet.

        Its rows are converted a column at a time (``_HeldColumns``): a row at a time, the
        records, their dictionaries and their regrouping into columns took 0.9 s of the bench's
        100,000 rows (an analysis of 2.0 s); a column at a time, 0.35 s. Rows the columns cannot
        take as they are (a row with too many values, a cell the reference path refuses, an error
        from calamine) are given back and the batch is made by the reference path, which yields
        what it yields and raises where it raises.
        """
        held = self._held
        taken: list[Sequence[Any]] = []  # every row taken, to give back
        parts: list[_HeldColumns] = []
        count = chars = 0
        full = False
        # Rows of long texts fill a batch with a few of them: converting ``size`` rows to keep a
        # few would cost the whole held sheet's text for each batch. So the rows are taken as many
        # at first as the last batch held, then twice as many each time.
        step = self._step
        while count < size:
            first = held.next_number
            rows = held.take(min(size - count, step))
            step *= 2
            taken += rows
            if held.error is not None:
                return self._reference_batch(taken, size)
            if not rows:
                break  # the end of the sheet
            part = _HeldColumns.of(first, rows, self._header)
            if part is None:
                return self._reference_batch(taken, size)
            if chars + part.chars >= base.MAX_BATCH_CHARS:  # take_batch's limit, read where it reads it
                # take_batch stops at the row whose text reaches the limit: the rest is given back.
                part = part.up_to_chars(base.MAX_BATCH_CHARS - chars)
                held.give_back(rows[part.numbers[-1] - first + 1 :])
                full = True
            parts.append(part)
            count += len(part.numbers)
            chars += part.chars
            if full:
                break
        # The reference path's generator stops at the batch's last record, unless it ran out.
        if full or count >= size:
            self._number = self._rows_read = parts[-1].numbers[-1]
        elif taken:
            self._number = self._rows_read = held.next_number - 1
        if not count:
            return None
        self._step = count
        return _HeldColumns.joined(parts).batch(self._header, self.fraction_read())

    def _reference_batch(self, taken: list[Sequence[Any]], size: int) -> RawBatch | None:
        self._held.give_back(taken)
        chunk = take_batch(self._records(self._held), size, row_chars)
        return RawBatch.of_rows(chunk, self.fraction_read()) if chunk else None

    def fraction_read(self) -> float | None:
        if not getattr(self, "_dimension_rows", None) or self._rows_read > self._dimension_rows:
            return None  # no stored dimension, or a wrong one: we cannot tell
        return self._rows_read / self._dimension_rows

    # --- opening --------------------------------------------------------------------------

    def _open(self) -> None:
        if hasattr(self, "_cells"):
            return
        self.read_head(8)
        self._check_archive()
        self._number = 0
        self._rows_read = 0
        if self.engine == "auto" and self._open_held():
            return
        self.engine = "openpyxl"
        self._workbook = self._load()
        try:
            sheets = self._workbook.worksheets
            if not sheets:
                raise FormatError("The workbook has no worksheet.")
            sheet = sheets[0]
            self._dimension_rows = sheet.max_row
            # The stored <dimension> is often wrong (some writers never update it): read every row.
            sheet.reset_dimensions()
            self._cells = sheet.iter_rows(min_row=1, values_only=True)
            self._header = self._read_header()
        except FormatError:
            self._close()
            raise
        except _CORRUPT:
            self._close()
            logger.info("unreadable workbook sheet", exc_info=True)
            raise FormatError("The workbook is corrupt: its first sheet cannot be read.") from None

    def _check_archive(self) -> None:
        try:
            archive = zipfile.ZipFile(self.fileobj)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
            logger.info("unreadable workbook archive", exc_info=True)
            raise FormatError("The file is named .xlsx but it is not a readable ZIP archive.") from None
        with archive:
            entries = archive.infolist()
        if len(entries) > MAX_ENTRIES:
            raise SafetyLimitError(
                f"The workbook holds {len(entries)} files; at most {MAX_ENTRIES} are accepted (zip bomb?)."
            )
        total = 0
        names = set()
        for entry in entries:
            name = entry.filename
            parts = name.replace("\\", "/").split("/")
            if name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":"):
                raise SafetyLimitError(f"The workbook contains an unsafe file path '{name}'.")
            if entry.flag_bits & 0x1:
                raise FormatError(
                    f"The workbook's part '{name}' is encrypted: save the workbook without a password."
                )
            if entry.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                # Excel and LibreOffice only deflate; other methods are other tools' archives.
                raise FormatError(
                    f"The workbook's part '{name}' uses ZIP compression method {entry.compress_type}; "
                    "only the methods spreadsheet applications write (stored, deflated) are read."
                )
            total += entry.file_size
            if entry.file_size > RATIO_EXEMPT_BYTES and entry.file_size > MAX_RATIO * max(
                entry.compress_size, 1
            ):
                raise SafetyLimitError(
                    f"The workbook's part '{name}' inflates {entry.file_size // max(entry.compress_size, 1)} "
                    f"times (at most {MAX_RATIO} is accepted): it looks like a zip bomb."
                )
            if name.lower().endswith("sharedstrings.xml"):
                _check_shared_strings_size(entry.file_size)
            names.add(posixpath.normpath(name).lower())
        if total > MAX_UNCOMPRESSED_BYTES:
            raise SafetyLimitError(
                f"The workbook inflates to {total} bytes; at most {MAX_UNCOMPRESSED_BYTES} are accepted."
            )
        if not any(name.endswith("workbook.xml") for name in names):
            raise FormatError(
                f"The file is named .xlsx but it is {_describe_zip(names)}, not an Excel workbook."
            )
        self.fileobj.seek(0)

    def _load(self):
        from openpyxl.reader.excel import ExcelReader  # heavy: only when an XLSX file is read
        from openpyxl.worksheet._read_only import ReadOnlyWorksheet
        from openpyxl.xml.constants import SHARED_STRINGS

        ReadOnlyWorksheet._get_size = _sheet_size_from_head  # see below
        try:
            reader = ExcelReader(self.fileobj, read_only=True, data_only=True, keep_links=False)
            _bound_text_runs(reader.archive)
            # The shared text table is the part the manifest names, whatever it is called: the
            # very lookup openpyxl does next. Its whole content is held in memory.
            reader.read_manifest()
            part = reader.package.find(SHARED_STRINGS)
            if part is not None:
                _check_shared_strings_size(reader.archive.getinfo(part.PartName[1:]).file_size)
            reader.read()
            return reader.wb
        except FormatError:
            raise
        except _CORRUPT:
            logger.info("unreadable workbook", exc_info=True)
            raise FormatError("The workbook is corrupt and cannot be opened.") from None

    def _open_held(self) -> bool:
        """Open the first sheet with calamine if it may hold it (see xlsx_calamine); False if not.

        openpyxl reads the workbook's directory parts (the manifest, the workbook and its
        relationships, the styles: not the sheets or the texts), to find the first worksheet and
        its shared text table exactly as its own path would. Whatever fails here, openpyxl's path
        reads the file again and names the problem in our words.
        """
        import python_calamine  # heavy: only when an XLSX file is read
        from openpyxl.reader.excel import ExcelReader
        from openpyxl.styles.stylesheet import apply_stylesheet
        from openpyxl.utils.datetime import WINDOWS_EPOCH
        from openpyxl.xml.constants import SHARED_STRINGS

        try:
            reader = ExcelReader(self.fileobj, read_only=True, data_only=True, keep_links=False)
        except _CORRUPT:
            return False
        try:
            _bound_text_runs(reader.archive)
            reader.read_manifest()
            strings = reader.package.find(SHARED_STRINGS)
            strings_name = strings.PartName[1:] if strings is not None else None
            strings_size = reader.archive.getinfo(strings_name).file_size if strings_name else 0
            _check_shared_strings_size(strings_size)
            reader.read_workbook()
            apply_stylesheet(reader.archive, reader.wb)
            first = next(
                (
                    (sheet.name, rel.target)
                    for sheet, rel in reader.parser.find_sheets()
                    if rel.target in reader.valid_files and "chartsheet" not in rel.Type
                ),
                None,
            )
            if first is None:
                return False  # openpyxl's path says so
            name, part = first
            durations = frozenset(reader.wb._timedelta_formats)
            reason = fallback_reason(
                reader.archive.open,
                part,
                reader.archive.getinfo(part).file_size,
                strings_name,
                strings_size,
                dates=frozenset(reader.wb._date_formats) - durations,
                durations=durations,
            )
            if reason is None and reader.wb.epoch != WINDOWS_EPOCH:
                # The first days of the 1904 system (serials below 1) are typed apart by each.
                reason = "it counts dates from 1904"
            if reason is None and not formats_agree(reader.wb):
                reason = "calamine would type one of its number formats differently"
        except FormatError:
            raise
        except _CORRUPT:
            logger.info("workbook left to openpyxl: its parts cannot be read", exc_info=True)
            return False
        finally:
            reader.archive.close()
        if reason is not None:
            logger.info("workbook read by openpyxl: %s", reason)
            return False
        self.fileobj.seek(0)
        try:
            book = python_calamine.CalamineWorkbook.from_filelike(self.fileobj)
            if book.sheet_names.count(name) != 1:
                return False
            sheet = book.get_sheet_by_name(name)  # the whole sheet, parsed now
        except Exception:  # calamine's errors carry its own words: openpyxl's path finds ours
            logger.info("workbook left to openpyxl: calamine cannot read it", exc_info=True)
            self.fileobj.seek(0)
            return False
        self.engine = "calamine"
        self._dimension_rows = sheet.end[0] + 1 if sheet.end else 0
        self._cells = sheet_rows(sheet)
        self._header = self._read_header()
        self._held = _HeldRows(self._cells, self._number)
        self._step = FIRST_HELD_ROWS
        return True

    def _read_header(self) -> list[str]:
        decode = self.engine == "openpyxl"
        for cells in self._cells:
            self._number += 1
            values = _row_values(cells, self._number, decode)
            if all(_blank(v) for v in values):
                continue
            while _blank(values[-1]):
                values.pop()  # formatted but empty cells after the last heading
            return clean_header(["" if v is None else str(v) for v in values])
        raise FormatError("The first sheet of the workbook is empty.")

    def _close(self) -> None:
        workbook = getattr(self, "_workbook", None)
        if workbook is not None:
            workbook.close()
            self._workbook = None


_NO_ROW: list[Any] = []  # the end of the rows, as no row is (by identity)
# How many rows the first batch of calamine's path converts at once (see XlsxReader._held_batch):
# the bench's 20,000-row batches start with 256, 512, ... and later ones take 20,000 at once.
FIRST_HELD_ROWS = 256


class _HeldRows:
    """calamine's rows after the header, which a batch may take ahead of the records it makes
    and give back (``XlsxReader._held_batch``); iterated, each with its row number.

    An error raised while rows are taken is kept, and raised when the reference path's
    iteration reaches it, after the rows that came before it.
    """

    def __init__(self, rows: Iterator[Sequence[Any]], number: int):
        self._rows = self._guarded(rows)
        self.next_number = number + 1  # the row number of the next row taken
        self._given_back: deque[Sequence[Any]] = deque()
        self.error: Exception | None = None

    def _guarded(self, rows: Iterator[Sequence[Any]]) -> Iterator[Sequence[Any]]:
        try:
            yield from rows
        except Exception as error:  # raised by __iter__ after the rows before it, as rows() would
            self.error = error

    def take(self, count: int) -> list[Sequence[Any]]:
        """The next ``count`` rows: fewer at the end of the sheet, or where ``error`` is set."""
        taken = [self._given_back.popleft() for _ in range(min(count, len(self._given_back)))]
        taken += islice(self._rows, count - len(taken))
        self.next_number += len(taken)
        return taken

    def give_back(self, rows: list[Sequence[Any]]) -> None:
        """The last rows taken, to be taken again."""
        self._given_back.extendleft(reversed(rows))
        self.next_number -= len(rows)

    def __iter__(self) -> Iterator[tuple[int, Sequence[Any]]]:
        while True:
            if self._given_back:
                cells = self._given_back.popleft()
            elif (cells := next(self._rows, _NO_ROW)) is _NO_ROW:
                if self.error is not None:
                    error, self.error = self.error, None
                    raise error
                return
            self.next_number += 1
            yield self.next_number - 1, cells


@dataclass
class _HeldColumns:
    """Consecutive records of calamine's sheet as columns of the values ``rows()`` gives them.

    ``columns`` are those of the header up to the last one any record fills (the columns
    ``RawBatch.of_rows`` would find in their records); ``chars`` is their text (``row_chars``).
    """

    numbers: list[int]
    columns: list[list[Any]]
    chars: int

    @classmethod
    def of(cls, first: int, rows: list[Sequence[Any]], header: list[str]) -> _HeldColumns | None:
        """The records of ``rows`` (numbered from ``first``), or None where one of them is not a
        plain record of the header's columns (the reference path then makes the batch)."""
        width = len(header)
        numbers = list(range(first, first + len(rows)))
        try:
            cells = list(zip(*rows, strict=True))
            # Cells past the header's last column are all empty, or a row may be refused.
            if any(not set(column) <= {"", None} for column in cells[width:]):
                return None
            columns = [_column_values(column) for column in cells[:width]]
        except Exception:  # a cell too long, rows of unequal lengths: the reference path decides
            return None
        if len(columns) < width:
            columns += [[None] * len(numbers) for _ in range(width - len(columns))]
        if not any(map(_filled, columns)):
            # Blank rows are left out, as rows() leaves them out.
            keep = [not all(map(_blank, values)) for values in zip(*columns, strict=True)]
            numbers = list(compress(numbers, keep))
            columns = [list(compress(column, keep)) for column in columns]
        return cls(numbers, _filled_columns(columns), sum(map(_column_chars, columns)))

    def up_to_chars(self, limit: int) -> _HeldColumns:
        """The records up to the one whose text brings the total to ``limit`` (take_batch's cut)."""
        lengths = [
            sum(len(value) for value in values if type(value) is str)
            for values in zip(*self.columns, strict=True)
        ]
        end = next((i + 1 for i, total in enumerate(accumulate(lengths)) if total >= limit), len(lengths))
        columns = _filled_columns([column[:end] for column in self.columns])
        return _HeldColumns(self.numbers[:end], columns, sum(lengths[:end]))

    @classmethod
    def joined(cls, parts: list[_HeldColumns]) -> _HeldColumns:
        if len(parts) == 1:
            return parts[0]
        width = max(len(part.columns) for part in parts)
        columns: list[list[Any]] = [[] for _ in range(width)]
        for part in parts:
            for index, column in enumerate(columns):
                column += part.columns[index] if index < len(part.columns) else [None] * len(part.numbers)
        return cls([n for part in parts for n in part.numbers], columns, sum(part.chars for part in parts))

    def batch(self, header: list[str], fraction: float | None) -> RawBatch:
        numbers, columns = self.numbers, self.columns

        def raw_row(position: int) -> RawRow:
            values = [column[position] for column in columns]
            while values[-1] is None:
                values.pop()  # as rows() ends a record at its last value
            return RawRow(numbers[position], dict(zip(header, values, strict=False)))

        return RawBatch.of_columns(numbers, zip(header, columns, strict=False), raw_row, fraction=fraction)


def _column_values(cells: tuple[Any, ...]) -> list[Any]:
    """A column's cells as ``_row_values`` reads them (calamine's: no escapes to decode)."""
    kinds = set(map(type, cells))
    if kinds == {str} and "" not in cells and max(map(len, cells)) <= MAX_FIELD_CHARS:
        return list(cells)  # texts, the common case, kept as they are
    if kinds == {float}:
        # _cell_value's reading of a number, without its checks where the text Excel would show
        # (15 significant digits) is a plain decimal: that text is the Decimal it makes.
        return [
            int(value)
            if value.is_integer()
            else Decimal(text)
            if "." in (text := format(value, ".15g")) and "e" not in text
            else _cell_value(value, 0, 0, decode=False)
            for value in cells
        ]
    return _row_values(cells, 0, decode=False)  # raises on a cell too long: the caller's concern


def _filled_columns(columns: list[list[Any]]) -> list[list[Any]]:
    """``columns`` without the last ones no record fills: rows() leaves them out of every record."""
    while columns and all(value is None for value in columns[-1]):
        columns.pop()
    return columns


def _filled(values: list[Any]) -> bool:
    """Whether no cell of a column is blank (so no row is); a text here is never empty."""
    if None in values:
        return False
    kinds = set(map(type, values))
    if str not in kinds:
        return True
    if kinds == {str}:
        return not any(map(str.isspace, values))  # a text of spaces only: blank
    return not any(type(value) is str and value.isspace() for value in values)


def _column_chars(values: list[Any]) -> int:
    try:
        return len("".join(values))  # every cell a text
    except TypeError:
        return sum(len(value) for value in values if type(value) is str)


def _check_shared_strings_size(size: int) -> None:
    if size > MAX_SHARED_STRINGS_BYTES:
        raise SafetyLimitError(
            f"The workbook's shared text table inflates to {size} bytes; at most "
            f"{MAX_SHARED_STRINGS_BYTES} are accepted, as it is held in memory (export it as CSV)."
        )


# A text (a cell, a shared text) longer than this many bytes of XML is refused while it streams,
# before the parser holds it: characters are at most 4 bytes of UTF-8, and escapes (&amp;, _xHHHH_)
# take up to 7 bytes for one character. Anything else between two tags is short.
MAX_TEXT_RUN_BYTES = 7 * MAX_FIELD_CHARS
# A run longer than MAX_TEXT_RUN_BYTES holds a whole window of this many bytes starting at a
# multiple of it (see _has_long_run).
_RUN_WINDOW = (MAX_TEXT_RUN_BYTES + 1) // 2


class _BoundedTextRuns:
    """A workbook part's stream that fails as soon as a run of bytes without ``<`` is too long.

    XML text and attribute values cannot contain a literal ``<``, so this bounds every text the
    parser would build, at the cost of one ``find`` per block read.
    """

    def __init__(self, raw, name: str):
        self._raw = raw
        self._name = name
        self._run = 0  # bytes since the last "<" seen

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        first = data.find(b"<")
        if first < 0:
            self._run += len(data)
        else:
            if self._run + first > MAX_TEXT_RUN_BYTES or (
                len(data) > MAX_TEXT_RUN_BYTES and _has_long_run(data, first)
            ):
                self._refuse()
            self._run = len(data) - data.rfind(b"<") - 1
        if self._run > MAX_TEXT_RUN_BYTES:
            self._refuse()
        return data

    def _refuse(self) -> None:
        raise SafetyLimitError(
            f"The workbook holds a text longer than {MAX_FIELD_CHARS} characters (in its part "
            f"'{self._name}'); such a cell is refused before it is read into memory."
        )

    def close(self) -> None:
        self._raw.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __getattr__(self, name: str):
        return getattr(self._raw, name)


def _has_long_run(data: bytes, start: int) -> bool:
    """Whether ``data`` from ``start`` (a "<") holds more than MAX_TEXT_RUN_BYTES bytes without "<".

    Such a run contains one of the windows of _RUN_WINDOW bytes laid end to end from ``start``
    (the first window starting in it ends at most 2 * _RUN_WINDOW - 1 bytes into it), so only a
    window without "<" is measured: a few ``find`` per block, where a regular expression over the
    block (``[^<]{N,}``) tried every position of every run, in time that grows with the square of
    a run's length: a third of the bench sheet's scan, and 6 s to open 4,000 rows of 3,000
    characters.
    """
    for window in range(start, len(data) - _RUN_WINDOW + 1, _RUN_WINDOW):
        if data.find(b"<", window, window + _RUN_WINDOW) < 0:
            end = data.find(b"<", window + _RUN_WINDOW)
            if (len(data) if end < 0 else end) - data.rfind(b"<", start, window) - 1 > MAX_TEXT_RUN_BYTES:
                return True
    return False


def _bound_text_runs(archive: zipfile.ZipFile) -> None:
    """Every part openpyxl opens from ``archive`` (sheets, shared strings) streams bounded."""
    original_open = archive.open

    def bounded_open(name, mode="r", *args, **kwargs):
        stream = original_open(name, mode, *args, **kwargs)
        if mode != "r":
            return stream
        return _BoundedTextRuns(stream, name.filename if isinstance(name, zipfile.ZipInfo) else name)

    archive.open = bounded_open  # type: ignore[method-assign]


def _sheet_size_from_head(sheet) -> None:
    """openpyxl's ``ReadOnlyWorksheet._get_size``, stopping where the rows start.

    openpyxl looks for ``<dimension>`` among the elements' end events and gives up at the end of
    ``<sheetData>``: a sheet without one (as openpyxl's own write-only mode and other libraries
    write them) was read whole, once more, for each sheet of the workbook when it was opened. That
    was a third of an XLSX import. Start events find the same dimension, or its absence, at once.
    """
    from openpyxl.utils.cell import range_boundaries
    from openpyxl.worksheet._reader import DATA_TAG, DIMENSION_TAG
    from openpyxl.xml.functions import iterparse  # defusedxml's when installed, as openpyxl does

    source = sheet._get_source()
    try:
        for _event, element in iterparse(source, events=("start",)):
            if element.tag == DIMENSION_TAG:
                bounds = range_boundaries(element.get("ref"))
                sheet._min_column, sheet._min_row, sheet._max_column, sheet._max_row = bounds
                return
            if element.tag == DATA_TAG:
                return
    finally:
        source.close()


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _row_values(cells: Sequence[Any], row: int, decode: bool) -> list[Any]:
    """A row's cells as the spreadsheet shows them (``_cell_value``), the texts and whole numbers
    most cells hold decided inline: read per cell, this was a third of reading a workbook."""
    return [
        value
        if (kind := type(value)) is str
        and value
        and len(value) <= MAX_FIELD_CHARS
        and not (decode and "_x" in value)
        else int(value)
        if kind is float and value.is_integer()
        else _cell_value(value, row, column, decode)
        for column, value in enumerate(cells)
    ]


def _cell_value(value: Any, row: int, column: int, decode: bool = True) -> Any:
    """A cell as the spreadsheet shows it (see the module docstring); ``decode``: its text still
    holds Excel's escapes."""
    kind = type(value)
    if kind is float:
        if value.is_integer():
            return int(value)
        if not math.isfinite(value):
            return "#NUM!"  # no spreadsheet stores NaN or Infinity; this is what they show instead
        shown = Decimal(format(value, ".15g"))
        return int(shown) if shown == shown.to_integral_value() else shown
    if kind is str:
        if not value:
            return None  # an empty text shows as an empty cell (and calamine reads both as one)
        if decode and "_x" in value:
            value = _unescape(value)
        if len(value) > MAX_FIELD_CHARS:
            raise SafetyLimitError(
                f"Cell {_cell_name(row, column)} is longer than {MAX_FIELD_CHARS} characters ({len(value)})."
            )
        return value
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float | str):  # a subclass: read as the plain value
        return _cell_value(float(value) if isinstance(value, float) else str(value), row, column, decode)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


def _unescape(value: str) -> str:
    """Excel's ``_xHHHH_`` escapes decoded; a character beyond U+FFFF is written as two of them."""
    decoded = _XSTRING_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value)
    try:
        return decoded.encode("utf-16", "surrogatepass").decode("utf-16")  # joins the pairs
    except UnicodeDecodeError:
        return value  # a lone surrogate escaped is no character: keep the text as written


def _cell_name(row: int, column: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(column + 1)}{row}"


def _describe_zip(names: set[str]) -> str:
    if "word/document.xml" in names:
        return "a Word document"
    if "ppt/presentation.xml" in names:
        return "a PowerPoint presentation"
    if "mimetype" in names and "content.xml" in names:
        return "an OpenDocument file (such as a LibreOffice .ods spreadsheet)"
    return "a ZIP archive without xl/workbook.xml"
