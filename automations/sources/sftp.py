"""SFTP (paramiko): password or private-key login, and a host key that must be pinned.

The server's key is never trusted on first use: an unpinned or different key fails the run with
the server's ``SHA256:`` fingerprint, which the operator pins after checking it with the supplier.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import posixpath
import stat
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .base import (
    CHUNK_SIZE,
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    Download,
    FileSource,
    SourceError,
    connect,
    host_setting,
    password_setting,
    path_setting,
    port_setting,
    read_timed_out,
    register,
    username_setting,
)
from .settings import SourceSettings, setting

KEY_TYPES = (
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
)
# The host key algorithms paramiko may negotiate for a pinned key type (RSA has three signatures).
_NEGOTIATED = {"ssh-rsa": ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa")}
HOST_KEY_HELP = (
    'host_key must be the server\'s public key line (such as "ssh-ed25519 AAAA…", as ssh-keyscan '
    'prints it) or its fingerprint (such as "SHA256:…", as ssh-keygen -lf prints it).'
)


def fingerprint(blob: bytes) -> str:
    """OpenSSH's ``SHA256:`` fingerprint of a public key blob."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


@dataclass(frozen=True)
class HostKeyPin:
    fingerprint: str
    key_type: str | None  # known when a whole key line was pinned


def parse_host_key(value: str) -> HostKeyPin:
    """The pin described by ``value``; ``ValueError`` with a sentence when it is not one."""
    value = value.strip()
    if value.startswith("SHA256:"):
        digest = value[len("SHA256:") :]
        try:
            raw = base64.b64decode(digest + "=" * (-len(digest) % 4), validate=True)
        except binascii.Error:
            raw = b""
        if len(raw) != 32:
            raise ValueError(f"host_key {value!r} is not a SHA256 fingerprint. {HOST_KEY_HELP}")
        return HostKeyPin(value, None)
    tokens = value.split()
    # A key line may start with known_hosts host names or end with a comment: find "<type> <base64>".
    for i, token in enumerate(tokens[:-1]):
        if token in KEY_TYPES:
            try:
                blob = base64.b64decode(tokens[i + 1], validate=True)
                (length,) = struct.unpack(">I", blob[:4])
                embedded = blob[4 : 4 + length].decode()
            except (binascii.Error, struct.error, UnicodeDecodeError):
                raise ValueError(
                    f"host_key's {token} key data is not valid base64. {HOST_KEY_HELP}"
                ) from None
            if embedded != token:
                raise ValueError(f"host_key says {token} but its key data is a {embedded} key.")
            return HostKeyPin(fingerprint(blob), token)
    raise ValueError(HOST_KEY_HELP)


def load_private_key(text: str, passphrase: str | None) -> Any:
    """A paramiko key from PEM or OpenSSH text (RSA, Ed25519 or ECDSA).

    ``ValueError`` with a sentence that never quotes the key.
    """
    import paramiko
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    loaded = _load_private_key(text.strip().encode() + b"\n", passphrase)
    key_class: Any
    if isinstance(loaded, rsa.RSAPrivateKey):
        key_class = paramiko.RSAKey
    elif isinstance(loaded, ed25519.Ed25519PrivateKey):
        key_class = paramiko.Ed25519Key
    elif isinstance(loaded, ec.EllipticCurvePrivateKey):
        key_class = paramiko.ECDSAKey
    else:
        raise ValueError("private_key is neither an RSA, an Ed25519 nor an ECDSA key.")
    # paramiko reads the unencrypted OpenSSH form of all three; the clear key stays in memory.
    openssh = loaded.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    return key_class.from_private_key(io.StringIO(openssh.decode()))


def _load_private_key(data: bytes, passphrase: str | None) -> Any:
    from cryptography.hazmat.primitives import serialization

    # OpenSSH's own format first, then PEM (PKCS#1, PKCS#8, SEC1), as OpenSSH does.
    for loader in (serialization.load_ssh_private_key, serialization.load_pem_private_key):
        try:
            return loader(data, password=None)
        except TypeError:
            pass  # encrypted: needs the passphrase
        except Exception:  # noqa: S112 - not this format (the loaders raise several kinds)
            continue
        if not passphrase:
            raise ValueError("private_key is encrypted: give its passphrase as password.")
        try:
            return loader(data, password=passphrase.encode())
        except Exception:
            raise ValueError("private_key cannot be decrypted with the given password.") from None
    raise ValueError("private_key is not a PEM or OpenSSH private key (RSA, Ed25519 or ECDSA).")


def _host_key_checks(value: str) -> Iterator[str]:
    try:
        parse_host_key(value)
    except ValueError as exc:
        yield str(exc)


