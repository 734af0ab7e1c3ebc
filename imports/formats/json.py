"""JSON: a top-level array of objects (or an object holding one), streamed.

Two paths give the same records. The fast one decodes each item of a top-level array whole with
the standard library's C scanner, and keeps only the items it can vouch for: flat objects within
every limit. The event path builds items from ijson's parse events (its C backend when
installed), so that the safety limits (nesting depth, value length, number size) are enforced
while reading, before a hostile file can make us build something huge; it judges every item the
fast path cannot, and reads the whole file when the fast path stops. Numbers keep their exact
value: ints stay ``int``, other numbers are ``Decimal``. Nested objects and arrays stay Python
values (unmapped ones end up in ``Product.attributes`` as JSON).
"""

from __future__ import annotations

import codecs
import io
import json
import operator
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import chain, compress, repeat
from typing import Any

from .base import (
    MAX_COLUMNS,
    MAX_FIELD_CHARS,
    MAX_NESTING,
    Batches,
    FormatError,
    RawBatch,
    RawRow,
    RecordReader,
    SafetyLimitError,
    name_content,
    register,
    values_chars,
)
from .encoding import unicode_encoding, utf8_head, utf8_stream

# A number past this many digits is no price, stock or GTIN: the item is rejected (row error)
# before catalog code converts it (``int(Decimal("1E+999999999"))`` alone would take minutes).
MAX_NUMBER_DIGITS = 100
_TOO_BIG = 10**MAX_NUMBER_DIGITS
# ijson's C parser converts integers itself, and a conversion Python refuses (more than 4300
# digits) corrupts its state: later parses in the same process can crash. So runs of digits this
# long are refused before the parser sees them (even inside strings: no catalog value needs one).
MAX_DIGIT_RUN = 4000
# Digits become "0" and every other byte " ", so a run is found by a plain substring search (a
# regex tries every digit as a start: a quarter of the JSON reading time on a catalog of EANs).
_DIGITS_ONLY = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_DIGIT_RUN = b"0" * MAX_DIGIT_RUN
# Items read before the first object while looking for the columns; past this the file is not
# an array of objects.
PEEK_ITEMS = 1000
BUFFER_BYTES = 64 * 1024

# yajl turns an escaped lone high surrogate into "?" and lets a UTF-8-encoded one through; either is
# no character. Before parsing, each becomes U+FFFF (a noncharacter, the same length in both
# spellings), so the item holding it is a row error rather than silently changed text. Pairs stay.
_SURROGATE = re.compile(
    rb"(?<!\\)((?:\\\\)*)\\u[dD][89abAB][0-9a-fA-F]{2}(\\u[dD][c-fC-F][0-9a-fA-F]{2})?"
    rb"|(?<!\\)((?:\\\\)*)\\u[dD][c-fC-F][0-9a-fA-F]{2}"
    rb"|\xed[\xa0-\xbf][\x80-\xbf]"
)
_NOT_A_CHARACTER = "\uffff"
_SURROGATE_WINDOW = 12  # bytes a decision may need: a high escape and the low one after it

_KINDS = {
    "string": "a string",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
    "start_array": "an array",
}


def _backend():
    import ijson  # heavy: only when a JSON file is read

    try:
        return ijson.get_backend("yajl2_c")
    except ImportError:  # the C extension is optional: ijson then falls back to its own choice
        return ijson


