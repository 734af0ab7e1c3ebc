"""XML: the root's children are the records, their children the fields; parsed by defusedxml.

Streamed with ``iterparse``: each record is converted when its end tag is read and then dropped
from the tree, so memory stays flat whatever the file's size. DTDs, entity declarations and
external references are refused outright (CONTRACT §3: a safety limit, so a critical error).

How an element becomes values (the contract says only "one child element per field"):

- a record's attributes are fields too (``<product ean="…">``), as are its child elements;
- a field element's attributes become fields named ``field@attribute`` (``<price currency="EUR">``
  gives ``price`` and ``price@currency``), and ``xsi:nil="true"`` makes the field empty;
- a field element with children of its own becomes a dict, as a JSON object would
  (``{"width": "10", "@unit": "cm", "#text": "…"}``): unmapped, it lands in ``attributes`` as JSON;
- a name present more than once in a record holds the list of its values, in file order;
- namespaces are dropped: ``{http://…}ean`` and ``g:ean`` are both ``ean``;
- CDATA sections are text like any other; an empty element is an empty value.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from typing import Any

from .base import (
    MAX_COLUMNS,
    MAX_FIELD_CHARS,
    MAX_NESTING,
    FormatError,
    RawRow,
    RowReader,
    Utf8Stream,
    describe_content,
    name_content,
    register,
    text_head,
)

# A record is one product: past this many elements it is an attack or not a record at all.
MAX_RECORD_ELEMENTS = 10_000
HEAD_BYTES = 4096
_XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_DECLARATION_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?\bencoding\s*=\s*)(["'])[^"']*\2""")


