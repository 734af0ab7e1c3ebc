"""Loopback file servers holding a small catalog, as pytest fixtures (automations and admin tests)."""

from __future__ import annotations

import pytest

from .servers import FtpServer, HttpServer, SftpServer

CSV = b"EAN;Titre;Prix HT\n3760000000017;Chaise;29,99\n3760000000024;Table;149,00\n"
MAPPING = {"EAN": "ean", "Titre": "name", "Prix HT": "price"}
SFTP_USER, SFTP_PASSWORD = "alice", "sftp-pa55-never-shown"
FTP_USER, FTP_PASSWORD = "bob", "ftp-pa55-never-shown"


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
