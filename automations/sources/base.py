"""The interface every remote file source implements, and the registry that finds them by type.

Each source declares its settings (a ``SourceSettings`` dataclass, see settings.py), which say
what it needs, how each value is checked and which are secrets; ``FileSource.clean`` checks a
``file_source`` against them.

A source streams one remote file into a ``Download``: a temporary file that computes the SHA-256
and the byte count as the bytes arrive and refuses more than ``PIXEE_MAX_UPLOAD_MB``. Every
failure is a ``SourceError`` whose message is the one sentence shown on the run.
"""

from __future__ import annotations

import builtins
import hashlib
import os
import re
import socket
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from pixee.limits import max_upload_bytes
from pixee.netguard import BlockedAddress, resolve_checked

from .settings import Declared, SourceSettings, kind_problem, setting

# Seconds. Connecting covers DNS + TCP + the protocol's greeting; reading is the longest silence
# allowed mid-transfer; the deadline bounds the whole fetch, so a run always ends (and a
# "running" run older than ``STALE_AFTER`` can safely be presumed dead).
CONNECT_TIMEOUT = 15
READ_TIMEOUT = 60
TRANSFER_DEADLINE = 30 * 60
STALE_AFTER = TRANSFER_DEADLINE + 5 * 60
CHUNK_SIZE = 64 * 1024


class SourceError(Exception):
    """A fetch failed; the message is the sentence shown on the run.

    ``host_key`` (SFTP) is the public key line the server presented when it was not the pinned one,
    so an operator can pin it in one click.
    """

    def __init__(self, message: str, *, host_key: str = ""):
        super().__init__(message)
        self.host_key = host_key