@register
class JsonReader(RecordReader):
    """A JSON array of objects; each object is a record, numbered by its position in the array."""

    file_type = "json"

    @classmethod
    def content_mismatch(cls, head: bytes) -> str | None:
        start = utf8_head(head).decode("utf-8", errors="ignore").lstrip()[:1]
        if start in ("[", "{"):
            return None  # "{" is JSON all the same: its shape is reported when the file is read
        kind = name_content(head)
        return f"The file is named .json but its content is {kind}, not a JSON array of objects."

    # --- opening --------------------------------------------------------------------------

    def _open(self) -> None:
        if hasattr(self, "_records"):
            return
        head = self._head = self.read_head(BUFFER_BYTES)
        self._position = 0  # items read so far
        self._first_stray = ""  # the first item that is not an object, for the error message
        self._key: str | None = None  # the last object key seen, to say where an error is
        self._chunks: Iterator[RawRow | _Run] = self._read_chunks(self._stream(head))
        self._records = self._rows_of_chunks()
        self._peeked = []  # the peek keeps chunks, in _peeked_chunks
        self._peeked_chunks: list[RawRow | _Run] = []
        self._columns = self._peek_columns()
        # What the peek read comes first, whether read as rows or as batches.
        self._chunks = chain(self._peeked_chunks, self._chunks)

    def _rows_of_chunks(self) -> Iterator[RawRow]:
        yield from _rows_of(self._chunks)  # the chunks as they are once the peek is done

    def _stream(self, head: bytes):
        # UTF-8 unless the first bytes say UTF-16 or UTF-32 (RFC 4627); yajl does not skip a BOM.
        return _DigitGuard(_SurrogateMarker(utf8_stream(self.fileobj, unicode_encoding(head) or "utf-8")))

    def _peek_columns(self) -> list[str]:
        for chunk in self._chunks:
            self._peeked_chunks.append(chunk)
            if isinstance(chunk, _Run):
                return list(chunk.records[0])  # a plain item has values
            if chunk.values:
                return list(chunk.values)
            if len(self._peeked_chunks) >= PEEK_ITEMS:
                raise FormatError(
                    f"None of the first {PEEK_ITEMS} items of the JSON array is an object "
                    f"({self._first_stray}): expected an array of objects."
                )
        if self._first_stray:
            raise FormatError(
                f"The JSON array holds no object with values ({self._first_stray}): "
                "expected an array of objects."
            )
        if self._position:
            raise FormatError("The JSON array holds only empty objects: the file holds no products.")
        raise FormatError("The JSON array is empty: the file holds no products.")

    def batches(self, size: int) -> Iterator[RawBatch]:
        """As RowReader's, but a run of plain items goes into its batch's columns as decoded."""
        self._open()
        batches = Batches(size, self.fraction_read)
        for chunk in self._chunks:
            if isinstance(chunk, _Run):
                batches.add_records(chunk.numbers, chunk.records, chunk.chars)
            else:
                batches.add(chunk)
            if batches.done:  # each batch as soon as it is complete, as RowReader.batches yields it
                yield from batches.done
                batches.done.clear()
        last = batches.rest()
        if last is not None:
            yield last

    # --- reading --------------------------------------------------------------------------

    def _read(self, stream) -> Iterator[RawRow]:
        """The records, one by one (``_read_chunks``'s runs taken apart)."""
        return _rows_of(self._read_chunks(stream))

    def _read_chunks(self, stream) -> Iterator[RawRow | _Run]:
        """The records: by the fast path while the file is plain, else (or from the first thing
        it cannot judge) by ijson's events from the start, skipping the records given already."""
        fast = _FastItems(self, stream)
        yield from fast.chunks()
        if fast.finished:
            return
        given = self._position
        self._position, self._first_stray, self._key = 0, "", None
        self.fileobj.seek(0)
        for row in self._read_events(self._stream(self._head)):
            if row.number > given:
                yield row

    def _read_events(self, stream) -> Iterator[RawRow]:
        from ijson import JSONError

        try:
            # Inside the try: ijson reads the first block as soon as it is called.
            events = iter(_backend().basic_parse(stream, buf_size=BUFFER_BYTES))
            yield from self._array(events)
        except JSONError as exc:
            raise FormatError(self._syntax_message(exc)) from None
        except UnicodeDecodeError:
            # yajl lets lone UTF-16 surrogates through (escaped or UTF-8-encoded); Python does not.
            raise FormatError(
                f"The JSON is malformed {self._where()}: a string holds a lone UTF-16 surrogate, "
                "which is not a character."
            ) from None

    def _array(self, events) -> Iterator[RawRow]:
        event, _ = next(events)
        if event == "start_map":
            # {"products": [...], "total": 194}: the shape most APIs export. The first array
            # among the object's values holds the records; the other values are skipped.
            self._enter_first_array(events)
            event = "start_array"
        if event != "start_array":
            raise FormatError("The JSON file's top level is a single value, not an array of objects.")
        for event, _value in events:
            if event == "end_array":
                break
            self._position += 1
            row = self._item(event, events)
            if row is not None:
                yield row
        # Drain, so trailing garbage after the array is reported rather than ignored.
        self._key = None
        for _ in events:
            pass

    def _item(self, event: str, events) -> RawRow | None:
        """Item ``self._position``, whose first event is ``event``; None for a blank one."""
        self._key = None
        if event == "start_map":
            item, problem = self._container(events, {})
            if len(item) > MAX_COLUMNS:
                raise SafetyLimitError(
                    f"Item {self._position} has {len(item)} keys; at most {MAX_COLUMNS} are supported."
                )
            if problem is None and all(_blank(v) for v in item.values()):
                return None  # {} or only nulls: a blank row, which is not a row (CONTRACT §3)
            return RawRow(self._position, item, error=problem)
        if event == "start_array":
            self._container(events, [])
        kind = _KINDS[event]
        self._first_stray = self._first_stray or f"item {self._position} is {kind}"
        return RawRow(self._position, error=f"item {self._position} is not an object (found {kind})")

    def _item_from_text(self, text: str) -> RawRow | None:
        """Item ``self._position`` from its own text, judged by the event path (its limits and
        messages) when the fast path cannot vouch for it."""
        events = iter(_backend().basic_parse(io.BytesIO(b"[" + text.encode() + b"]")))
        next(events)  # the array around it
        event, _ = next(events)
        return self._item(event, events)

    def _container(self, events, root: dict | list) -> tuple[Any, str | None]:
        """Build the object or array whose start event was just read, within the limits.

        Returns it and, when a value breaks a per-item limit, the row error to report.
        """
        problem = None
        stack: list[tuple[Any, str | None]] = []
        current: Any = root
        key: str | None = None
        for event, value in events:
            if event == "map_key":
                key = value
                if not stack:
                    self._key = key
                self._check_key(key)
            elif event == "start_map" or event == "start_array":
                child: Any = {} if event == "start_map" else []
                if type(current) is dict:
                    current[key] = child
                else:
                    current.append(child)
                stack.append((current, key))
                # The array is level 1 and the item level 2: the child is level len(stack) + 2.
                if len(stack) + 2 > MAX_NESTING:
                    raise SafetyLimitError(
                        f"Item {self._position} is nested more than {MAX_NESTING} levels deep "
                        f"(at key '{self._key}')."
                    )
                current, key = child, None
            elif event == "end_map" or event == "end_array":
                if not stack:
                    return root, problem
                current, key = stack.pop()
            else:
                found = self._value_problem(event, value, key)  # every value: it may fail the file
                problem = problem or found
                if type(current) is dict:
                    current[key] = value
                else:
                    current.append(value)
        raise FormatError("The JSON file ends in the middle of an item.")  # the parser says so first

    def _check_key(self, key: str) -> None:
        if len(key) > MAX_FIELD_CHARS:
            raise SafetyLimitError(
                f"Item {self._position} has a key longer than {MAX_FIELD_CHARS} characters."
            )
        if "\x00" in key:
            # Keys become column names and attribute names, which PostgreSQL cannot store.
            raise FormatError(f"Item {self._position} has a key holding a NUL character (U+0000).")
        if _NOT_A_CHARACTER in key:
            raise FormatError(
                f"Item {self._position} has a key holding a lone UTF-16 surrogate, which is not a character."
            )

    def _value_problem(self, event: str, value: Any, key: str | None) -> str | None:
        """The row error a scalar value makes for its item, if any; a value too long fails the file."""
        if event == "string":
            if len(value) > MAX_FIELD_CHARS:
                raise SafetyLimitError(
                    f"Item {self._position} has a value longer than {MAX_FIELD_CHARS} characters "
                    f"(at key '{self._key}')."
                )
            if _NOT_A_CHARACTER in value:
                return (
                    f"item {self._position}: the value at key '{key}' holds a lone UTF-16 "
                    "surrogate, which is not a character"
                )
        elif event == "number" and _too_big(value):
            return (
                f"item {self._position}: the number at key '{self._key}' is too large "
                f"(more than {MAX_NUMBER_DIGITS} digits)"
            )
        return None

    def _enter_first_array(self, events) -> None:
        """Consume the top-level object's events up to the start of its first array value."""
        first_key = None
        for event, value in events:
            if event == "map_key":
                first_key = first_key or value
                self._key = value
            elif event == "start_array":
                self._key = None
                return
            elif event == "start_map":
                self._container(events, {})  # a nested object such as "meta": skipped
            elif event == "end_map":
                break
        named = f" (its first key is '{first_key}')" if first_key else ""
        raise FormatError(
            f"The JSON file's top level is an object{named} holding no array: expected an array of "
            "objects, or an object holding one."
        )

    def _syntax_message(self, exc: Exception) -> str:
        """The parser's complaint as one sentence of ours: where (item and key) and what."""
        message = exc.args[0] if exc.args else str(exc)
        if isinstance(message, bytes):
            message = message.decode("utf-8", errors="replace")
        lines = str(message).splitlines()
        complaint = lines[0] if lines else ""
        context = lines[1] if len(lines) > 1 else ""  # the file's text around the error
        where = self._where()
        if any(fragment in complaint for fragment in _CUT_SHORT):
            return f"The JSON file is cut short: it ends {where.replace('at its start', 'before any item')}."
        if any(word in context for word in ("NaN", "Infinity")):
            return f"The JSON is malformed {where}: NaN and Infinity are not JSON numbers."
        reason = next(
            (ours for fragments, ours in _SYNTAX_REASONS if any(f in complaint for f in fragments)),
            "it holds something that is not JSON (text goes in double quotes; true, false and null "
            "are written in lower case)",
        )
        return f"The JSON is malformed {where}: {reason}."

    def _where(self) -> str:
        if self._position == 0:
            return "at its start"
        if self._key is None:
            return f"after item {self._position}"
        return f"in item {self._position} (after key '{self._key}')"


