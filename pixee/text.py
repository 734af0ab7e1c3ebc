"""Text a database column can hold: PostgreSQL's text and jsonb refuse NUL, and UTF-8 cannot
encode a lone UTF-16 surrogate (JSON's ``"\\ud800"`` escape makes one)."""

import re

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"
# What str.strip() and str.isspace() take for whitespace, for code that strips outside Python
# (polars' own idea of whitespace leaves out U+001C–U+001F). A test checks it against Python.
PYTHON_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


def unstorable(text: str) -> str | None:
    """What in ``text`` no column can hold, described for a message; None when all is fine."""
    if text.isascii():  # the common case, and the cheap test
        return "a NUL character (U+0000)" if "\x00" in text else None
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "a NUL character (U+0000)"
    return f"a lone UTF-16 surrogate (U+{ord(found.group()):04X}), which is not a character"


def storable(text: str) -> str:
    """``text`` with what no column can hold replaced by U+FFFD, for logs and messages."""
    return _UNSTORABLE.sub(REPLACEMENT, text) if unstorable(text) else text
