"""The interface every remote file source implements, and the registry that finds them by type.

A source streams one remote file into a ``Download``: a temporary file that computes the SHA-256
and the byte count as the bytes arrive and refuses more than ``PIXEE_MAX_UPLOAD_MB``. Every
failure is a ``SourceError`` whose message is the one sentence shown on the run.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import tempfile
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from django.conf import settings

from pixee.netguard import BlockedAddress, resolve_checked

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


@dataclass(frozen=True)
class SourceConfig:
    """A source's settings with the API's names; secrets in clear (never log or return this)."""

    type: str
    host: str = ""
    port: int | None = None
    username: str = ""
    password: str = field(default="", repr=False)
    private_key: str = field(default="", repr=False)
    path: str = ""
    url: str = ""
    host_key: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    tls: bool = False
    authorization: str = field(default="", repr=False)


CONFIG_FIELDS = tuple(f.name for f in fields(SourceConfig))
SECRET_FIELDS = ("password", "private_key", "authorization")


def is_empty(value: Any) -> bool:
    return value in (None, "", {}, False)


class Download:
    """The remote file as it arrives: a temporary file, its SHA-256 and its size, capped.

    Use as a context manager: the temporary file is removed on exit.
    """

    def __init__(self, *, max_bytes: int | None = None, deadline: float = TRANSFER_DEADLINE):
        self.max_bytes = max_bytes if max_bytes is not None else settings.PIXEE_MAX_UPLOAD_MB * 1024 * 1024
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


class FileSource(ABC):
    """One protocol: validates its configuration and streams one remote file."""

    type: ClassVar[str]
    label: ClassVar[str]
    default_port: ClassVar[int | None] = None
    # The file_source fields this type uses (besides ``type``) and those it cannot do without.
    fields: ClassVar[tuple[str, ...]]
    required: ClassVar[tuple[str, ...]]

    def __init__(self, config: SourceConfig):
        self.config = config

    @classmethod
    def clean(cls, config: dict[str, Any]) -> dict[str, Any]:
        """``config`` checked and normalised (default port, stripped strings).

        Raises ``SourceConfigError`` naming every field at fault.
        """
        errors: dict[str, list[str]] = {}
        cleaned = {key: (value.strip() if isinstance(value, str) else value) for key, value in config.items()}
        cleaned["type"] = cls.type
        for name in CONFIG_FIELDS:
            if name != "type" and name not in cls.fields and not is_empty(cleaned.get(name)):
                errors.setdefault(name, []).append(f"{name} does not apply to {cls.type} sources.")
        for name in cls.required:
            if is_empty(cleaned.get(name)):
                errors.setdefault(name, []).append(f"{name} is required for {cls.type} sources.")
        if "port" in cls.fields and cleaned.get("port") in (None, ""):
            cleaned["port"] = cls.default_port
        if cleaned.get("host"):
            message = host_problem(cleaned["host"])
            if message:
                errors.setdefault("host", []).append(message)
        if cleaned.get("path") and any(c in cleaned["path"] for c in "\0\r\n"):
            errors.setdefault("path", []).append("path cannot contain control characters.")
        cls.check(cleaned, errors)
        if errors:
            raise SourceConfigError(errors)
        return cleaned

    @classmethod
    def check(cls, config: dict[str, Any], errors: dict[str, list[str]]) -> None:
        """Type-specific rules; add messages to ``errors``. Nothing by default."""
        return None

    @abstractmethod
    def fetch(self, download: Download) -> str:
        """Stream the remote file into ``download``; return its file name (with its extension)."""

    @property
    def where(self) -> str:
        """The remote end, for messages: ``host:port`` (no credentials, no query string)."""
        return f"{self.config.host}:{self.config.port or self.default_port}"


_HOST = re.compile(r"^[A-Za-z0-9._:\-\[\]%]+$")


def host_problem(host: str) -> str | None:
    if "://" in host or "/" in host:
        return "host is a host name or an IP address, without a scheme or a path."
    if len(host) > 253 or not _HOST.match(host):
        return f"host {host!r} is not a valid host name or IP address."
    return None


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
    except KeyError:
        raise SourceConfigError(
            {"type": [f"type must be one of {', '.join(source_types())}; got {source_type!r}."]}
        ) from None


def source_types() -> list[str]:
    return sorted(_REGISTRY)


def clean_config(config: dict[str, Any]) -> dict[str, Any]:
    """Validate a whole ``file_source`` with the rules of its ``type``."""
    if is_empty(config.get("type")):
        raise SourceConfigError({"type": [f"type is required: one of {', '.join(source_types())}."]})
    return source_for(config["type"]).clean(config)


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