# What yajl (or ijson's own parser, without the C extension) complains of, in our words: a
# summary never shows a library's text.
_CUT_SHORT = ("premature EOF", "Incomplete")
_SYNTAX_REASONS = (
    (("trailing garbage", "Additional data"), "something follows the end of the array"),
    (("UTF8",), "it holds bytes that are not UTF-8 text"),
    (("malformed number", "Invalid JSON number", "overflow"), "a number is malformed"),
    (("comment",), "it holds a comment, which JSON does not allow"),
    (
        ("occurs before a character", "non-hex"),
        "a text holds a backslash escape that JSON does not have (such as \\q or \\u12g4)",
    ),
    (
        ("invalid character inside string",),
        "a text holds a control character (such as a line break) that JSON requires escaped",
    ),
    (("separated by a colon",), "a key is not followed by a colon"),
    (("inside map, I expect",), "a comma or a closing brace is missing"),
    (("after array element",), "a comma or a closing bracket is missing"),
    (("object key",), "a key is not text in double quotes (or a comma is left before a closing brace)"),
    (("unallowed token",), "a value is missing (a comma, colon or bracket stands where one belongs)"),
)


class _NotPlain(Exception):
    """The fast path met something it cannot vouch for: the event path reads the file instead."""


def _refuse_constant(name: str):
    raise _NotPlain(name)  # NaN and Infinity: the event path names them in its message


