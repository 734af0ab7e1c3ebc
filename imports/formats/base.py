"""The interface every file format implements, and the registry that finds them by file type."""

from __future__ import annotations

import os
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import chain, repeat
from typing import Any, BinaryIO, ClassVar, TypeVar

import polars as pl
from django.core.files import File

from pixee.text import unstorable

from .encoding import bom_encoding, is_wide, utf8_head
from .errors import FormatError, SafetyLimitError

# Safety limits shared by the formats (CONTRACT §3: breaking one is a critical error).
MAX_FIELD_CHARS = 100_000
MAX_COLUMNS = 1_000
MAX_NESTING = 64
# A CSV line (a physical line: a quoted cell may span several); read no further than this, so a
# file of one endless line cannot fill the memory before any other limit applies.
MAX_LINE_CHARS = 2_000_000
# All the text of one batch (take_batch): a batch of long rows is cut before its row count. At
# the worker's peak a batch costs many times its text (two batches in flight, each copied a few
# times on its way to the database): 20 000 rows of 5 KB (100 MB) took +508 MiB over the peak of
# 20 000-row batches of the bench's rows before the bound. Its limit is about the text of such an
# ordinary batch: the bench's CSV lines, the longest 57 characters with their commas (CSV counts
# its lines), fill PIXEE_IMPORT_CHUNK_SIZE's 20 000 with 1.14 MB. The 100 MB file then costs
# +14 to +20 MiB on a real worker (tests/imports/test_hostile_files_memory.py); at 1.5 MiB it
# cost +19 to +26, too close to that test's bound. Wider rows come in batches of about as much
# text, so a batch's fixed costs weigh about as much per row.
MAX_BATCH_CHARS = 1_200_000


@dataclass
class RawRow:
    """One record as the file holds it: 1-based ``number`` as CONTRACT §3 defines it.

    ``error`` is set when this record alone is unusable (the rest of the file is fine).
    """

    number: int
    values: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass
class RawBatch:
    """A run of consecutive records, as columns: what the columnar validation reads.

    ``frame`` holds one text column per file column, aligned with ``numbers``; a cell that is
    not text (a nested value, a boolean) or that cannot be stored is null there and its row is
    listed in ``irregular``, so only the row-by-row validator judges it. A number (JSON, Excel)
    is there as Python writes it, its position listed in ``numeric`` under its column: only a
    price or a stock may be read from that text. ``raw_row``
    gives any record back as the reader made it. ``errors`` are the records unusable on their own
    (position → message). ``fraction`` is how much of the file was read once this batch was.
    """

    numbers: list[int]
    frame: pl.DataFrame
    raw_row: Callable[[int], RawRow]
    errors: dict[int, str] = field(default_factory=dict)
    irregular: set[int] = field(default_factory=set)
    numeric: dict[str, list[int]] = field(default_factory=dict)
    fraction: float | None = None

    def __len__(self) -> int:
        return len(self.numbers)

    @classmethod
    def of_rows(cls, rows: list[RawRow], fraction: float | None = None) -> RawBatch:
        """Columns from records read one by one (JSON, XML, XLSX, and CSV's general path)."""
        return cls.of_records(
            [row.number for row in rows],
            [row.values for row in rows],
            {position: row.error for position, row in enumerate(rows) if row.error is not None},
            fraction,
        )

    @classmethod
    def of_records(
        cls, numbers: list[int], records: list[dict[str, Any]], errors: dict[int, str], fraction: float | None
    ) -> RawBatch:
        """Columns from the records numbered ``numbers`` (``errors`` by position), as ``of_rows``
        makes them of the same rows, with no ``RawRow`` built unless ``raw_row`` asks for one."""
        # Columns in the order the records first name them.
        names = dict.fromkeys(chain.from_iterable(records))

        def raw_row(position: int) -> RawRow:
            return RawRow(numbers[position], records[position], errors.get(position))

        return cls.of_columns(
            numbers,
            ((name, list(map(dict.get, records, repeat(name)))) for name in names),
            raw_row,
            errors=errors,
            fraction=fraction,
        )

    @classmethod
    def of_columns(
        cls,
        numbers: list[int],
        columns: Iterable[tuple[str, list[Any]]],
        raw_row: Callable[[int], RawRow],
        *,
        errors: dict[int, str] | None = None,
        fraction: float | None = None,
        storable: bool = False,
    ) -> RawBatch:
        """Columns of the records' values (name, then a cell per record: None where empty),
        each turned into text when it is taken, so only one is held twice at a time.

        ``storable``: the cells are all text that a column can hold, as the reader knows (XML's:
        expat lets no NUL or lone surrogate through), so they are taken as they are, unchecked.
        """
        irregular: set[int] = set()
        numeric: dict[str, list[int]] = {}
        series = [
            pl.Series(
                name, cells if storable else _column_text(name, cells, irregular, numeric), dtype=pl.Utf8
            )
            for name, cells in columns
        ]
        return cls(
            numbers=numbers,
            frame=pl.DataFrame(series),
            raw_row=raw_row,
            errors=errors or {},
            irregular=irregular,
            numeric=numeric,
            fraction=fraction,
        )


