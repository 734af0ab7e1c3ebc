"""FTP (ftplib): plain FTP; ftps.py adds TLS to it.

Always passive mode, binary transfers. Data connections go to the address of the control
connection, never to the one a PASV reply names (ftplib's default, kept on purpose).
"""

from __future__ import annotations

import ftplib
import posixpath
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pixee.netguard import BlockedAddress, resolve_checked

from .base import (
    CHUNK_SIZE,
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    Download,
    FileSource,
    SourceError,
    connect_failure,
    host_setting,
    password_setting,
    path_setting,
    port_setting,
    read_timed_out,
    register,
    username_setting,
)
from .settings import SourceSettings


def checked_connect(ftp: ftplib.FTP, host: str, port: int, timeout: float) -> str:
    """``FTP.connect`` to the address the SSRF guard checked; ``host`` keeps the name (for TLS)."""
    ftp.host, ftp.port, ftp.timeout = host, port, timeout
    ftp.sock = socket.create_connection((resolve_checked(host, port), port), timeout)
    ftp.af = ftp.sock.family
    ftp.file = ftp.sock.makefile("r", encoding=ftp.encoding)
    ftp.welcome = ftp.getresp()
    return ftp.welcome


class _GuardedFTP(ftplib.FTP):
    def connect(
        self, host: str = "", port: int = 0, timeout: float = -999, source_address: Any = None
    ) -> str:
        return checked_connect(self, host, port, timeout)


@dataclass(frozen=True)
class FtpSettings(SourceSettings):
    host: str = host_setting()
    port: int = port_setting(21)
    username: str = username_setting(help_text="Empty: log in as anonymous.")
    password: str = password_setting("The login's password.")
    path: str = path_setting()


@register
class FtpSource(FileSource[FtpSettings]):
    type = "ftp"
    label = "FTP"
    settings_class = FtpSettings

    @property
    def where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def fetch(self, download: Download) -> str:
        ftp = self.client()
        try:
            self._connect(ftp)
            self._login(ftp)
            return self._download(ftp, download)
        except TimeoutError:
            raise SourceError(read_timed_out(self.where)) from None
        except ftplib.all_errors as exc:  # EOFError and OSError included
            raise SourceError(f"The FTP session with {self.where} failed ({reply(exc)}).") from None
        finally:
            ftp.close()

    # What FTPS changes (ftps.py): the client, securing the control connection, then the data's.

    def client(self) -> ftplib.FTP:
        return _GuardedFTP()

    def secure_control(self, ftp: ftplib.FTP) -> None:
        """Plain FTP: nothing to secure."""

    def secure_data(self, ftp: ftplib.FTP) -> None:
        """Plain FTP: nothing to secure."""

    def _connect(self, ftp: ftplib.FTP) -> None:
        config = self.settings
        try:
            ftp.connect(config.host, config.port, timeout=CONNECT_TIMEOUT)
        except BlockedAddress as exc:
            raise SourceError(str(exc)) from None
        except (OSError, EOFError) as exc:
            raise SourceError(connect_failure(config.host, config.port, exc)) from None
        ftp.timeout = READ_TIMEOUT  # data connections too
        if ftp.sock is not None:
            ftp.sock.settimeout(READ_TIMEOUT)
        self.secure_control(ftp)

    def _login(self, ftp: ftplib.FTP) -> None:
        config = self.settings
        user = config.username or "anonymous"
        try:
            ftp.login(user, config.password)
        except ftplib.error_perm as exc:
            raise SourceError(
                f"The FTP server {self.where} refused the login of user {user!r} ({reply(exc)})."
            ) from None
        self.secure_data(ftp)
        ftp.voidcmd("TYPE I")  # SIZE counts bytes only in binary mode

    def _download(self, ftp: ftplib.FTP, download: Download) -> str:
        path = self.settings.path
        try:
            size = ftp.size(path)
        except ftplib.error_perm as exc:
            if not str(exc).startswith("550"):
                size = None  # the server has no SIZE command: RETR will tell
            else:
                raise SourceError(f"There is no file {path} on {self.where} ({reply(exc)}).") from None
        download.expect(size, modified_at=_modified_at(ftp, path) if download.wants_modified_at else None)
        try:
            ftp.retrbinary(f"RETR {path}", download.write, blocksize=CHUNK_SIZE)
        except ftplib.error_perm as exc:
            if str(exc).startswith("550"):
                raise SourceError(f"There is no file {path} on {self.where} ({reply(exc)}).") from None
            raise
        download.finish()
        return posixpath.basename(path)


def _modified_at(ftp: ftplib.FTP, path: str) -> datetime | None:
    """The file's modification time from MDTM (RFC 3659: ``213 YYYYMMDDHHMMSS[.sss]``, UTC)."""
    try:
        answer = ftp.voidcmd(f"MDTM {path}")
    except ftplib.error_perm:
        return None  # a server without MDTM
    try:
        return datetime.strptime(answer.split()[1][:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except (IndexError, ValueError):
        return None


def reply(exc: BaseException) -> str:
    """The server's reply (or the error) on one line, without a trailing period."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text.rstrip(".")