class _RepeatedKeys(dict):
    """An object naming a key twice: the event path judges it (a value the repeat replaced may
    have broken a limit: the row's error all the same)."""


def _object(pairs: list[tuple[str, Any]]) -> dict:
    item = dict(pairs)
    return item if len(item) == len(pairs) else _RepeatedKeys(item)


# The standard library's C scanner; numbers as the event path gives them (ints, else Decimal).
_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_refuse_constant, object_pairs_hook=_object)
_WHITESPACE = re.compile(r"[ \t\n\r]*")
# What the fast path decodes at a time. Each read lets the other thread take the interpreter
# (the analysis reads ahead in a thread of its own), and getting it back waits for that thread's
# turn to end: with 64 KiB blocks the analysis of the bench's 100,000 items took ~9% longer.
FAST_BLOCK_BYTES = 1 << 20
# An item whose text is longer than this is not held whole: the event path reads the file and
# its limits judge the item while it is read.
MAX_FAST_ITEM_CHARS = 1_000_000


@dataclass
class _Run:
    """Plain items decoded at once: their numbers (blank items left out), their values, and
    ``row_chars`` of all of them."""

    numbers: Sequence[int]
    records: list[dict[str, Any]]
    chars: int


def _rows_of(chunks: Iterable[RawRow | _Run]) -> Iterator[RawRow]:
    for chunk in chunks:
        if isinstance(chunk, _Run):
            yield from map(RawRow, chunk.numbers, chunk.records)
        else:
            yield chunk


