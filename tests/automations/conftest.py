"""Loopback servers for the sources, and a factory of automations that go through the services."""

from __future__ import annotations

import pytest

from automations import services

from .servers import FtpServer, HttpServer, SftpServer

CSV = b"EAN;Titre;Prix HT\n3760000000017;Chaise;29,99\n3760000000024;Table;149,00\n"
MAPPING = {"EAN": "ean", "Titre": "name", "Prix HT": "price"}
SFTP_USER, SFTP_PASSWORD = "alice", "sftp-pa55-never-shown"
FTP_USER, FTP_PASSWORD = "bob", "ftp-pa55-never-shown"


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    """The test servers live on loopback; the SSRF tests switch this back off."""
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = True


@pytest.fixture
def sftp_server(tmp_path):
    root = tmp_path / "sftp"
    (root / "exports").mkdir(parents=True)
    (root / "exports" / "products.csv").write_bytes(CSV)
    server = SftpServer(root)
    server.users[SFTP_USER] = SFTP_PASSWORD
    yield server
    server.close()


@pytest.fixture
def ftp_server(tmp_path):
    root = tmp_path / "ftp"
    (root / "exports").mkdir(parents=True)
    (root / "exports" / "products.csv").write_bytes(CSV)
    server = FtpServer(root, {FTP_USER: FTP_PASSWORD})
    server.root = root
    yield server
    server.close()


@pytest.fixture
def http_server():
    server = HttpServer()
    server.files["/exports/products.csv"] = CSV
    yield server
    server.close()


@pytest.fixture
def make_automation(user):
    """Create an automation through the service (owner: ``user``); keyword arguments override."""

    def make(file_source: dict, **overrides):
        values = {
            "user": user,
            "name": "Daily Supplier A Import",
            "supplier_code": "SUPPLIER_A",
            "schedule": "0 2 * * *",
            "file_source": file_source,
            "mapping": MAPPING,
        }
        values.update(overrides)
        return services.automation_create(**values)

    return make


@pytest.fixture
def sftp_source(sftp_server):
    return {
        "type": "sftp",
        "host": "127.0.0.1",
        "port": sftp_server.port,
        "username": SFTP_USER,
        "password": SFTP_PASSWORD,
        "path": "/exports/products.csv",
        "host_key": sftp_server.fingerprint,
    }


@pytest.fixture
def ftp_source(ftp_server):
    return {
        "type": "ftp",
        "host": "127.0.0.1",
        "port": ftp_server.port,
        "username": FTP_USER,
        "password": FTP_PASSWORD,
        "path": "/exports/products.csv",
    }


@pytest.fixture
def http_source(http_server):
    return {"type": "http", "url": http_server.url("/exports/products.csv")}
