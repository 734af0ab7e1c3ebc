"""Which encoding a file's text is in, and the file as UTF-8: the one detector every reader uses.

A byte order mark decides first, then the pattern of NUL bytes that UTF-16 and UTF-32 give ASCII
text (RFC 4627 §3, XML 1.0 appendix F, or every other byte NUL for text that does not start with
ASCII). Formats that say nothing of their encoding (CSV) then check the whole file: UTF-8, UTF-8
with a few stray bytes, Windows-1252, Latin-1.
"""

from __future__ import annotations

import codecs
import io
import re
from dataclasses import dataclass
from typing import BinaryIO

from django.core.files import File

from .errors import FormatError

# UTF-32's little-endian BOM starts with UTF-16's: it is looked for first. Each codec named here
# drops the BOM itself.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Which of the first four bytes are NUL when the text starts with an ASCII character.
_NUL_PATTERNS: dict[tuple[bool, ...], str] = {
    (True, True, True, False): "utf-32-be",
    (False, True, True, True): "utf-32-le",
    (True, False, True, False): "utf-16-be",
    (False, True, False, True): "utf-16-le",
}
_WIDE = ("utf-16", "utf-32")
_VALIDATE_BLOCK = 1 << 20

# A byte that is not valid UTF-8, as the "surrogateescape" error handler decodes it.
ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
_NON_ASCII = re.compile("[^\x00-\x7f\udc80-\udcff]")


def unicode_encoding(head: bytes) -> str | None:
    """The Unicode encoding a BOM or the NUL bytes of ``head`` (a file's first bytes) give away.

    A BOM gives a codec that drops it (``utf-8-sig``, ``utf-16``, ``utf-32``); NUL bytes give the
    byte order (``utf-16-le``). None when ``head`` says neither: UTF-8 or an 8-bit encoding.
    """
    if bom := bom_encoding(head):
        return bom
    if len(head) < 4:
        return None
    if pattern := _NUL_PATTERNS.get(tuple(byte == 0 for byte in head[:4])):
        return pattern
    quarter = len(head) // 4
    if head[1::2].count(0) > quarter:
        return "utf-16-le"
    if head[0::2].count(0) > quarter:
        return "utf-16-be"
    return None


def bom_encoding(head: bytes) -> str | None:
    """The encoding ``head``'s byte order mark names (a codec that drops it), if it starts with one."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    return None


def is_wide(encoding: str | None) -> bool:
    """UTF-16 or UTF-32: an encoding whose ASCII text holds NUL bytes."""
    return encoding is not None and encoding.startswith(_WIDE)


def utf8_head(head: bytes) -> bytes:
    """``head`` as UTF-8-compatible bytes for content sniffing: BOM dropped, UTF-16/32 decoded."""
    encoding = unicode_encoding(head)
    if encoding is None:
        return head
    return head.decode(encoding, errors="ignore").encode("utf-8")


@dataclass(frozen=True)
class TextEncoding:
    """The encoding a file's text is read in; ``mixed``: UTF-8 holding a few bytes that are not."""

    name: str
    mixed: bool = False


def text_encoding(fileobj: BinaryIO | File, head: bytes) -> TextEncoding:
    """The encoding of a file that does not name one (CSV), from ``head`` or the whole file."""
    unicode = unicode_encoding(head)
    if unicode is not None:
        return TextEncoding(unicode)
    # A file can be ASCII for megabytes and Latin-1 after: check the whole file once.
    if _decodes_as(fileobj, "utf-8"):
        return TextEncoding("utf-8")
    if _mostly_utf8(fileobj):
        # Mostly UTF-8 with some bytes that are not (a file pasted together from two sources):
        # read as UTF-8, and the rows holding such bytes fail, each naming its byte, rather
        # than the whole file being read as Latin-1 and its UTF-8 accents stored garbled.
        return TextEncoding("utf-8", mixed=True)
    return TextEncoding("cp1252" if _decodes_as(fileobj, "cp1252") else "latin-1")


def _mostly_utf8(fileobj: BinaryIO | File) -> bool:
    """More valid UTF-8 multi-byte characters than bytes that are not valid UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
    valid = invalid = 0
    try:
        while block := fileobj.read(_VALIDATE_BLOCK):
            text = decoder.decode(block)
            invalid += len(ESCAPED_BYTE.findall(text))
            valid += len(_NON_ASCII.findall(text))
    finally:
        fileobj.seek(0)
    return valid > invalid


def _decodes_as(fileobj: BinaryIO | File, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        while block := fileobj.read(_VALIDATE_BLOCK):
            decoder.decode(block)
        decoder.decode(b"", final=True)
        return True
    except UnicodeDecodeError:
        return False
    finally:
        fileobj.seek(0)


def utf8_stream(fileobj: BinaryIO | File, encoding: str) -> BinaryIO | File | Utf8Stream:
    """The file from its start as UTF-8 bytes, a BOM dropped: itself when it is UTF-8 already."""
    fileobj.seek(0)
    if encoding in ("utf-8", "utf-8-sig"):
        if fileobj.read(len(codecs.BOM_UTF8)) != codecs.BOM_UTF8:
            fileobj.seek(0)
        return fileobj
    return Utf8Stream(fileobj, encoding)


class Utf8Stream(io.RawIOBase):
    """The binary stream ``raw`` (text in ``encoding``) re-encoded as UTF-8, block by block.

    The JSON and XML parsers want UTF-8 bytes; this hands them other encodings without decoding
    the whole file first. ``rewrite_first`` may edit the first decoded block (XML declarations).
    Bytes that are not valid in ``encoding`` raise a FormatError naming where they are.
    """

    def __init__(self, raw: BinaryIO | File, encoding: str, *, rewrite_first=None, block: int = 65536):
        self._raw = raw
        self._encoding = encoding
        self._decoder = codecs.getincrementaldecoder(encoding)()
        self._offset = 0  # bytes of ``raw`` decoded so far
        self._rewrite_first = rewrite_first
        self._block = block
        self._pending = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending and not self._done:
            data = self._raw.read(self._block)
            try:
                text = self._decoder.decode(data, final=not data)
            except UnicodeDecodeError as exc:
                raise FormatError(
                    f"The file is not valid {self._encoding} text near byte {self._offset + exc.start}."
                ) from None
            self._offset += len(data)
            self._done = not data
            if self._rewrite_first is not None and (text or self._done):
                text, self._rewrite_first = self._rewrite_first(text), None
            self._pending = text.encode("utf-8")
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size