class SourceConfigError(ValueError):
    """The source configuration is invalid; ``errors`` maps each ``file_source`` field to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def is_empty(value: Any) -> bool:
    return value in (None, "", {}, False)


class Download:
    """The remote file as it arrives: a temporary file, its SHA-256 and its size, capped.

    Use as a context manager: the temporary file is removed on exit.
    """

    def __init__(self, *, max_bytes: int | None = None, deadline: float = TRANSFER_DEADLINE):
        self.max_bytes = max_bytes if max_bytes is not None else max_upload_bytes()
        self.size = 0
        self._hash = hashlib.sha256()
        self._deadline = time.monotonic() + deadline
        self._deadline_seconds = deadline
        fd, name = tempfile.mkstemp(prefix="pixee-source-", suffix=".download")
        self.path = Path(name)
        self._file = os.fdopen(fd, "wb")

    def __enter__(self) -> Download:
        return self

    def __exit__(self, *exc_info) -> None:
        self.discard()

    # Whether the source should also ask the server for the file's modification time (``Probe``).
    wants_modified_at = False

    def expect(self, size: int | None, *, modified_at: datetime | None = None) -> None:
        """Refuse before transferring when the server announces a file over the limit."""
        if size is not None and size > self.max_bytes:
            raise SourceError(self._too_large(size))

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise SourceError(self._too_large(None))
        if time.monotonic() > self._deadline:
            raise SourceError(
                f"The transfer took longer than {self._deadline_seconds // 60} minutes and was abandoned "
                f"after {self.size} bytes."
            )
        self._hash.update(chunk)
        self._file.write(chunk)

    def finish(self) -> None:
        self._file.close()

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def discard(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)

    def _too_large(self, size: int | None) -> str:
        limit_mb = self.max_bytes / (1024 * 1024)
        limit = f"{limit_mb:g} MB" if limit_mb >= 1 else f"{self.max_bytes} bytes"
        what = f"is {size} bytes" if size is not None else "is larger than that"
        return f"The remote file {what}: over the {limit} limit (PIXEE_MAX_UPLOAD_MB)."


S = TypeVar("S", bound=SourceSettings)


class FileSource(ABC, Generic[S]):
    """One protocol: declares its settings (``settings_class``) and streams one remote file."""

    type: ClassVar[str]
    label: ClassVar[str]
    settings_class: ClassVar[builtins.type[SourceSettings]]  # ``type`` is the source's name here

    def __init__(self, settings: S):
        self.settings = settings

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> FileSource:
        """The source ``values`` (a ``file_source`` with the API's names) describe, checked.

        Raises ``SourceConfigError`` naming every field at fault.
        """
        return cls(cls.clean(values))  # type: ignore[arg-type]  # the settings_class's instance

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> FileSource:
        """The source as stored (checked when it was saved)."""
        return cls(cls.settings_class.from_config(config))  # type: ignore[arg-type]  # as above

    @classmethod
    def clean(cls, values: dict[str, Any]) -> SourceSettings:
        """``values`` checked against the declaration; ``None`` (or a missing key) means the default."""
        errors: dict[str, list[str]] = {}
        by_name = {d.name: d for d in cls.settings_class.declared()}
        for name, value in values.items():
            if name != "type" and name not in by_name and not is_empty(value):
                errors.setdefault(name, []).append(f"{name} does not apply to {cls.type} sources.")
        cleaned: dict[str, Any] = {}
        for name, declared in by_name.items():
            value = values.get(name)
            value = declared.fresh_default() if value is None else value
            value = value.strip() if isinstance(value, str) else value
            problem = kind_problem(declared, value)
            if problem:
                errors.setdefault(name, []).append(problem)
            elif is_empty(value):
                if declared.options.required:
                    errors.setdefault(name, []).append(f"{name} is required for {cls.type} sources.")
            elif declared.options.check is not None:
                errors.setdefault(name, []).extend(declared.options.check(value))
            cleaned[name] = value
        cls.check(cleaned, errors)
        errors = {name: messages for name, messages in errors.items() if messages}
        if errors:
            raise SourceConfigError(errors)
        return cls.settings_class(**cleaned)

    @classmethod
    def check(cls, values: dict[str, Any], errors: dict[str, list[str]]) -> None:
        """Rules across settings (each one's own are its ``check``); add messages to ``errors``."""
        return None

    def values(self) -> dict[str, Any]:
        """The ``file_source`` with the API's names, ``type`` included, secrets in clear."""
        return {"type": self.type, **self.settings.to_config()}

    @abstractmethod
    def fetch(self, download: Download) -> str:
        """Stream the remote file into ``download``; return its file name (with its extension)."""

    @property
    @abstractmethod
    def where(self) -> str:
        """The remote end, for messages: ``host:port`` (no credentials, no query string)."""

    @property
    def location(self) -> str:
        """Where the file is, on one line without credentials (the admin's list shows it)."""
        return f"{self.type}://{self.where}{getattr(self.settings, 'path', '')}"


# --- settings several sources declare alike ---------------------------------------------------

_HOST = re.compile(r"^[A-Za-z0-9._:\-\[\]%]+$")


def host_problem(host: str) -> str | None:
    if "://" in host or "/" in host:
        return "host is a host name or an IP address, without a scheme or a path."
    if len(host) > 253 or not _HOST.match(host):
        return f"host {host!r} is not a valid host name or IP address."
    return None


def _host_checks(host: str) -> Iterator[str]:
    if problem := host_problem(host):
        yield problem


def _path_checks(path: str) -> Iterator[str]:
    if any(c in path for c in "\0\r\n"):
        yield "path cannot contain control characters."


def host_setting() -> Any:
    return setting(
        "Host",
        required=True,
        max_length=255,
        check=_host_checks,
        help_text="The server's host name or IP address.",
    )


def port_setting(default: int) -> Any:
    return setting("Port", default=default, min_value=1, max_value=65535, help_text=f"Default {default}.")


def username_setting(*, required: bool = False, help_text: str = "") -> Any:
    return setting("Username", required=required, max_length=255, help_text=help_text)


def password_setting(help_text: str) -> Any:
    return setting("Password", secret=True, help_text=help_text)


def path_setting() -> Any:
    return setting(
        "Path",
        required=True,
        max_length=1024,
        check=_path_checks,
        help_text="The file's path on the server, such as /exports/products.csv.",
    )


def connect(host: str, port: int) -> socket.socket:
    """A TCP connection to ``host`` through the SSRF guard, with ``CONNECT_TIMEOUT``."""
    try:
        address = resolve_checked(host, port)
    except BlockedAddress as exc:
        raise SourceError(str(exc)) from None
    try:
        sock = socket.create_connection((address, port), timeout=CONNECT_TIMEOUT)
    except OSError as exc:
        raise SourceError(connect_failure(host, port, exc)) from None
    sock.settimeout(READ_TIMEOUT)
    return sock


def connect_failure(host: str, port: int | None, exc: BaseException) -> str:
    where = f"{host}:{port}" if port else host
    if isinstance(exc, ConnectionRefusedError):
        return f"Cannot connect to {where}: the connection was refused (nothing listens on that port)."
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"Cannot connect to {where}: no answer within {CONNECT_TIMEOUT} seconds."
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return f"Cannot connect to {where}: {reason.rstrip('.')}."


def read_timed_out(where: str) -> str:
    return f"The server {where} sent nothing for {READ_TIMEOUT} seconds: the transfer timed out."


_REGISTRY: dict[str, type[FileSource]] = {}


def register(source: type[FileSource]) -> type[FileSource]:
    """Class decorator: make ``source`` the implementation of its ``type``."""
    _REGISTRY[source.type] = source
    return source


def source_for(source_type: str) -> type[FileSource]:
    try:
        return _REGISTRY[source_type]
    except (KeyError, TypeError):
        raise SourceConfigError(
            {"type": [f"type must be one of {', '.join(source_types())}; got {source_type!r}."]}
        ) from None


def source_types() -> list[str]:
    return sorted(_REGISTRY)


def sources() -> list[type[FileSource]]:
    return [_REGISTRY[t] for t in source_types()]


def source_from_values(values: dict[str, Any]) -> FileSource:
    """The source a whole ``file_source`` describes, checked with the rules of its ``type``."""
    if is_empty(values.get("type")):
        raise SourceConfigError({"type": [f"type is required: one of {', '.join(source_types())}."]})
    return source_for(values["type"]).from_values(values)


def all_settings() -> dict[str, Declared]:
    """Every setting any source declares, by name, for the shapes that hold them all (the API's
    ``file_source``, the admin form). A name means one thing in every source that declares it;
    its help is each source's, when they differ."""
    union: dict[str, Declared] = {}
    helps: dict[str, dict[str, list[str]]] = {}
    for source in sources():
        for declared in source.settings_class.declared():
            known = union.setdefault(declared.name, declared)
            shape = (declared.kind, declared.options.secret, declared.options.max_length)
            if shape != (known.kind, known.options.secret, known.options.max_length):
                raise TypeError(f"{source.type} declares {declared.name} unlike the other sources do.")
            helps.setdefault(declared.name, {}).setdefault(declared.options.help_text, []).append(source.type)
    for name, by_help in helps.items():
        if len(by_help) > 1:
            text = " ".join(f"{', '.join(types)}: {help_}" for help_, types in by_help.items() if help_)
            union[name] = replace(union[name], options=replace(union[name].options, help_text=text))
    return union


class ProbeFinished(Exception):
    """Raised by ``Probe.expect``: the source found the file; no byte of it is transferred."""


class Probe(Download):
    """A download that stops as soon as the source has found the file: testing a source.

    The source connects, authenticates and locates the file exactly as a run would, then announces
    its size (and modification time) to ``expect``, which ends the session.
    """

    wants_modified_at = True

    def __init__(self) -> None:
        super().__init__()
        self.announced_size: int | None = None
        self.modified_at: datetime | None = None

    def expect(self, size: int | None, *, modified_at: datetime | None = None) -> None:
        self.announced_size, self.modified_at = size, modified_at
        raise ProbeFinished
