"""The interface every file format implements, and the registry that finds them by file type."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, ClassVar

from django.core.files import File

# Safety limits shared by the formats (CONTRACT §3: breaking one is a critical error).
MAX_FIELD_CHARS = 100_000
MAX_COLUMNS = 1_000
MAX_NESTING = 64


class FormatError(Exception):
    """The file cannot be read as a whole; the message is the sentence shown to the user."""


@dataclass
class RawRow:
    """One record as the file holds it: 1-based ``number`` as CONTRACT §3 defines it.

    ``error`` is set when this record alone is unusable (the rest of the file is fine).
    """

    number: int
    values: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


class RowReader(ABC):
    """Streams the records of one file, never holding the whole file in memory."""

    file_type: ClassVar[str]

    def __init__(self, fileobj: BinaryIO | File, size: int | None = None):
        self.fileobj = fileobj
        self.size = size if size is not None else _size_of(fileobj)

    @abstractmethod
    def columns(self) -> list[str]:
        """The column names, from the header (or the first record where there is no header)."""

    @abstractmethod
    def rows(self) -> Iterator[RawRow]:
        """The records in file order, blank ones left out."""

    def fraction_read(self) -> float | None:
        """How much of the file has been consumed, 0–1, when the format can tell."""
        try:
            return min(self.fileobj.tell() / self.size, 1.0) if self.size else None
        except (OSError, ValueError):
            return None


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


def describe_content(head: bytes) -> str | None:
    """What ``head`` (a file's first bytes) looks like, to name a mismatch with the extension."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"PK\x03\x04"):
        return "a ZIP archive (such as an Excel .xlsx file)"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "an old binary Excel .xls file"
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if stripped[:1] in (b"[", b"{"):
        return "JSON"
    if stripped[:1] == b"<":
        return "XML"
    return None