@dataclass(frozen=True)
class SftpSettings(SourceSettings):
    host: str = host_setting()
    port: int = port_setting(22)
    username: str = username_setting(required=True)
    password: str = password_setting("The login's password, or the private key's passphrase.")
    private_key: str = setting(
        "Private key",
        secret=True,
        multiline=True,
        help_text="PEM or OpenSSH private key (RSA, Ed25519 or ECDSA); password is its passphrase if any.",
    )
    path: str = path_setting()
    host_key: str = setting(
        "Host key",
        multiline=True,
        check=_host_key_checks,
        help_text="The server's public key line or its SHA256: fingerprint.",
    )


@register
class SftpSource(FileSource[SftpSettings]):
    type = "sftp"
    label = "SFTP"
    settings_class = SftpSettings

    @classmethod
    def check(cls, values: dict[str, Any], errors: dict[str, list[str]]) -> None:
        if values["private_key"] and "private_key" not in errors:
            try:
                load_private_key(values["private_key"], values["password"] or None)
            except ValueError as exc:
                errors.setdefault("private_key", []).append(str(exc))

    @property
    def where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def fetch(self, download: Download) -> str:
        import paramiko

        config = self.settings
        pin = parse_host_key(config.host_key) if config.host_key else None
        sock = connect(config.host, config.port)
        transport = paramiko.Transport(sock)
        try:
            transport.banner_timeout = CONNECT_TIMEOUT
            transport.handshake_timeout = CONNECT_TIMEOUT
            transport.auth_timeout = CONNECT_TIMEOUT
            if pin and pin.key_type:
                # A server with several host keys shows the one negotiated: ask for the pinned type.
                preferred = _NEGOTIATED.get(pin.key_type, (pin.key_type,))
                options = transport.get_security_options()
                options.key_types = [*preferred, *(t for t in options.key_types if t not in preferred)]
            try:
                transport.start_client(timeout=CONNECT_TIMEOUT)
            except (paramiko.SSHException, EOFError, OSError) as exc:
                raise SourceError(
                    f"The SSH handshake with {self.where} failed ({_reason(exc)}); is it an SFTP server?"
                ) from None
            self._check_host_key(transport.get_remote_server_key(), pin)
            self._authenticate(transport)
            return self._download(paramiko.SFTPClient.from_transport(transport), download)
        except TimeoutError:
            raise SourceError(read_timed_out(self.where)) from None
        except (paramiko.SSHException, EOFError) as exc:
            raise SourceError(f"The SFTP session with {self.where} broke off ({_reason(exc)}).") from None
        finally:
            transport.close()

    def _check_host_key(self, key: Any, pin: HostKeyPin | None) -> None:
        presented = fingerprint(key.asbytes())
        line = f"{key.get_name()} {key.get_base64()}"
        if pin is None:
            raise SourceError(
                f"The SFTP server {self.where} presented the {key.get_name()} host key {presented}, "
                f"and no host_key is pinned: if that is your supplier's server, set host_key to {presented}.",
                host_key=line,
            )
        if pin.fingerprint != presented:
            raise SourceError(
                f"The SFTP server {self.where} presented the {key.get_name()} host key {presented}, not the "
                f"pinned {pin.fingerprint}: the server or its key changed; if the change is expected, "
                f"set host_key to {presented}.",
                host_key=line,
            )

    def _authenticate(self, transport: Any) -> None:
        import paramiko

        config, user = self.settings, self.settings.username
        try:
            if config.private_key:
                try:
                    key = load_private_key(config.private_key, config.password or None)
                except ValueError as exc:
                    raise SourceError(str(exc)) from None
                transport.auth_publickey(user, key)
            elif config.password:
                transport.auth_password(user, config.password)
            else:
                raise SourceError("The SFTP source has neither a password nor a private_key to log in with.")
        except paramiko.BadAuthenticationType as exc:
            allowed = ", ".join(exc.allowed_types) or "nothing"
            raise SourceError(
                f"The SFTP server {self.where} does not accept this kind of login for user {user!r} "
                f"(it allows: {allowed})."
            ) from None
        except paramiko.AuthenticationException:
            what = "private key" if config.private_key else "password"
            raise SourceError(f"The SFTP server {self.where} refused the {what} of user {user!r}.") from None

    def _download(self, sftp: Any, download: Download) -> str:
        path = self.settings.path
        sftp.get_channel().settimeout(READ_TIMEOUT)
        try:
            attributes = sftp.stat(path)
            if stat.S_ISDIR(attributes.st_mode or 0):
                raise SourceError(f"{path} on {self.where} is a directory, not a file.")
            modified = attributes.st_mtime
            download.expect(
                attributes.st_size,
                modified_at=datetime.fromtimestamp(modified, tz=UTC) if modified is not None else None,
            )
            with sftp.open(path, "rb") as remote:
                remote.prefetch(attributes.st_size)
                while chunk := remote.read(CHUNK_SIZE):
                    download.write(chunk)
        except FileNotFoundError:
            raise SourceError(f"There is no file {path} on {self.where}.") from None
        except PermissionError:
            raise SourceError(
                f"User {self.settings.username!r} may not read {path} on {self.where} (permission denied)."
            ) from None
        download.finish()
        return posixpath.basename(path)


def _reason(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__).rstrip(".")