class _FastItems:
    """The items of a top-level array, decoded one ``raw_decode`` each (C speed).

    ijson's events cost a Python step per value; most files are arrays of flat objects, which
    the standard library's scanner decodes whole. Only an item the event path would give
    unchanged is given as decoded: an object of scalar values, shorter than any limit, holding
    no marked surrogate and no NUL in a key. Any other item is rebuilt by the event path from its
    own text, so its limits and messages are that path's. Anything else (a syntax error, an
    object at the top level, bytes that are not UTF-8, an item too long to hold) stops here with
    ``finished`` false, and the reader starts over with the event path.
    """

    def __init__(self, reader: JsonReader, stream):
        self._reader = reader
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._text = ""  # decoded text not consumed yet, from self._at on
        self._at = 0
        self._no_run_until = 0  # where in the text a run of plain items may be tried again
        self._eof = False
        self.finished = False

    def chunks(self) -> Iterator[RawRow | _Run]:
        try:
            yield from self._chunks()
        except (_NotPlain, UnicodeDecodeError):
            return

    def _chunks(self) -> Iterator[RawRow | _Run]:
        reader = self._reader
        if self._next_char() != "[":
            return  # an object holding the array, or no array: the event path says which
        self._at += 1
        if self._next_char() == "]":
            return  # empty: the event path's message
        while True:
            run = self._plain_run() if self._at >= self._no_run_until else None
            if run is not None:
                if run.records:
                    yield run
                self._next_char()
                continue
            item, start, end = self._decode()
            text = None if _plain(item, self._text, start, end) else self._text[start:end]
            self._at = end
            # Only an item the file goes on validly after is given: "1e" at the end of a cut
            # file decodes as 1, where the event path reports the broken number.
            separator = self._next_char()
            if separator not in (",", "]"):
                return
            reader._position += 1
            if text is None:
                if not all(_blank(v) for v in item.values()):
                    yield RawRow(reader._position, item)
            else:
                row = reader._item_from_text(text)
                if row is not None:
                    yield row
            if separator == "]":
                break
            self._at += 1
            self._next_char()
        self._at += 1
        if self._next_char() == "":  # only whitespace may follow the array
            self.finished = True

    def _plain_run(self) -> _Run | None:
        """The items from here to the last one that a "," follows in the text decoded so far, by
        one call of the scanner, when each of them is plain; None, nothing consumed, if not.

        One call per block instead of one per item: the calls and the checks of each item cost
        twice the decoding itself. The text is cut after a "}" that a "," follows and decoded as
        an array: a cut inside a string or a nested value leaves it unclosed, and the one "]"
        added cannot close both it and the array, so a text that decodes is a run of whole items.
        """
        text, start = self._text, self._at
        # At most MAX_FIELD_CHARS: then no item of the run is longer, as _plain requires.
        end = text.rfind("}", start, start + MAX_FIELD_CHARS)
        while end > start:
            comma = _WHITESPACE.match(text, end + 1).end()  # type: ignore[union-attr]
            if text.startswith(",", comma):
                break
            end = text.rfind("}", start, end)
        else:
            return None
        # Whatever the answer, this text is not tried again: where it is not a plain run, its
        # items go one by one (tried again from each item, a file of nested items would be
        # decoded once per item).
        self._no_run_until = end + 1
        run = text[start : end + 1]
        if _NOT_A_CHARACTER in run:
            return None  # a marked surrogate (or a U+FFFF written as such): each item is judged
        try:
            items = _DECODER.decode("[" + run + "]")
        except (ValueError, RecursionError, _NotPlain):
            return None
        judged = _judge_plain(items, escaped="\\u" in run)
        if judged is None:
            return None
        chars, maybe_blank = judged
        reader = self._reader
        numbers: Sequence[int] = range(reader._position + 1, reader._position + 1 + len(items))
        reader._position += len(items)
        self._at = comma + 1
        if maybe_blank:
            kept = [position for position, item in enumerate(items) if not all(map(_blank, item.values()))]
            numbers, items = [numbers[p] for p in kept], [items[p] for p in kept]
            chars = sum(map(values_chars, items))
        return _Run(numbers, items, chars)

    def _decode(self) -> tuple[Any, int, int]:
        """The next item, where its text starts and where it ends (reading more may move both)."""
        while True:
            try:
                item, end = _DECODER.raw_decode(self._text, self._at)
                # At the end of the text a number may go on in the next block: read it first.
                if end < len(self._text) or self._eof:
                    return item, self._at, end
            except json.JSONDecodeError:
                pass  # cut by the end of the block, or malformed: more text tells which
            except (ValueError, RecursionError):
                raise _NotPlain from None
            if len(self._text) - self._at > MAX_FAST_ITEM_CHARS or not self._more():
                raise _NotPlain

    def _next_char(self) -> str:
        """The next character after whitespace, '' at the end of the file."""
        while True:
            self._at = _WHITESPACE.match(self._text, self._at).end()  # type: ignore[union-attr]
            if self._at < len(self._text):
                return self._text[self._at]
            if not self._more():
                return ""

    def _more(self) -> bool:
        """Decode the next block onto the text not consumed yet; False once at the end."""
        if self._eof:
            return False
        block = self._stream.read(FAST_BLOCK_BYTES)
        self._eof = not block
        self._text = self._text[self._at :] + self._decoder.decode(block, final=self._eof)
        self._no_run_until = max(self._no_run_until - self._at, 0)
        self._at = 0
        return True