_NUMBERS = (int, float, Decimal)
_TEXT = frozenset((str, type(None)))
_NUMBERS_OR_EMPTY = frozenset((*_NUMBERS, type(None)))


def _column_text(
    name: str, cells: list[Any], irregular: set[int], numeric: dict[str, list[int]]
) -> list[str | None]:
    """One column's cells as text (None where the cell is empty or not text), noting in
    ``irregular`` the rows only the row validator may judge and in ``numeric`` the numbers."""
    kinds = set(map(type, cells))
    if kinds <= _TEXT and not unstorable("".join(filter(None, cells))):
        return cells  # the common case, decided for the whole column at once
    if kinds <= _NUMBERS_OR_EMPTY:
        numeric[name] = [position for position, cell in enumerate(cells) if cell is not None]
        return [None if cell is None else str(cell) for cell in cells]
    text: list[str | None] = [None] * len(cells)
    for position, value in enumerate(cells):
        if type(value) is str:
            if "\x00" in value or (not value.isascii() and unstorable(value)):
                irregular.add(position)  # a surrogate cannot even enter a column
            else:
                text[position] = value
        elif type(value) in _NUMBERS:
            text[position] = str(value)
            numeric.setdefault(name, []).append(position)
        elif value is not None:
            irregular.add(position)
    return text


class RowReader(ABC):
    """Streams the records of one file, never holding the whole file in memory."""

    file_type: ClassVar[str]

    def __init__(self, fileobj: BinaryIO | File, size: int | None = None):
        self.fileobj = fileobj
        self.size = size if size is not None else _size_of(fileobj)

    @classmethod
    def for_first_rows(cls, fileobj: BinaryIO | File, size: int | None = None) -> RowReader:
        """A reader of the same records for a caller that reads only the first few (a mapping's
        sample, a preview): a format that would hold the whole file to read fast reads it
        streaming instead."""
        return cls(fileobj, size)

    @classmethod
    def content_mismatch(cls, head: bytes) -> str | None:
        """The sentence saying why ``head`` (the file's first bytes) cannot be this format, or None.

        Cheap enough for upload time; the full check happens when the reader opens the file.
        """
        return None

    def read_head(self, size: int) -> bytes:
        """The file's first ``size`` bytes, once it is known not to be empty and to be this format."""
        head = self.fileobj.read(size)
        self.fileobj.seek(0)
        if not head.strip():
            raise FormatError("The file is empty.")
        mismatch = self.content_mismatch(head)
        if mismatch:
            raise FormatError(mismatch)
        return head

    @abstractmethod
    def columns(self) -> list[str]:
        """The column names, from the header (or the first record where there is no header)."""

    @abstractmethod
    def rows(self) -> Iterator[RawRow]:
        """The records in file order, blank ones left out."""

    def batches(self, size: int) -> Iterator[RawBatch]:
        """The records in file order, ``size`` at a time, as columns.

        Formats that can split a file into columns without building each record override this;
        the others group their records. Only one batch is held at a time.
        """
        rows = self.rows()
        while chunk := take_batch(rows, size, row_chars):
            yield RawBatch.of_rows(chunk, self.fraction_read())

    def fraction_read(self) -> float | None:
        """How much of the file has been consumed, 0–1, when the format can tell."""
        try:
            return min(self.fileobj.tell() / self.size, 1.0) if self.size else None
        except (OSError, ValueError):
            return None


T = TypeVar("T")


def take_batch(items: Iterator[T], size: int, chars: Callable[[T], int]) -> list[T]:
    """The next ``size`` of ``items``, or fewer once their text (``chars`` of each) reaches
    MAX_BATCH_CHARS; empty when ``items`` is exhausted. Every reader's batches are taken here."""
    # One item at a time: a block of items could hold lines of MAX_LINE_CHARS each.
    batch: list[T] = []
    total = 0
    for item in items:
        batch.append(item)
        total += chars(item)
        if len(batch) >= size or total >= MAX_BATCH_CHARS:
            break
    return batch


