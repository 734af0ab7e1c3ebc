"""Explicit FTPS (``AUTH TLS``, RFC 4217): FTP with the control and the data connections encrypted
and the server's certificate verified against the system's trusted authorities."""

from __future__ import annotations

import ftplib
import ssl
from typing import Any, cast

from .base import SourceError, register
from .ftp import FtpSource, checked_connect, reply


class _GuardedFTPS(ftplib.FTP_TLS):
    def connect(
        self, host: str = "", port: int = 0, timeout: float = -999, source_address: Any = None
    ) -> str:
        return checked_connect(self, host, port, timeout)

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
class FtpsSource(FtpSource):
    """The FTP source's settings and session, over TLS."""

    type = "ftps"
    label = "FTPS (explicit TLS)"

    def client(self) -> ftplib.FTP:
        return _GuardedFTPS(context=tls_context())

    def secure_control(self, ftp: ftplib.FTP) -> None:
        try:
            cast(ftplib.FTP_TLS, ftp).auth()  # the client() above
        except ssl.SSLCertVerificationError as exc:
            raise SourceError(
                f"The TLS certificate of {self.where} cannot be trusted ({exc.verify_message})."
            ) from None
        except ftplib.error_perm as exc:
            raise SourceError(
                f"The FTP server {self.where} does not offer TLS ({reply(exc)}); "
                "choose the ftp type to use plain FTP."
            ) from None
        except ssl.SSLError as exc:
            raise SourceError(f"The TLS handshake with {self.where} failed ({exc.reason}).") from None

    def secure_data(self, ftp: ftplib.FTP) -> None:
        cast(ftplib.FTP_TLS, ftp).prot_p()