def _plain(item: Any, text: str, start: int, end: int) -> bool:
    """Whether the event path would give ``item`` (decoded from ``text[start:end]``) unchanged."""
    if type(item) is not dict or not item or len(item) > MAX_COLUMNS or end - start > MAX_FIELD_CHARS:
        return False
    escaped = text.find("\\u", start, end) >= 0
    if not escaped and text.find(_NOT_A_CHARACTER, start, end) >= 0:
        return False
    for value in item.values():
        kind = type(value)
        if kind is str:
            if escaped and _NOT_A_CHARACTER in value:
                return False
        elif kind is int:
            if not -_TOO_BIG < value < _TOO_BIG:
                return False
        elif kind is Decimal:
            if _too_big(value):
                return False
        elif kind is not bool and value is not None:
            return False
    if escaped:
        keys = "".join(item)
        if "\x00" in keys or _NOT_A_CHARACTER in keys:
            return False
    return True


_PLAIN_KINDS = frozenset((str, int, Decimal, bool, type(None)))


def _judge_plain(items: list[Any], *, escaped: bool) -> tuple[int, bool] | None:
    """Whether ``_plain`` holds for each of ``items``, decoded from a text holding no U+FFFF
    (``escaped``: holding a \\u escape, which may have written one or a NUL), decided for all
    at once: None if not, else ``row_chars`` of all of them and whether one may be blank."""
    # Calls mapped over whole lists, without a Python step per item or value. It also gives what
    # the run's batch needs (its text length, whether an item may be blank), so no item of a
    # plain run is looked at on its own.
    if set(map(type, items)) != {dict}:
        return None
    sizes = list(map(len, items))
    if min(sizes) == 0 or max(sizes) > MAX_COLUMNS:
        return None
    values = list(chain.from_iterable(map(dict.values, items)))
    types = list(map(type, values))
    kinds = set(types)
    if not kinds <= _PLAIN_KINDS:
        return None
    if int in kinds and max(map(abs, _of_type(values, types, int))) >= _TOO_BIG:
        return None
    # Every Decimal here is finite: NaN and Infinity stopped the decoding (_refuse_constant).
    if Decimal in kinds and max(map(Decimal.adjusted, _of_type(values, types, Decimal))) >= MAX_NUMBER_DIGITS:
        return None
    texts = values if kinds == {str} else list(_of_type(values, types, str))
    if escaped:
        keys = "".join(chain.from_iterable(items))
        if "\x00" in keys or _NOT_A_CHARACTER in keys or _NOT_A_CHARACTER in "".join(texts):
            return None
    # A value is blank when null or only whitespace (_blank); an item when all its values are.
    maybe_blank = type(None) in kinds or not all(map(str.strip, texts))
    return sum(map(len, texts)), maybe_blank


