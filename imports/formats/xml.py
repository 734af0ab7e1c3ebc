"""XML: the repeated element under the root is the record, its children the fields; by expat.

Where the records are: the shallowest element name that repeats under one parent, reached from
the root through plain wrappers (elements without attributes of their own): ``SHOP/SHOPITEM``,
``rss/channel/item``, ``feed/entry``, ``products/product``. A first pass over the start of the
file (at most ``SCAN_ELEMENTS`` elements) finds it; without any repeat, the root's children are
the records. Elements outside the records (a feed's own ``title``) are skipped.

Streamed with expat: each record is converted when its end tag is read and then dropped, so
memory stays flat whatever the file's size. A flat record (plain text fields, no attributes) is
read as names and texts with no element tree, and goes straight into its batch's columns; any
other is built as a tree and converted (``_read``). Both give the same values, errors and messages.

Entity declarations, internal DTD subsets and external references are refused outright
(CONTRACT §3: a safety limit, so a critical error). A DOCTYPE that only names an external DTD
(``<!DOCTYPE x SYSTEM "…dtd">``, as Icecat writes) is accepted and never fetched: expat is not
asked to load it.

How an element becomes values (the contract says only "one child element per field"):

- a record's attributes are fields too (``<product ean="…">``), as are its child elements;
- a field element's attributes become fields named ``field@attribute`` (``<price currency="EUR">``
  gives ``price`` and ``price@currency``), and ``xsi:nil="true"`` makes the field empty;
- a field element with children of its own becomes a dict, as a JSON object would
  (``{"width": "10", "@unit": "cm", "#text": "…"}``): unmapped, it lands in ``attributes`` as JSON;
- a name present more than once in a record holds the list of its values, in file order;
- namespaced names are kept as the file writes them: ``g:gtin`` stays ``g:gtin`` (the prefix the
  document declares; the default namespace adds none, so Atom's ``title`` is ``title``);
- CDATA sections are text like any other; an empty element is an empty value.
"""

from __future__ import annotations

import codecs
import re
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, NoReturn, TypeVar
from xml.etree.ElementTree import TreeBuilder
from xml.parsers import expat

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
    describe_content,
    name_content,
    register,
)
from .encoding import Utf8Stream, is_wide, unicode_encoding, utf8_head

