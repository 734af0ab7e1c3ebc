"""FTP (ftplib), with explicit FTPS (``AUTH TLS``, certificate verified) when ``tls`` is set.

Always passive mode, binary transfers. Data connections go to the address of the control
connection, never to the one a PASV reply names (ftplib's default, kept on purpose).
"""

from __future__ import annotations

import ftplib
import posixpath
import socket
import ssl
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
    read_timed_out,
    register,
)


def _checked_connect(ftp: ftplib.FTP, host: str, port: int, timeout: float) -> str:
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
        return _checked_connect(self, host, port, timeout)


class _GuardedFTPS(ftplib.FTP_TLS):
    def connect(
        self, host: str = "", port: int = 0, timeout: float = -999, source_address: Any = None
    ) -> str:
        return _checked_connect(self, host, port, timeout)

    def ntransfercmd(self, cmd, rest=None):
        # Servers such as vsftpd (require_ssl_reuse) refuse a data connection that does not
        # resume the control connection's TLS session; ftplib does not do it by itself.
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)  # noqa: S321 - FTPS is the point here
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
        return conn, size


def tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


@register
class FtpSource(FileSource):
    type = "ftp"
    label = "FTP / FTPS"
    default_port = 21
    fields = ("host", "port", "username", "password", "path", "tls")
    required = ("host", "path")

    def fetch(self, download: Download) -> str:
        config = self.config
        ftp: ftplib.FTP = _GuardedFTPS(context=tls_context()) if config.tls else _GuardedFTP()
        try:
            self._connect(ftp)
            self._login(ftp)
            return self._download(ftp, download)
        except TimeoutError:
            raise SourceError(read_timed_out(self.where)) from None
        except ftplib.all_errors as exc:  # EOFError and OSError included
            raise SourceError(f"The FTP session with {self.where} failed ({_reply(exc)}).") from None
        finally:
            ftp.close()

    def _connect(self, ftp: ftplib.FTP) -> None:
        config = self.config
        try:
            ftp.connect(config.host, config.port or 21, timeout=CONNECT_TIMEOUT)
        except BlockedAddress as exc:
            raise SourceError(str(exc)) from None
        except (OSError, EOFError) as exc:
            raise SourceError(connect_failure(config.host, config.port, exc)) from None
        ftp.timeout = READ_TIMEOUT  # data connections too
        if ftp.sock is not None:
            ftp.sock.settimeout(READ_TIMEOUT)
        if isinstance(ftp, ftplib.FTP_TLS):
            try:
                ftp.auth()
            except ssl.SSLCertVerificationError as exc:
                raise SourceError(
                    f"The TLS certificate of {self.where} cannot be trusted ({exc.verify_message})."
                ) from None
            except ftplib.error_perm as exc:
                raise SourceError(
                    f"The FTP server {self.where} does not offer TLS ({_reply(exc)}); "
                    "unset tls to use plain FTP."
                ) from None
            except ssl.SSLError as exc:
                raise SourceError(f"The TLS handshake with {self.where} failed ({exc.reason}).") from None

    def _login(self, ftp: ftplib.FTP) -> None:
        config = self.config
        user = config.username or "anonymous"
        try:
            ftp.login(user, config.password)
        except ftplib.error_perm as exc:
            raise SourceError(
                f"The FTP server {self.where} refused the login of user {user!r} ({_reply(exc)})."
            ) from None
        if isinstance(ftp, ftplib.FTP_TLS):
            ftp.prot_p()  # encrypt the data connection as well
        ftp.voidcmd("TYPE I")  # SIZE counts bytes only in binary mode

    def _download(self, ftp: ftplib.FTP, download: Download) -> str:
        path = self.config.path
        try:
            size = ftp.size(path)
        except ftplib.error_perm as exc:
            if not str(exc).startswith("550"):
                size = None  # the server has no SIZE command: RETR will tell
            else:
                raise SourceError(f"There is no file {path} on {self.where} ({_reply(exc)}).") from None
        download.expect(size, modified_at=_modified_at(ftp, path) if download.wants_modified_at else None)
        try:
            ftp.retrbinary(f"RETR {path}", download.write, blocksize=CHUNK_SIZE)
        except ftplib.error_perm as exc:
            if str(exc).startswith("550"):
                raise SourceError(f"There is no file {path} on {self.where} ({_reply(exc)}).") from None
            raise
        download.finish()
        return posixpath.basename(path)


def _modified_at(ftp: ftplib.FTP, path: str) -> datetime | None:
    """The file's modification time from MDTM (RFC 3659: ``213 YYYYMMDDHHMMSS[.sss]``, UTC)."""
    try:
        reply = ftp.voidcmd(f"MDTM {path}")
    except ftplib.error_perm:
        return None  # a server without MDTM
    try:
        return datetime.strptime(reply.split()[1][:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except (IndexError, ValueError):
        return None


def _reply(exc: BaseException) -> str:
    """The server's reply (or the error) on one line, without a trailing period."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text.rstrip(".")