def _of_type(values: list[Any], types: list[type], kind: type) -> Iterator[Any]:
    """The ``values`` (whose types are ``types``) of exactly type ``kind`` (a bool is no int)."""
    return compress(values, map(operator.is_, types, repeat(kind)))


class _DigitGuard(io.RawIOBase):
    """Passes ``raw`` through, failing on a run of more than ``MAX_DIGIT_RUN`` digits."""

    def __init__(self, raw):
        self._raw = raw
        self._offset = 0  # bytes passed through so far
        self._tail = b""  # the digits that ended the previous block

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._raw.read(len(buffer))
        window = self._tail + data
        found = window.translate(_DIGITS_ONLY).find(_DIGIT_RUN)
        if found >= 0:
            where = self._offset - len(self._tail) + found
            raise SafetyLimitError(
                f"The JSON file holds a number longer than {MAX_DIGIT_RUN} digits (from byte {where}); "
                "numbers that long are refused."
            )
        self._tail = window[len(window.rstrip(b"0123456789")) :]
        buffer[: len(data)] = data
        self._offset += len(data)
        return len(data)


class _SurrogateMarker(io.RawIOBase):
    """Passes ``raw`` through with each lone surrogate (escaped or UTF-8) replaced by U+FFFF."""

    def __init__(self, raw):
        self._raw = raw
        self._carry = b""  # raw bytes not decided yet (a block may end inside an escape)
        self._ready = b""
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._ready and not self._eof:
            block = self._raw.read(max(len(buffer), 4096))
            window = self._carry + block
            self._eof = not block
            self._ready, self._carry = _mark_surrogates(window, final=self._eof)
        size = min(len(buffer), len(self._ready))
        buffer[:size] = self._ready[:size]
        self._ready = self._ready[size:]
        return size


def _mark_surrogates(window: bytes, *, final: bool) -> tuple[bytes, bytes]:
    """``window`` split into its decided part (surrogates marked) and the raw bytes still open."""
    if not final and (b"\\" not in window[-_SURROGATE_WINDOW:] and b"\xed" not in window[-3:]):
        limit = cut = len(window)  # the common case: nothing can straddle the end of the block
    else:
        limit = cut = len(window) if final else max(len(window) - _SURROGATE_WINDOW, 0)
    if b"\\u" not in window and b"\xed" not in window:
        marked = window
    else:

        def mark(match: re.Match) -> bytes:
            nonlocal cut
            if match.start() >= limit:
                return match.group()
            cut = max(cut, match.end())
            if match.group(2):
                return match.group()  # a valid pair
            if match.group().startswith(b"\xed"):
                return "\uffff".encode()
            escaped = match.group(1) if match.group(1) is not None else match.group(3)
            return escaped + b"\\uffff"

        marked = _SURROGATE.sub(mark, window)
    if cut == limit and not final:
        # Never stop inside a run of backslashes: its parity decides what the next one escapes.
        run = cut
        while run > 0 and window[run - 1] == 0x5C:
            run -= 1
        cut = run + 2 * ((cut - run) // 2)
    return marked[:cut], window[cut:]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _too_big(number: int | Decimal) -> bool:
    if isinstance(number, int):
        return abs(number) >= _TOO_BIG
    return number.is_finite() and number.adjusted() >= MAX_NUMBER_DIGITS