K = TypeVar("K")
V = TypeVar("V")
# A record is one product: past this many elements it is an attack or not a record at all.
MAX_RECORD_ELEMENTS = 10_000
# Elements the first pass reads, at most, to find where the records are.
SCAN_ELEMENTS = 50_000
HEAD_BYTES = 4096
# Names as expat gives them with namespace processing: ``uri}local``.
_W3C = "http://www.w3.org/"
_XSI_NIL = "http://www.w3.org/2001/XMLSchema-instance}nil"
BLOCK_BYTES = 1 << 16
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_DECLARATION_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?\bencoding\s*=\s*)(["'])[^"']*\2""")
# A DOCTYPE naming only an external DTD: no internal subset, so nothing it could declare is read.
_EXTERNAL_DTD_ONLY = re.compile(
    rb"""<!DOCTYPE\s+[^\s\[>]+\s+(SYSTEM\s+("[^"]*"|'[^']*')|PUBLIC\s+("[^"]*"|'[^']*')\s+("[^"]*"|'[^']*'))\s*>"""
)


@register
class XmlReader(RecordReader):
    """An XML document whose repeated element under the root is the record, numbered by position."""

    file_type = "xml"
    # Whether flat records are read as pairs of names and texts (``_read``); False sends every
    # record through the general path, which the tests compare it with.
    flat_path = True

    @classmethod
    def content_mismatch(cls, head: bytes) -> str | None:
        kind = describe_content(head)
        if kind == "XML":
            return None
        return f"The file is named .xml but its content is {kind or name_content(head)}, not XML."

    # --- opening --------------------------------------------------------------------------

    def _open(self) -> None:
        if hasattr(self, "_records"):
            return
        head = self.read_head(HEAD_BYTES)
        self._allow_doctype = _names_external_dtd_only(utf8_head(head))
        self._position = 0
        self._in_record = False
        self._root_tag = ""
        self._prefixes: dict[str, str] = {}  # namespace URI -> the prefix the document gives it
        self._names = _Memo(self._name)  # each tag or attribute as expat gives it -> its name
        self._record_path = self._find_record_path(head)
        self.fileobj.seek(0)
        self._position = 0
        # The records read so far, and what they go to: these, or a batch (``batches``).
        self._ready: deque[RawRow] = deque()
        self._emit: Callable[[RawRow], None] = self._ready.append
        self._batches: Batches | None = None
        self._blocks = self._read(self._source(head))
        self._records = self._rows()
        self._peeked = []
        self._columns = self._peek_columns()

    def _source(self, head: bytes):
        """The file as UTF-8 for expat, which knows few encodings: others are transcoded here."""
        encoding = unicode_encoding(head)
        if encoding == "utf-8-sig":
            return self.fileobj  # expat skips a UTF-8 BOM itself
        encoding = encoding or _declared_encoding(head)
        if encoding in (None, "utf-8"):
            return self.fileobj
        return Utf8Stream(self.fileobj, encoding, rewrite_first=_declare_utf8)

    def _peek_columns(self) -> list[str]:
        for row in self._records:
            self._peeked.append(row)
            if row.values:
                return list(row.values)
        if not self._peeked:
            raise FormatError(f"The XML root <{self._root_tag}> holds no records.")

        return []  # only unusable records: each has its row error

    # --- reading --------------------------------------------------------------------------

    def _find_record_path(self, head: bytes) -> tuple[str, ...]:
        """The names from the root to the record element (see the module docstring)."""
        repeats: dict[tuple[str, ...], int] = {}
        with_children: set[tuple[str, ...]] = set()
        # For each open element: its path, its children's names, whether records may lie below
        # it, whether it has attributes. No tree is built: the names are all this pass reads.
        stack: list[tuple[tuple[str, ...], set[str], bool, bool]] = []
        names = self._names
        elements = 0

        def start(tag: str, attributes: dict[str, str]) -> None:
            nonlocal elements
            elements += 1
            name = names[tag]
            if not stack:
                stack.append(((name,), set(), True, bool(attributes)))
                return
            parent_path, siblings, open_below, _ = stack[-1]
            path = (*parent_path, name)
            if open_below and name in siblings:
                repeats[path] = repeats.get(path, 0) + 1
            siblings.add(name)
            plain = not attributes or all(k.startswith(_W3C) for k in attributes)
            stack.append((path, set(), open_below and plain, bool(attributes)))
            if len(stack) > MAX_NESTING or elements > SCAN_ELEMENTS:
                raise _ScanDone()

        def end(tag: str) -> None:
            path, children, _, attributed = stack.pop()
            if children or attributed:  # a record has fields: children or attributes
                with_children.add(path)
            if not stack:
                raise _ScanDone()

        try:
            for _ in self._feed(self._parser(start, end), self._source(head)):
                pass
        except (_ScanDone, FormatError):
            pass  # a FormatError: the reading pass reports it, naming the record it is in
        candidates = [path for path in repeats if path in with_children]
        if not candidates:
            return ("*", "*")  # no repeated record: the root's children are the records
        return min(candidates, key=lambda path: (len(path), -repeats[path]))

    def _parser(self, start, end, data=None):
        """An expat parser calling ``start``, ``end`` and ``data`` (text, when given).

        Names come as ``uri}local``, and not interned: expat would look each start and end tag up
        in a dict, hashing it anew, which cost 8% of reading the bench's XML and saved less in the
        memos of names and shapes. What defusedxml forbids is refused the way it does it, by
        handlers that raise.
        """
        parser = expat.ParserCreate(namespace_separator="}", intern=None)
        parser.buffer_text = True
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        if data is not None:
            parser.CharacterDataHandler = data
        parser.StartNamespaceDeclHandler = self._declare_prefix
        if not self._allow_doctype:
            parser.StartDoctypeDeclHandler = _refuse_doctype
        parser.EntityDeclHandler = _refuse_entity
        parser.UnparsedEntityDeclHandler = _refuse_unparsed_entity
        parser.ExternalEntityRefHandler = _refuse_external_reference
        return parser

    def _feed(self, parser, source) -> Iterator[None]:
        try:
            while block := source.read(BLOCK_BYTES):
                parser.Parse(block, False)
                yield
            parser.Parse(b"", True)
            yield
        except expat.ExpatError as exc:
            reason = _MALFORMED.get(expat.errors.messages[exc.code], "markup that is not well-formed XML")
            where = f"line {exc.lineno}, column {exc.offset + 1} ({self._where()})"
            raise FormatError(f"The XML is malformed at {where}: {reason}.") from None

    def _declare_prefix(self, prefix: str | None, uri: str) -> None:
        self._prefixes.setdefault(uri, prefix or "")

    def _rows(self) -> Iterator[RawRow]:
        for _ in self._blocks:
            while self._ready:
                yield self._ready.popleft()

    def batches(self, size: int) -> Iterator[RawBatch]:
        """As RowReader's, but a flat record's texts go straight into its batch's columns."""
        self._open()
        # Every text can be stored: expat refuses a NUL or a lone surrogate, as the file's error.
        batches = Batches(size, self.fraction_read, storable=True)
        for row in (*self._peeked, *self._ready):  # read ahead for the columns
            batches.add(row)
        self._peeked.clear()
        self._ready.clear()
        self._emit, self._batches = batches.add, batches
        while True:  # each batch as soon as it is complete, as RowReader.batches yields it
            yield from batches.done
            batches.done.clear()
            if next(self._blocks, _END) is _END:
                break
        last = batches.rest()
        if last is not None:
            yield last

    def _read(self, source) -> Iterator[None]:
        """Read the records, each converted when its end tag is read (then nothing of it is
        kept) and handed to ``_emit`` or, flat, to ``_batches``; yields after each block.

        Two paths: most records are flat, their fields plain text elements without attributes,
        and those are collected as (tag, text) pairs with no tree at all. The first element that
        is not such a field (an attribute, a child of a field) moves the record to the general
        path: what was collected becomes an element tree, which ``_record`` converts. Outside
        the records only the path of names is kept, and no text.
        """
        record_path = self._record_path
        record_depth = len(record_path)
        path: list[str] = []
        names = self._names
        # Called for every element outside the records: the common record paths are compared
        # at C speed.
        any_record = all(name == "*" for name in record_path)
        exact_path = None if "*" in record_path else list(record_path)
        nesting_limit = MAX_NESTING - record_depth  # open elements allowed below a record's own
        # Whether records start on the flat path: not when not even a field may open (the general
        # path says so), or by a test's choice.
        flat = nesting_limit > 0 and self.flat_path
        max_elements, max_chars = MAX_RECORD_ELEMENTS, MAX_FIELD_CHARS  # locals: read per element
        chunks: list[str] = []  # the text read since the last tag (expat gives it in pieces)
        keep_text = chunks.append  # the text handler, but on the general path
        # The record being read: its tag and attributes, its fields so far and the open one.
        record_tag = ""
        record_attributes: dict[str, str] = {}
        tags: list[str] = []  # the fields so far: their tags and texts
        texts: list[str] = []
        field: str | None = None
        last_tags: list[str] = []  # the last shape looked up in ``shapes``, and its columns
        last_columns: tuple[str, ...] | None = None  # (no tags have none)
        elements = 0  # elements of the record so far, on the general path (set by to_tree)
        # The general path's element tree of the record, and its open elements below the record.
        builder = TreeBuilder()
        inside = 0

        def start(tag: str, attributes: dict[str, str]) -> None:
            nonlocal record_tag, record_attributes, field
            path.append(names[tag])
            chunks.clear()  # the text outside the records is not read
            depth = len(path)
            if depth == record_depth and (
                any_record or path == exact_path or (exact_path is None and _matches(path, record_path))
            ):
                self._in_record = True
                self._position += 1
                record_tag, record_attributes, field = tag, attributes, None
                tags.clear()
                texts.clear()
                if flat:
                    parser.StartElementHandler, parser.EndElementHandler = start_flat, end_flat
                else:
                    to_tree()
            elif depth == 1:
                self._root_tag = path[0]
            elif depth > MAX_NESTING:
                raise SafetyLimitError(
                    f"Record {self._position} is nested more than {MAX_NESTING} levels deep."
                )

        def end(tag: str) -> None:
            path.pop()
            chunks.clear()

        # Inside a flat record: each field costs these two handlers and one list append.
        def start_flat(tag: str, attributes: dict[str, str]) -> None:
            nonlocal field
            if attributes or field is not None:  # not a plain text field
                to_tree()
                start_inside(tag, attributes)
                return
            if len(tags) >= max_elements:  # the record's elements so far: its fields, all closed
                self._too_many_elements()
            field = tag
            if chunks:  # text before it: the record's own, read only when it has no field at all
                chunks.clear()

        def end_flat(tag: str) -> None:
            nonlocal field, last_tags, last_columns
            if field is not None:
                tags.append(field)
                texts.append("".join(chunks))
                chunks.clear()
                field = None
                return
            # The record's own end. Into a batch's columns, if it has texts only, under names all
            # different, none of them too long, and is not blank: what _flat_record would check.
            batches = self._batches
            if batches is not None and not record_attributes:
                if tags != last_tags:  # records come in runs of one shape: its tags are not hashed
                    last_tags, last_columns = tags.copy(), shapes[tuple(tags)]
                columns = last_columns
                if columns is not None and (chars := sum(map(len, texts))) <= max_chars:
                    if any(map(str.strip, texts)):  # else blank, not a row (CONTRACT §3)
                        batches.add_texts(self._position, columns, texts, chars)
                    # finish(None), inlined: this is once per record
                    self._in_record = False
                    parser.StartElementHandler, parser.EndElementHandler = start, end
                    path.pop()
                    chunks.clear()
                    return
            finish(self._flat_record(record_tag, record_attributes, tags, texts, "".join(chunks)))

        def to_tree() -> None:
            """The record so far as an element tree: the general path reads the rest."""
            nonlocal builder, inside, elements
            elements = len(tags) + (field is not None)  # the flat path counts no elements
            builder = TreeBuilder()
            builder.start(record_tag, record_attributes)
            for tag, text in zip(tags, texts, strict=True):
                builder.start(tag, {})
                if text:
                    builder.data(text)
                builder.end(tag)
            inside = 0
            if field is not None:
                builder.start(field, {})
                inside = 1
            if chunks:
                builder.data("".join(chunks))
                chunks.clear()
            parser.StartElementHandler, parser.EndElementHandler = start_inside, end_inside
            parser.CharacterDataHandler = builder.data

        # On the general path, the elements are only built, counted and bounded.
        def start_inside(tag: str, attributes: dict[str, str]) -> None:
            nonlocal inside, elements
            builder.start(tag, attributes)
            inside += 1
            elements += 1
            if inside > nesting_limit:
                raise SafetyLimitError(
                    f"Record {self._position} is nested more than {MAX_NESTING} levels deep."
                )
            if elements > MAX_RECORD_ELEMENTS:
                self._too_many_elements()

        def end_inside(tag: str) -> None:
            nonlocal inside
            element = builder.end(tag)
            if inside:
                inside -= 1
                return
            parser.CharacterDataHandler = keep_text
            finish(self._record(element))

        def finish(row: RawRow | None) -> None:
            """The record's end, on either path."""
            self._in_record = False
            parser.StartElementHandler, parser.EndElementHandler = start, end
            if row is not None:
                self._emit(row)
            path.pop()
            chunks.clear()

        shapes = _Memo(self._columns_of)  # a flat record's tags -> its columns
        parser = self._parser(start, end, keep_text)
        yield from self._feed(parser, source)

    def _columns_of(self, tags: tuple[str, ...]) -> tuple[str, ...] | None:
        """The columns of a flat record of ``tags``: their names, when these are all different."""
        columns = tuple(self._names[tag] for tag in tags)
        return columns if tags and len(set(columns)) == len(columns) <= MAX_COLUMNS else None

    def _flat_record(
        self, tag: str, attributes: dict[str, str], tags: list[str], texts: list[str], text: str
    ) -> RawRow | None:
        """``_record`` of a record whose fields are all plain text elements (``tags``, ``texts``)."""
        names = self._names
        values = self._attribute_values(attributes) if attributes else {}
        for field, value in zip(tags, texts, strict=True):
            name = names[field]
            if name in values or len(value) > MAX_FIELD_CHARS:
                _add(values, name, self._checked(value))
            else:
                values[name] = value
        return self._row(values, tag, text)

    def _record(self, element) -> RawRow | None:
        if self._position == 1 and element.attrib and len(element) and _groups_only(element):
            raise FormatError(
                f"The XML record <{self._name(element.tag)}> holds its data in attributes and nested "
                "groups, with no child element per field, so it cannot be imported as a product list."
            )
        names = self._names
        values = self._attribute_values(element.attrib)
        for child in element:
            name = names[child.tag]
            if not child.attrib and not len(child):  # the common field: <name>text</name>
                text = child.text or ""
                if len(text) > MAX_FIELD_CHARS:
                    self._checked(text)
                if name in values:
                    _add(values, name, text)
                else:
                    values[name] = text
                continue
            if child.get(_XSI_NIL) in ("true", "1"):
                _add(values, name, None)
                continue
            _add(values, name, self._value(child))
            if len(child) == 0:  # a nested field keeps its attributes inside its dict
                for attribute, value in child.attrib.items():
                    _add(values, f"{name}@{self._name(attribute)}", self._checked(value))
        return self._row(values, element.tag, element.text)

    def _attribute_values(self, attributes: dict[str, str]) -> dict[str, Any]:
        """A record's values from its own attributes, the first of its fields."""
        names = self._names
        values: dict[str, Any] = {}
        for name, value in attributes.items():
            _add(values, names[name], self._checked(value))
        return values

    def _row(self, values: dict[str, Any], tag: str, text: str | None) -> RawRow | None:
        """The record of ``values`` (``text``: its own text before any child element)."""
        if len(values) > MAX_COLUMNS:
            raise SafetyLimitError(
                f"Record {self._position} has {len(values)} fields; at most {MAX_COLUMNS} are supported."
            )
        if not values:
            if text and text.strip():
                problem = f"record {self._position} (<{self._name(tag)}>) has text but no field elements"
                return RawRow(self._position, error=problem)
            return None  # <product/>: a blank row, which is not a row (CONTRACT §3)
        for value in values.values():
            if value is not None and (not isinstance(value, str) or value.strip()):
                return RawRow(self._position, values)
        return None  # only blank values

    def _value(self, element) -> Any:
        """A field's text, or a dict when it has children of its own (see the module docstring)."""
        if len(element) == 0:
            return self._checked(element.text or "")
        nested: dict[str, Any] = {f"@{self._name(k)}": self._checked(v) for k, v in element.attrib.items()}
        if element.text and element.text.strip():
            nested["#text"] = self._checked(element.text)
        for child in element:
            _add(nested, self._name(child.tag), self._value(child))
        return nested

    def _too_many_elements(self) -> NoReturn:
        raise SafetyLimitError(f"Record {self._position} has more than {MAX_RECORD_ELEMENTS} elements.")

    def _checked(self, text: str) -> str:
        if len(text) > MAX_FIELD_CHARS:
            raise SafetyLimitError(
                f"Record {self._position} has a value longer than {MAX_FIELD_CHARS} characters."
            )
        return text

    def _name(self, tag: str) -> str:
        """``uri}gtin`` → ``g:gtin``, with the prefix the document declares for ``uri``."""
        uri, separator, local = tag.rpartition("}")  # an XML name holds no "}"
        if not separator:
            return tag
        prefix = self._prefixes.get(uri)
        return f"{prefix}:{local}" if prefix else local

    def _where(self) -> str:
        if self._position == 0:
            return "before the first record"
        if self._in_record:
            return f"in record {self._position}"
        return f"after record {self._position}"


# What expat's error means, in our words (its own text is a library's message, and terse).
_E = expat.errors
_MALFORMED = {
    _E.XML_ERROR_INVALID_TOKEN: (
        "a character that is not allowed there (a lone < or &, or bytes that are not in the file's encoding)"
    ),
    _E.XML_ERROR_UNDEFINED_ENTITY: "an entity XML does not define (XML knows &amp; &lt; &gt; &quot; &apos;)",
    _E.XML_ERROR_TAG_MISMATCH: "a closing tag that does not match the element it closes",
    _E.XML_ERROR_JUNK_AFTER_DOC_ELEMENT: "content after the end of the root element",
    _E.XML_ERROR_UNCLOSED_TOKEN: "a tag that is cut off",
    _E.XML_ERROR_NO_ELEMENTS: "the file ends before its elements are closed (is it cut off?)",
    _E.XML_ERROR_PARTIAL_CHAR: "a character cut off by the end of the file",
    _E.XML_ERROR_DUPLICATE_ATTRIBUTE: "an attribute given twice in one tag",
    _E.XML_ERROR_UNBOUND_PREFIX: "a namespace prefix that is not declared",
    _E.XML_ERROR_UNCLOSED_CDATA_SECTION: "a CDATA section that is not closed",
    _E.XML_ERROR_MISPLACED_XML_PI: "an XML declaration that is not at the very start of the file",
    _E.XML_ERROR_BAD_CHAR_REF: "a character reference to a character XML does not allow",
    _E.XML_ERROR_INCORRECT_ENCODING: "bytes that are not in the declared encoding",
    _E.XML_ERROR_UNKNOWN_ENCODING: "an encoding that cannot be read",
    _E.XML_ERROR_SYNTAX: "markup that is not well-formed XML",
}


class _Memo(dict[K, V]):
    """``function(key)`` for each key, computed once: a tag's name, a record's columns.

    At most ``MEMO_ENTRIES`` are kept: a file whose every record is of a new shape (its fields
    in another order, other names) would otherwise grow it with the file. Starting over is only
    a cache miss.
    """

    def __init__(self, function: Callable[[K], V]):
        super().__init__()
        self._function = function

    def __missing__(self, key: K) -> V:
        if len(self) >= MEMO_ENTRIES:
            self.clear()
        self[key] = value = self._function(key)
        return value


# Real files name a few dozen tags and their records come in a few shapes.
MEMO_ENTRIES = 4096


_END = object()  # what ``next`` gives once the blocks are read


class _ScanDone(Exception):
    """The first pass has seen enough."""


def _refuse_doctype(name: str, *_ignored) -> None:
    raise SafetyLimitError(
        f"The XML file declares a document type (<!DOCTYPE {name}>); "
        "DTDs are refused for safety, as they can define entities that expand without bound."
    )


def _refuse_entity(name: str, *_ignored) -> None:
    raise SafetyLimitError(
        f"The XML file declares the entity '{name}'; entity declarations are refused for safety."
    )


def _refuse_unparsed_entity(name: str, *_ignored) -> None:
    _refuse_entity(name)


def _refuse_external_reference(
    context: str, base: str | None, system_id: str | None, public_id: str | None
) -> int:
    raise SafetyLimitError(
        f"The XML file refers to the external resource '{system_id}'; "
        "external references are refused for safety."
    )


def _matches(path: list[str], record_path: tuple[str, ...]) -> bool:
    return all(want in ("*", name) for name, want in zip(path, record_path, strict=True))


def _groups_only(element) -> bool:
    """Icecat's product sheet: no child element holds text, the children are groups or empty."""
    has_groups = any(len(child) for child in element)
    return has_groups and not any(len(child) == 0 and child.text and child.text.strip() for child in element)


def _names_external_dtd_only(head: bytes) -> bool:
    """Whether the file's DOCTYPE, if any, only names an external DTD (which is never fetched)."""
    start = head.find(b"<!DOCTYPE")
    return start >= 0 and _EXTERNAL_DTD_ONLY.match(head, start) is not None


def _add(values: dict[str, Any], name: str, value: Any) -> None:
    if name not in values:
        values[name] = value
    elif isinstance(values[name], list):
        values[name].append(value)
    else:
        values[name] = [values[name], value]


def _declared_encoding(head: bytes) -> str | None:
    """The codec the XML declaration names, if it names one; the file's bytes gave away none."""
    declared = _DECLARED_ENCODING.match(head)
    if not declared:
        return None
    name = declared.group(1).decode("ascii")
    try:
        encoding = codecs.lookup(name).name
    except LookupError:
        raise FormatError(
            f"The XML declaration names the encoding '{name}', which is not a known encoding."
        ) from None
    if is_wide(encoding):
        # Such a file would start with a BOM or NUL bytes; these bytes are ASCII-like.
        raise FormatError(f"The XML declaration says {name} but the file is not {name} text.")
    return encoding


def _declare_utf8(text: str) -> str:
    """The declaration of transcoded text must say UTF-8, or expat would decode it twice."""
    return _DECLARATION_ENCODING.sub(r'\1"UTF-8"', text.lstrip("\ufeff"), count=1)
