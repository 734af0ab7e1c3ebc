"""Real SFTP, FTP and HTTP servers on loopback, each in a thread, serving a temporary directory."""

from __future__ import annotations

import base64
import http.server
import os
import socket
import threading
import time
import warnings
from pathlib import Path

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from automations.sources.sftp import fingerprint

# --- keys ------------------------------------------------------------------------------------


def private_key_text(kind: str = "ed25519", *, fmt: str = "openssh", passphrase: str | None = None) -> str:
    """A new private key as text: ``kind`` ed25519, rsa or ecdsa; ``fmt`` openssh or pem."""
    if kind == "ed25519":
        key = ed25519.Ed25519PrivateKey.generate()
    elif kind == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        key = ec.generate_private_key(ec.SECP256R1())
    encryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    private_format = (
        serialization.PrivateFormat.OpenSSH
        if fmt == "openssh"
        else (
            serialization.PrivateFormat.TraditionalOpenSSL
            if kind != "ed25519"
            else serialization.PrivateFormat.PKCS8
        )
    )
    return key.private_bytes(serialization.Encoding.PEM, private_format, encryption).decode()


def paramiko_key(text: str, passphrase: str | None = None) -> paramiko.PKey:
    from automations.sources.sftp import load_private_key

    return load_private_key(text, passphrase)


def key_line(key: paramiko.PKey) -> str:
    return f"{key.get_name()} {key.get_base64()}"


def key_fingerprint(key: paramiko.PKey) -> str:
    return fingerprint(key.asbytes())


# --- SFTP ------------------------------------------------------------------------------------


class _SshServer(paramiko.ServerInterface):
    def __init__(self, owner: SftpServer):
        self.owner = owner

    def get_allowed_auths(self, username):
        return "password,publickey"

    def check_auth_password(self, username, password):
        if self.owner.users.get(username) == password:
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_auth_publickey(self, username, key):
        allowed = self.owner.authorized_keys.get(username, [])
        if any(key.asbytes() == k.asbytes() for k in allowed):
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_channel_request(self, kind, chanid):
        return (
            paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
        )


class _Handle(paramiko.SFTPHandle):
    def stat(self):
        return paramiko.SFTPAttributes.from_stat(os.fstat(self.readfile.fileno()))


class _SftpInterface(paramiko.SFTPServerInterface):
    """Read-only SFTP over ``root``: the client's "/" is ``root``."""

    def __init__(self, server, *args, root: Path, **kwargs):
        super().__init__(server, *args, **kwargs)
        self.root = root

    def _local(self, path: str) -> Path:
        return self.root / os.path.normpath("/" + path).lstrip("/")

    def canonicalize(self, path):
        return os.path.normpath("/" + path)

    def stat(self, path):
        try:
            return paramiko.SFTPAttributes.from_stat(os.stat(self._local(path)))
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno)

    lstat = stat

    def open(self, path, flags, attr):
        try:
            fileobj = open(self._local(path), "rb")  # noqa: SIM115
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno)
        handle = _Handle(flags)
        handle.readfile = fileobj
        handle.filename = str(self._local(path))
        return handle

    def list_folder(self, path):
        local = self._local(path)
        return [paramiko.SFTPAttributes.from_stat(os.stat(local / n), n) for n in os.listdir(local)]


class SftpServer:
    """``users`` (name → password) and ``authorized_keys`` (name → keys) may change at any time."""

    def __init__(self, root: Path):
        self.root = root
        self.host_key = paramiko_key(private_key_text("ed25519"))
        self.users: dict[str, str] = {}
        self.authorized_keys: dict[str, list[paramiko.PKey]] = {}
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._transports: list[paramiko.Transport] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def fingerprint(self) -> str:
        return key_fingerprint(self.host_key)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            conn.settimeout(None)
            transport = paramiko.Transport(conn)
            transport.add_server_key(self.host_key)
            transport.set_subsystem_handler("sftp", paramiko.SFTPServer, _SftpInterface, root=self.root)
            try:
                transport.start_server(server=_SshServer(self))
            except (paramiko.SSHException, EOFError, OSError):
                continue
            # The sftp subsystem handler serves the channel; nobody calls accept(), which keeps a
            # reference to it (a channel that is garbage-collected closes itself).
            self._transports.append(transport)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()
        for transport in self._transports:
            transport.close()


# --- FTP -------------------------------------------------------------------------------------


class FtpServer:
    """pyftpdlib; with ``certfile``, explicit FTPS (``AUTH TLS``) is offered."""

    def __init__(self, root: Path, users: dict[str, str], *, certfile: Path | None = None):
        with warnings.catch_warnings():  # pyftpdlib still builds on asyncore/asynchat
            warnings.simplefilter("ignore", DeprecationWarning)
            from pyftpdlib.authorizers import DummyAuthorizer
            from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler
            from pyftpdlib.servers import FTPServer

        authorizer = DummyAuthorizer()
        for name, password in users.items():
            authorizer.add_user(name, password, str(root), perm="elr")
        # No 3-second penalty after a wrong password: the tests fail logins on purpose.
        attributes = {"authorizer": authorizer, "timeout": 30, "auth_failed_timeout": 0}
        if certfile is not None:
            attributes.update(certfile=str(certfile), tls_control_required=True, tls_data_required=True)
        handler = type("Handler", (TLS_FTPHandler if certfile else FTPHandler,), attributes)
        self.server = FTPServer(("127.0.0.1", 0), handler)
        self.port = self.server.address[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            self.server.serve_forever(timeout=0.05, blocking=False, handle_exit=False)
        self.server.close_all()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def self_signed_certificate(directory: Path) -> Path:
    """A PEM file with a key and a self-signed certificate for 127.0.0.1."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    path = directory / "server.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        + certificate.public_bytes(serialization.Encoding.PEM)
    )
    return path


# --- HTTP ------------------------------------------------------------------------------------


class HttpServer:
    """Serves ``files`` (path → bytes); ``routes`` may override a path with a callable(handler)."""

    def __init__(self, host: str = "127.0.0.1"):
        self.host = host
        self.files: dict[str, bytes] = {}
        self.basic_auth: tuple[str, str] | None = None
        self.authorization: str | None = None
        self.requests: list[dict] = []
        self.delay = 0.0
        self.last_modified: str | None = None
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                owner.requests.append({"path": self.path, "headers": dict(self.headers)})
                path = self.path.split("?")[0]
                if path.startswith("/redirect"):
                    target = self.path.split("to=", 1)[1]
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.end_headers()
                    return
                if not owner._authorized(self.headers.get("Authorization")):
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="test"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = owner.files.get(path)
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/csv")
                self.send_header("Content-Length", str(len(body)))
                if owner.last_modified:
                    self.send_header("Last-Modified", owner.last_modified)
                self.end_headers()
                if owner.delay:
                    half = len(body) // 2
                    self.wfile.write(body[:half])
                    self.wfile.flush()
                    time.sleep(owner.delay)
                    self.wfile.write(body[half:])
                else:
                    self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_port
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def _authorized(self, header: str | None) -> bool:
        if self.basic_auth is not None:
            expected = base64.b64encode(f"{self.basic_auth[0]}:{self.basic_auth[1]}".encode()).decode()
            return header == f"Basic {expected}"
        if self.authorization is not None:
            return header == self.authorization
        return True

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def closed_port() -> int:
    """A loopback port where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