class Batches:
    """Records gathered into the batches that ``take_batch`` and ``RawBatch.of_rows`` would make
    of them, with no ``RawRow`` of their own for a reader that hands most records over as their
    text values alone (``add_texts``: while a batch's records all have the same columns, only
    their texts are kept, one run of them for the whole batch, cut into the columns at C speed)
    or many records at once (``add_records``). A batch is in ``done`` once complete. No list is
    kept per record either: 20,000 of them per batch made the garbage collector walk the whole
    heap (a fifth of reading the bench's XML).

    ``storable``: every text the reader gives can be stored (``RawBatch.of_columns``).
    """

    def __init__(self, size: int, fraction: Callable[[], float | None], *, storable: bool = False):
        self.size = size
        self.done: list[RawBatch] = []
        self._fraction = fraction
        self._storable = storable
        self._clear()

    def _clear(self) -> None:
        self._numbers: list[int] = []
        self._names: tuple[str, ...] | None = None
        self._texts: list[str] = []  # the records' texts one after another, each in _names' order
        # Each record's values, from the first record of other columns (or not all text) on.
        self._records: list[dict[str, Any]] | None = None
        self._errors: dict[int, str] = {}  # by position in the batch
        self._chars = 0

    def add(self, row: RawRow) -> None:
        values = row.values
        if row.error is None and all(type(value) is str for value in values.values()):
            self.add_texts(row.number, tuple(values), list(values.values()), row_chars(row))
            return
        records = self._as_records()
        if row.error is not None:
            self._errors[len(records)] = row.error
        self._numbers.append(row.number)
        records.append(values)
        self._count(row_chars(row))

    def add_texts(self, number: int, names: tuple[str, ...], texts: list[str], chars: int) -> None:
        """The record ``RawRow(number, dict(zip(names, texts)))``: ``names`` are all different,
        ``chars`` is the length of all of ``texts``, which are copied (the caller may reuse the list)."""
        numbers = self._numbers
        numbers.append(number)
        if self._records is None:
            if self._names is None:
                self._names = names
            # The common case, _count inlined as it is once per record. A record of no names stays
            # a record: its texts, none, could not be told from the next one's.
            if names and names == self._names:
                self._texts += texts
                self._chars += chars
                if len(numbers) >= self.size or self._chars >= MAX_BATCH_CHARS:
                    self._complete()
                return
            self._as_records()
        self._records.append(dict(zip(names, texts, strict=True)))  # type: ignore[union-attr]
        self._count(chars)

    def add_records(self, numbers: Sequence[int], records: list[dict[str, Any]], chars: int) -> None:
        """The records ``RawRow(number, values)``, ``chars`` being ``row_chars`` of all of them."""
        while records:
            room = self.size - len(self._numbers)
            if self._chars + chars >= MAX_BATCH_CHARS:
                # The text limit falls among them: one by one up to where take_batch cuts (it
                # does, at the last one at the latest), then the rest as before.
                batches = len(self.done)
                taken = 0
                while len(self.done) == batches:
                    self.add(RawRow(numbers[taken], records[taken]))
                    taken += 1
                numbers, records = numbers[taken:], records[taken:]
                chars = sum(map(values_chars, records))
                continue
            # Every part of them stays under the text limit: only the count cuts.
            taken = min(room, len(records))
            self._numbers.extend(numbers[:taken])
            self._as_records().extend(records[:taken])
            if taken == len(records):
                self._count(chars)
                return
            numbers, records = numbers[taken:], records[taken:]
            rest = sum(map(values_chars, records))
            self._count(chars - rest)
            chars = rest

    def rest(self) -> RawBatch | None:
        """The last batch, once every record was added; None if it is empty."""
        return self._batch() if self._numbers else None

    def _count(self, chars: int) -> None:
        self._chars += chars
        if len(self._numbers) >= self.size or self._chars >= MAX_BATCH_CHARS:  # as take_batch cuts
            self._complete()

    def _complete(self) -> None:
        self.done.append(self._batch())
        self._clear()

    def _as_records(self) -> list[dict[str, Any]]:
        if self._records is None:
            names, texts = self._names or (), self._texts
            width = len(names) or 1  # texts are kept only under names
            self._records = [
                dict(zip(names, texts[start : start + width], strict=True))
                for start in range(0, len(texts), width)
            ]
            self._texts = []
        return self._records

    def _batch(self) -> RawBatch:
        fraction = self._fraction()
        if self._records is not None:
            return RawBatch.of_records(self._numbers, self._records, self._errors, fraction)
        numbers, names, texts = self._numbers, self._names or (), self._texts
        width = len(names)

        def raw_row(position: int) -> RawRow:
            start = position * width
            return RawRow(numbers[position], dict(zip(names, texts[start : start + width], strict=True)))

        columns = ((name, texts[index::width]) for index, name in enumerate(names))
        return RawBatch.of_columns(numbers, columns, raw_row, fraction=fraction, storable=self._storable)


def row_chars(row: RawRow) -> int:
    """How much text ``row`` holds: its text values' lengths, nested ones (JSON, XML) included."""
    return values_chars(row.values)


