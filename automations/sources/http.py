"""HTTP(S) downloads through the SSRF-guarded session: every connection, redirects included,
is checked against private addresses (unless ``PIXEE_ALLOW_PRIVATE_NETWORK``).

Credentials go in ``username``/``password`` (basic auth) or ``authorization`` (the whole
``Authorization`` header value), which are encrypted at rest and never shown; ``headers`` are
shown in responses, so they may not carry credentials.
"""

from __future__ import annotations

import email.message
import email.utils
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import requests
from urllib3.exceptions import ReadTimeoutError

from imports.formats import file_type_from_name
from pixee.netguard import MAX_REDIRECTS, BlockedAddress, guarded_session

from .base import (
    CHUNK_SIZE,
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    Download,
    FileSource,
    SourceError,
    connect_failure,
    password_setting,
    read_timed_out,
    register,
    username_setting,
)
from .settings import SourceSettings, setting

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
CREDENTIAL_HEADERS = {"authorization", "proxy-authorization", "cookie"}
FILE_TYPE_BY_CONTENT_TYPE = {
    "text/csv": "csv",
    "application/csv": "csv",
    "application/json": "json",
    "application/xml": "xml",
    "text/xml": "xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
}


def display_url(url: str) -> str:
    """``url`` without credentials, query or fragment: safe to show and to log."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path or '/'}"


def _url_checks(url: str) -> Iterator[str]:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        yield "url must be an http:// or https:// URL with a host."
    elif parts.username or parts.password:
        yield "url cannot carry credentials: give them as username and password."


def _header_checks(headers: dict[str, Any]) -> Iterator[str]:
    for name, value in headers.items():
        if not _TOKEN.match(str(name)):
            yield f"{name!r} is not a valid header name."
        elif name.lower() in CREDENTIAL_HEADERS:
            yield (
                f"headers are shown in responses, so {name} cannot be one of them: give credentials "
                "as username and password (basic auth) or as authorization (stored encrypted)."
            )
        if not isinstance(value, str) or any(c in value for c in "\r\n\0"):
            yield f"The value of {name} must be one line of text."


@dataclass(frozen=True)
class HttpSettings(SourceSettings):
    url: str = setting(
        "URL",
        required=True,
        max_length=2000,
        check=_url_checks,
        help_text="The file's http:// or https:// URL.",
    )
    headers: dict[str, str] = setting(  # noqa: RUF009 - setting() is a dataclasses.field()
        "Headers",
        default={},
        check=_header_checks,
        help_text="Request headers, as a JSON object; shown in responses, so never credentials.",
    )
    username: str = username_setting(help_text="Basic auth.")
    password: str = password_setting("Basic auth's password.")
    authorization: str = setting(
        "Authorization header",
        secret=True,
        help_text='The whole Authorization header value, such as "Bearer …".',
    )


@register
class HttpSource(FileSource[HttpSettings]):
    type = "http"
    label = "HTTP(S)"
    settings_class = HttpSettings

    @classmethod
    def check(cls, values: dict[str, Any], errors: dict[str, list[str]]) -> None:
        if values["password"] and not values["username"]:
            errors.setdefault("username", []).append("username is required with a password (basic auth).")
        if values["authorization"] and (values["username"] or values["password"]):
            errors.setdefault("authorization", []).append(
                "Give either authorization or username and password (basic auth), not both."
            )

    @property
    def where(self) -> str:
        return display_url(self.settings.url)

    @property
    def location(self) -> str:
        return self.where

    def fetch(self, download: Download) -> str:
        config = self.settings
        headers = dict(config.headers)
        if config.authorization:
            headers["Authorization"] = config.authorization
        auth = (config.username, config.password) if config.username else None
        try:
            with guarded_session() as session:
                response = session.get(
                    config.url,
                    headers=headers,
                    auth=auth,
                    stream=True,
                    timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                    allow_redirects=True,
                )
                with response:
                    self._check_status(response)
                    download.expect(_content_length(response), modified_at=_last_modified(response))
                    for chunk in response.iter_content(CHUNK_SIZE):
                        download.write(chunk)
                    download.finish()
                    return self._file_name(response)
        except BlockedAddress as exc:
            raise SourceError(str(exc)) from None
        except requests.ConnectTimeout:
            raise SourceError(
                f"Cannot connect to {self.where}: no answer within {CONNECT_TIMEOUT} seconds."
            ) from None
        except requests.ReadTimeout:
            raise SourceError(read_timed_out(self.where)) from None
        except requests.TooManyRedirects:
            raise SourceError(f"{self.where} redirects more than {MAX_REDIRECTS} times.") from None
        except requests.exceptions.SSLError as exc:
            raise SourceError(
                f"The TLS connection to {self.where} failed ({_root_cause(exc)}); is its certificate valid?"
            ) from None
        except requests.ConnectionError as exc:
            if _find(exc, ReadTimeoutError) or _find(exc, TimeoutError):
                raise SourceError(read_timed_out(self.where)) from None
            cause = _find(exc, OSError)
            parts = urlsplit(config.url)
            if cause is not None:
                raise SourceError(connect_failure(parts.hostname or "", parts.port, cause)) from None
            raise SourceError(f"The connection to {self.where} broke off ({_root_cause(exc)}).") from None
        except requests.RequestException as exc:
            raise SourceError(f"The request to {self.where} failed ({type(exc).__name__}).") from None

    def _check_status(self, response: requests.Response) -> None:
        code, reason = response.status_code, response.reason or ""
        if code == 200:
            return
        answered = f"HTTP {code} {reason}".strip()
        if code in (401, 403):
            raise SourceError(
                f"{self.where} refused access ({answered}): check username and password or authorization."
            )
        if code in (404, 410):
            raise SourceError(f"There is no file at {self.where} ({answered}).")
        raise SourceError(f"{self.where} answered {answered} instead of a file.")

    def _file_name(self, response: requests.Response) -> str:
        """The server's name for the file, else the URL's; with an extension the imports know."""
        candidates = []
        disposition = response.headers.get("Content-Disposition")
        if disposition:
            message = email.message.Message()
            message["Content-Disposition"] = disposition
            if name := message.get_filename():
                candidates.append(posixpath.basename(name.replace("\\", "/")))
        for url in (response.url, self.settings.url):
            candidates.append(posixpath.basename(unquote(urlsplit(url).path)))
        for name in candidates:
            if name and file_type_from_name(name):
                return name
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        base = next((n for n in candidates if n), "download")
        if content_type in FILE_TYPE_BY_CONTENT_TYPE:
            return f"{base}.{FILE_TYPE_BY_CONTENT_TYPE[content_type]}"
        return base


def _content_length(response: requests.Response) -> int | None:
    try:
        return int(response.headers["Content-Length"])
    except (KeyError, ValueError):
        return None


def _last_modified(response: requests.Response) -> datetime | None:
    try:
        return email.utils.parsedate_to_datetime(response.headers["Last-Modified"])
    except (KeyError, TypeError, ValueError):
        return None


def _find(exc: BaseException | None, kind: type, depth: int = 0) -> Any:
    """The first ``kind`` among ``exc``, its arguments, reasons and causes (requests nests them).

    requests' own exceptions are ``OSError``s too: they are looked into, never returned.
    """
    if exc is None or depth > 8:
        return None
    if isinstance(exc, kind) and not isinstance(exc, requests.RequestException):
        return exc
    for inner in (*getattr(exc, "args", ()), getattr(exc, "reason", None), exc.__cause__, exc.__context__):
        if isinstance(inner, BaseException) and (found := _find(inner, kind, depth + 1)) is not None:
            return found
    return None


def _root_cause(exc: BaseException) -> str:
    """The innermost reason, without the URL (its query string may hold a token)."""
    inner: BaseException = exc
    for _ in range(8):
        nested = next(
            (
                a
                for a in (*getattr(inner, "args", ()), getattr(inner, "reason", None), inner.__cause__)
                if isinstance(a, BaseException)
            ),
            None,
        )
        if nested is None:
            break
        inner = nested
    text = getattr(inner, "reason", None) or getattr(inner, "strerror", None) or type(inner).__name__
    return str(text).rstrip(".")