@register
class XmlReader(RowReader):
    """An XML document whose root element's children are the records, numbered by position."""

    file_type = "xml"

    @classmethod
    def content_mismatch(cls, head: bytes) -> str | None:
        kind = describe_content(_utf8_head(head))
        if kind == "XML":
            return None
        return f"The file is named .xml but its content is {kind or name_content(head)}, not XML."

    def columns(self) -> list[str]:
        self._open()
        return self._columns

    def rows(self) -> Iterator[RawRow]:
        self._open()
        while self._peeked:
            yield self._peeked.pop(0)
        yield from self._records

    # --- opening --------------------------------------------------------------------------

    def _open(self) -> None:
        if hasattr(self, "_records"):
            return
        head = self.read_head(HEAD_BYTES)
        self._position = 0
        self._depth = 0
        self._root_tag = ""
        self._records = self._read(self._source(head))
        self._peeked: list[RawRow] = []
        self._columns = self._peek_columns()

    def _source(self, head: bytes):
        """The file as UTF-8 for expat, which knows few encodings: others are transcoded here."""
        encoding = _bom_encoding(head)
        declared = _DECLARED_ENCODING.match(_utf8_head(head))
        if encoding is None and declared:
            name = declared.group(1).decode("ascii")
            try:
                encoding = codecs.lookup(name).name
            except LookupError:
                raise FormatError(
                    f"The XML declaration names the encoding '{name}', which is not a known encoding."
                ) from None
            if encoding.startswith(("utf-16", "utf-32")):
                # Such a file would start with a BOM or NUL bytes; these bytes are ASCII-like.
                raise FormatError(f"The XML declaration says {name} but the file is not {name} text.")
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

    def _read(self, source) -> Iterator[RawRow]:
        from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
        from defusedxml.ElementTree import ParseError, iterparse

        try:
            events = iterparse(
                source, events=("start", "end"), forbid_dtd=True, forbid_entities=True, forbid_external=True
            )
            yield from self._records_from(events)
        except DTDForbidden as exc:
            raise FormatError(
                f"The XML file declares a document type (<!DOCTYPE {exc.name}>); "
                "DTDs are refused for safety, as they can define entities that expand without bound."
            ) from None
        except EntitiesForbidden as exc:
            raise FormatError(
                f"The XML file declares the entity '{exc.name}'; entity declarations are refused for safety."
            ) from None
        except ExternalReferenceForbidden as exc:
            raise FormatError(
                f"The XML file refers to the external resource '{exc.sysid}'; "
                "external references are refused for safety."
            ) from None
        except ParseError as exc:
            line, column = exc.position
            reason = str(exc).split(":")[0]
            raise FormatError(
                f"The XML is malformed at line {line}, column {column + 1} ({self._where()}): {reason}."
            ) from None

    def _records_from(self, events) -> Iterator[RawRow]:
        depth = 0
        elements = 0
        root: Any = None  # set by the first start event, before any record ends
        for event, element in events:
            if event == "start":
                depth += 1
                self._depth = depth
                if depth == 1:
                    root = element
                    self._root_tag = _local(element.tag)
                elif depth == 2:
                    self._position += 1
                    elements = 0
                else:
                    elements += 1
                    if depth > MAX_NESTING:
                        raise FormatError(
                            f"Record {self._position} is nested more than {MAX_NESTING} levels deep."
                        )
                    if elements > MAX_RECORD_ELEMENTS:
                        raise FormatError(
                            f"Record {self._position} has more than {MAX_RECORD_ELEMENTS} elements."
                        )
                continue
            depth -= 1
            self._depth = depth
            if depth == 1:
                row = self._record(element)
                # Drop the record from the tree: iterparse would otherwise keep every record.
                root.clear()
                if row is not None:
                    yield row

    def _record(self, element) -> RawRow | None:
        values: dict[str, Any] = {}
        for name, value in element.attrib.items():
            _add(values, _local(name), self._checked(value))
        for child in element:
            name = _local(child.tag)
            if child.get(_XSI_NIL) in ("true", "1"):
                _add(values, name, None)
                continue
            _add(values, name, self._value(child))
            if len(child) == 0:  # a nested field keeps its attributes inside its dict
                for attribute, value in child.attrib.items():
                    _add(values, f"{name}@{_local(attribute)}", self._checked(value))
        if len(values) > MAX_COLUMNS:
            raise FormatError(
                f"Record {self._position} has {len(values)} fields; at most {MAX_COLUMNS} are supported."
            )
        if not values:
            if element.text and element.text.strip():
                problem = f"record {self._position} (<{_local(element.tag)}>) has text but no field elements"
                return RawRow(self._position, error=problem)
            return None  # <product/>: a blank row, which is not a row (CONTRACT §3)
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values.values()):
            return None
        return RawRow(self._position, values)

    def _value(self, element) -> Any:
        """A field's text, or a dict when it has children of its own (see the module docstring)."""
        if len(element) == 0:
            return self._checked(element.text or "")
        nested: dict[str, Any] = {f"@{_local(k)}": self._checked(v) for k, v in element.attrib.items()}
        if element.text and element.text.strip():
            nested["#text"] = self._checked(element.text)
        for child in element:
            _add(nested, _local(child.tag), self._value(child))
        return nested

    def _checked(self, text: str) -> str:
        if len(text) > MAX_FIELD_CHARS:
            raise FormatError(
                f"Record {self._position} has a value longer than {MAX_FIELD_CHARS} characters."
            )
        return text

    def _where(self) -> str:
        if self._position == 0:
            return "before the first record"
        if self._depth >= 2:
            return f"in record {self._position}"
        return f"after record {self._position}"


def _local(tag: str) -> str:
    """``{namespace}name`` → ``name``."""
    return tag.rpartition("}")[2]


def _add(values: dict[str, Any], name: str, value: Any) -> None:
    if name not in values:
        values[name] = value
    elif isinstance(values[name], list):
        values[name].append(value)
    else:
        values[name] = [values[name], value]


def _bom_encoding(head: bytes) -> str | None:
    """The encoding a BOM or the NUL pattern of ``<?`` gives away, if any (XML 1.0 appendix F)."""
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if head.startswith(bom):
            return encoding
    return {
        b"\x00\x00\x00<": "utf-32-be",
        b"<\x00\x00\x00": "utf-32-le",
        b"\x00<\x00?": "utf-16-be",
        b"<\x00?\x00": "utf-16-le",
    }.get(head[:4])


def _utf8_head(head: bytes) -> bytes:
    encoding = _bom_encoding(head)
    if encoding and encoding.endswith(("-be", "-le")):
        return head.decode(encoding, errors="ignore").encode()
    return text_head(head)


def _declare_utf8(text: str) -> str:
    """The declaration of transcoded text must say UTF-8, or expat would decode it twice."""
    return _DECLARATION_ENCODING.sub(r'\1"UTF-8"', text.lstrip("\ufeff"), count=1)
