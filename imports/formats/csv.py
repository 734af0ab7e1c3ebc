"""CSV: delimiter and encoding detected, strict quoting, multi-line cells, any line ending."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import polars as pl

from pixee.text import PYTHON_WHITESPACE

from .base import (
    MAX_FIELD_CHARS,
    MAX_LINE_CHARS,
    FormatError,
    RawBatch,
    RawRow,
    RowReader,
    SafetyLimitError,
    clean_header,
    describe_content,
    register,
    take_batch,
)
from .encoding import ESCAPED_BYTE, is_wide, text_encoding, unicode_encoding, utf8_stream

DELIMITERS = (",", ";", "\t", "|")
SAMPLE_LINES = 50
SAMPLE_CHARS = 65_536
_VALIDATE_BLOCK = 1 << 20

# csv's limit is process-wide; ours is the contract's "fields too long" safety limit.
csv.field_size_limit(MAX_FIELD_CHARS)


@register
class CsvReader(RowReader):
    """Comma, semicolon, tab or pipe separated text; the header is the first non-blank record."""

    file_type = "csv"

    encoding: str
    delimiter: str

    @classmethod
    def content_mismatch(cls, head: bytes) -> str | None:
        if is_wide(unicode_encoding(head)):
            return None  # text, whatever it says; the NUL bytes are the encoding's
        kind = describe_content(head) or ("binary data" if b"\x00" in head else None)
        return f"The file is named .csv but its content is {kind}, not CSV." if kind else None

    def columns(self) -> list[str]:
        self._open()
        return self._header

    def rows(self) -> Iterator[RawRow]:
        self._open()
        width = len(self._header)
        try:
            for record in self._records:
                self._number += 1
                text = "".join(record)  # one join serves both tests, not a generator per row
                self._check_text(text)
                if not text.strip():
                    continue  # a blank record
                if self._mixed and (escaped := ESCAPED_BYTE.search(text)):
                    byte = ord(escaped.group()) - 0xDC00
                    yield RawRow(
                        self._number,
                        error=f"the row holds the byte 0x{byte:02X}, which is not UTF-8 text "
                        "(the rest of the file is UTF-8): the row was left out rather than stored garbled",
                    )
                    continue
                if len(record) > width and any(cell.strip() for cell in record[width:]):
                    yield RawRow(
                        self._number,
                        error=f"row has {len(record)} values but the header has {width} columns",
                    )
                    continue
                yield RawRow(self._number, dict(zip(self._header, record, strict=False)))
        except csv.Error as exc:
            raise self._format_error(exc) from None
        except UnicodeDecodeError as exc:
            raise self._decode_error(exc) from None

    def batches(self, size: int) -> Iterator[RawBatch]:
        """Columns split by polars when the text allows it, else the records grouped.

        Without a quote character, every line is one record and every delimiter separates two
        fields, so the split needs no CSV parser: polars splits a whole batch of lines at once
        (ten times csv's pace). A file with quotes, a bare carriage return (old Mac line ends)
        or a NUL byte takes csv's path, which handles them.
        """
        self._open()
        if not self._splits_on_delimiters:
            yield from super().batches(size)
            return
        lines = self._lines_after_header()
        number = self._number  # the header's row number
        while True:
            chunk = take_batch(lines, size, len)
            if not chunk:
                return
            batch = self._split(chunk, first_number=number + 1)
            number += len(chunk)
            if len(batch):  # not only blank lines
                yield batch

    def _bounded_lines(self) -> Iterator[str]:
        """The text's lines for csv, none longer than MAX_LINE_CHARS (checked while reading)."""
        number = 0
        while line := self._text.readline(MAX_LINE_CHARS + 1):
            number += 1
            if len(line) > MAX_LINE_CHARS:
                raise _line_too_long(number)
            yield line

    def _has_no_quotes_nul_or_bare_cr(self) -> bool:
        stream = utf8_stream(self.fileobj, self.encoding)
        carriage_return_pending = False
        try:
            while block := stream.read(_VALIDATE_BLOCK):
                if b'"' in block or b"\x00" in block:
                    return False
                if carriage_return_pending and not block.startswith(b"\n"):
                    return False
                carriage_return_pending = block.endswith(b"\r")
                if block.count(b"\r") - carriage_return_pending != block.count(b"\r\n"):
                    return False
            return not carriage_return_pending
        except FormatError:
            return False  # not valid text in its encoding: csv's path says where, as it reads
        finally:
            self.fileobj.seek(0)

    def _lines_after_header(self) -> Iterator[bytes]:
        """The file's lines (line ends removed) after the header's line, streamed by blocks."""
        stream = io.BufferedReader(utf8_stream(self.fileobj, self.encoding), _VALIDATE_BLOCK)  # type: ignore[type-var]
        for _ in range(self._number):
            stream.readline(MAX_LINE_CHARS + 1)
        rest = b""
        self._bytes_read = 0
        while block := stream.read(_VALIDATE_BLOCK):
            self._bytes_read = self.fileobj.tell()
            block = rest + block
            end = block.rfind(b"\n")
            lines, rest = (block[:end].split(b"\n"), block[end + 1 :]) if end >= 0 else ([], block)
            yield from lines
            if len(rest) > MAX_LINE_CHARS:  # bytes: at least as many as characters
                raise _line_too_long()
        if rest:
            yield rest

    def _split(self, chunk: list[bytes], first_number: int) -> RawBatch:
        width = len(self._header)
        delimiter = self.delimiter
        lines = pl.Series("line", chunk, dtype=pl.Binary).cast(pl.Utf8).str.strip_suffix("\r")
        del chunk
        longest = lines.str.len_chars().max() or 0
        if longest > MAX_LINE_CHARS:  # type: ignore[operator]
            raise _line_too_long()
        if longest > MAX_FIELD_CHARS:  # type: ignore[operator]
            self._check_field_lengths(lines, first_number)
        fields = lines.str.split(delimiter)
        blank = lines.str.replace_all(delimiter, "", literal=True).str.strip_chars(PYTHON_WHITESPACE) == ""
        del lines
        numbers = pl.int_range(first_number, first_number + len(blank), eager=True)
        if blank.any():
            numbers, fields = numbers.filter(~blank), fields.filter(~blank)
        counts = fields.list.len()
        frame = pl.DataFrame(
            {name: fields.list.get(index, null_on_oob=True) for index, name in enumerate(self._header)}
        )
        errors = {}
        if (counts > width).any():
            extra = fields.list.slice(width).list.join("").str.strip_chars(PYTHON_WHITESPACE) != ""
            for position in (extra & (counts > width)).arg_true().to_list():
                errors[position] = f"row has {counts[position]} values but the header has {width} columns"
        del fields  # the batch keeps its columns only: a row's cells are its frame's row
        header = self._header

        def raw_row(position: int) -> RawRow:
            if position in errors:
                return RawRow(numbers[position], error=errors[position])
            # A short row has fewer cells than the header (null in the frame): as csv's path reads it.
            cells = frame.row(position)[: counts[position]]
            return RawRow(numbers[position], dict(zip(header, cells, strict=False)))

        return RawBatch(
            numbers=numbers.to_list(),
            frame=frame,
            raw_row=raw_row,
            errors=errors,
            fraction=min(self._bytes_read / self.size, 1.0) if self.size else None,
        )

    def _check_field_lengths(self, lines: pl.Series, first_number: int) -> None:
        too_long = lines.str.split(self.delimiter).list.eval(pl.element().str.len_chars().max()).list.first()
        positions = (too_long > MAX_FIELD_CHARS).arg_true()
        if len(positions):
            line = first_number + positions[0]
            raise SafetyLimitError(
                f"A field ending at line {line} is longer than {MAX_FIELD_CHARS} characters "
                "(is a quote left open?)."
            )

    # --- opening --------------------------------------------------------------------------

    def _open(self) -> None:
        if hasattr(self, "_records"):
            return
        head = self.read_head(65536)
        detected = text_encoding(self.fileobj, head)
        self.encoding, self._mixed = detected.name, detected.mixed
        self._splits_on_delimiters = not self._mixed and self._has_no_quotes_nul_or_bare_cr()
        self._text = io.TextIOWrapper(
            self.fileobj,
            encoding=self.encoding,
            errors="surrogateescape" if self._mixed else "strict",
            newline="",
        )
        self.delimiter = self._detect_delimiter()
        self._reader = csv.reader(self._bounded_lines(), delimiter=self.delimiter, strict=True)
        self._records = iter(self._reader)
        self._number = 0
        self._header = self._read_header()

    def _detect_delimiter(self) -> str:
        sample_lines = []
        budget = SAMPLE_CHARS  # a huge first line is sampled in part, not parsed whole four times
        try:
            for _ in range(SAMPLE_LINES):
                line = self._text.readline(budget)
                if not line:
                    break
                sample_lines.append(line)
                budget -= len(line)
                if budget <= 0:
                    break
        except UnicodeDecodeError as exc:
            # Only a byte order mark or a NUL pattern chose this encoding, and the text breaks it.
            raise self._decode_error(exc) from None
        self._text.seek(0)
        sample = "".join(sample_lines)
        best, best_score = ",", (0.0, 1)
        for delimiter in DELIMITERS:
            records = self._sample_records(sample, delimiter)
            if not records or len(records[0]) < 2:
                continue
            width = len(records[0])
            consistent = sum(len(r) == width for r in records) / len(records)
            score = (consistent, width)
            if score > best_score:
                best, best_score = delimiter, score
        return best

    @staticmethod
    def _sample_records(sample: str, delimiter: str) -> list[list[str]]:
        records = []
        try:
            for record in csv.reader(io.StringIO(sample), delimiter=delimiter):
                if any(cell.strip() for cell in record):
                    records.append(record)
        except csv.Error:
            pass  # the sample may end inside a multi-line cell
        return records

    def _read_header(self) -> list[str]:
        try:
            for record in self._records:
                self._number += 1
                self._check_text("".join(record))
                if any(cell.strip() for cell in record):
                    if self._mixed and (escaped := ESCAPED_BYTE.search("".join(record))):
                        raise FormatError(
                            f"The header holds the byte 0x{ord(escaped.group()) - 0xDC00:02X}, which is not "
                            "UTF-8 text while the rest of the file is: save the file as UTF-8."
                        )
                    return clean_header(record)
        except csv.Error as exc:
            raise self._format_error(exc) from None
        except UnicodeDecodeError as exc:
            raise self._decode_error(exc) from None
        raise FormatError("The file is empty.")

    def _check_text(self, text: str) -> None:
        """``text``: a record's cells joined."""
        # Python's csv reads NUL characters as text; no spreadsheet writes them, and PostgreSQL
        # cannot store them. The first bytes were sniffed at upload: this is one further in.
        if "\x00" in text:
            raise FormatError(f"Line {self._reader.line_num} contains a NUL byte: the file is not CSV text.")

    def _decode_error(self, exc: UnicodeDecodeError) -> FormatError:
        if exc.end >= len(exc.object) and "end of data" in exc.reason:
            problem = "its last character is cut off"
        else:
            problem = f"it holds bytes that are not {self.encoding} text"
        return FormatError(f"The file is not valid {self.encoding} text: {problem}.")

    def _format_error(self, exc: csv.Error) -> FormatError:
        """Python's csv error in our words: its own text is a library's message."""
        line = self._reader.line_num
        text = str(exc)
        if "field larger than field limit" in text:
            return SafetyLimitError(
                f"A field ending at line {line} is longer than {MAX_FIELD_CHARS} characters "
                "(is a quote left open?)."
            )
        if "unexpected end of data" in text:
            return FormatError(f"A quoted field is never closed: the file ends inside quotes (line {line}).")
        if "expected after" in text:
            return FormatError(
                f"The CSV is malformed at line {line}: a quoted field is followed by other text before "
                f"the next '{self.delimiter}' (a quote inside a quoted field is written twice: \"\")."
            )
        return FormatError(f"The CSV is malformed at line {line}: its quoting breaks the CSV rules.")


def _line_too_long(number: int | None = None) -> FormatError:
    where = f"Line {number}" if number else "A line"
    return SafetyLimitError(
        f"{where} is longer than {MAX_LINE_CHARS:,} characters: "
        "no supplier file has such lines (is the delimiter or the file type right?)."
    )