def values_chars(values: dict[str, Any]) -> int:
    """``row_chars`` of a record of these ``values``."""
    # One pass without a call per value: counting was a fifth of reading a JSON catalog.
    return sum(
        [
            len(value) if type(value) is str else 0 if type(value) in _SCALARS else _chars(value)
            for value in values.values()
        ]
    )


_SCALARS = frozenset((int, float, Decimal, bool, type(None)))


def _chars(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return sum(map(_chars, value.values()))
    if isinstance(value, list):
        return sum(map(_chars, value))
    return 0


class RecordReader(RowReader):
    """A format without a header row (JSON, XML): the columns are those of its first record with
    values, which ``_open`` reads ahead into ``_peeked`` before the rest of ``_records``."""

    _columns: list[str]
    _peeked: list[RawRow]
    _records: Iterator[RawRow]

    @abstractmethod
    def _open(self) -> None:
        """Set ``_records``, ``_peeked`` and ``_columns``, the first time only."""

    def columns(self) -> list[str]:
        self._open()
        return self._columns

    def rows(self) -> Iterator[RawRow]:
        self._open()
        while self._peeked:
            yield self._peeked.pop(0)
        yield from self._records


def clean_header(cells: list[str]) -> list[str]:
    """Column names from a header row: blanks named ``column N``, repeats made unique with `` (2)``."""
    if len(cells) > MAX_COLUMNS:
        raise SafetyLimitError(f"The header has {len(cells)} columns; at most {MAX_COLUMNS} are supported.")
    names: list[str] = []
    taken: set[str] = set()
    for index, cell in enumerate(cells, start=1):
        if "\x00" in cell:  # Excel's _x0000_: PostgreSQL cannot store it in the job's mapping
            raise FormatError(f"Column {index} of the header holds a NUL character (U+0000).")
        name = cell.strip() or f"column {index}"
        base, n = name, 2
        while name in taken:
            name, n = f"{base} ({n})", n + 1
        names.append(name)
        taken.add(name)
    return names


_REGISTRY: dict[str, type[RowReader]] = {}


def register(reader: type[RowReader]) -> type[RowReader]:
    """Class decorator: make ``reader`` the reader for its ``file_type``."""
    _REGISTRY[reader.file_type] = reader
    return reader


def reader_for(file_type: str) -> type[RowReader]:
    try:
        return _REGISTRY[file_type]
    except KeyError:
        raise FormatError(f"Unsupported file type '{file_type}'.") from None


def supported_types() -> list[str]:
    return sorted(_REGISTRY)


def content_mismatch(file_type: str, head: bytes) -> str | None:
    """Why ``head`` cannot be the start of a ``file_type`` file (a sentence), or None if it may be."""
    return reader_for(file_type).content_mismatch(head)


def file_type_from_name(file_name: str) -> str | None:
    """The registered file type matching ``file_name``'s extension (any case), or None."""
    ext = os.path.splitext(file_name)[1].lower().lstrip(".")
    return ext if ext in _REGISTRY else None


def _size_of(fileobj: BinaryIO | File) -> int | None:
    try:
        position = fileobj.tell()
        fileobj.seek(0, os.SEEK_END)
        size = fileobj.tell()
        fileobj.seek(position)
        return size
    except (OSError, AttributeError, ValueError):
        return None


# Where a JSON document can start, and what may follow an opening bracket: stricter than "starts
# with [" so a CSV whose first header is "[Brand]" is not taken for JSON.
_JSON_START = re.compile(rb"(\[\s*([\[\]{\"0-9tfn-]|$)|\{\s*([\"}]|$))")
_XML_START = re.compile(rb"<[?!A-Za-z_]")
_HTML_START = re.compile(rb"(?i)<(!doctype\s+html|html[\s>]|head[\s>]|body[\s>])")
_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive (such as an Excel .xlsx file)"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\xd0\xcf\x11\xe0", "an old binary Excel .xls file (or a password-protected workbook)"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
)


def describe_content(head: bytes) -> str | None:
    """What ``head`` (a file's first bytes) looks like, to name a mismatch with the extension."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    stripped = utf8_head(head).lstrip(b" \t\r\n")
    if _HTML_START.match(stripped):
        return "an HTML page"
    if _JSON_START.match(stripped):
        return "JSON"
    if _XML_START.match(stripped):
        return "XML"
    return None


def name_content(head: bytes) -> str:
    """Like ``describe_content`` but always says something: binary data, or plain text."""
    kind = describe_content(head)
    if kind:
        return kind
    if not head.strip():
        return "empty"
    if b"\x00" in head and not is_wide(bom_encoding(head)):
        return "binary data"
    return "plain text (such as CSV)"
