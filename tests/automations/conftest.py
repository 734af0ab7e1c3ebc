"""Loopback servers for the sources, and automations made through the services (the factory)."""

from __future__ import annotations

import pytest

from tests.factories import AutomationFactory

# The loopback servers (sftp_server, ftp_server, http_server) are fixtures of tests/automations/
# fixtures.py, loaded for the whole suite by tests/conftest.py; the tests import these constants.
from .fixtures import CSV, FTP_PASSWORD, FTP_USER, MAPPING, SFTP_PASSWORD, SFTP_USER  # noqa: F401


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    """The test servers live on loopback; the SSRF tests switch this back off."""
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = True


@pytest.fixture
def make_automation(user):
    """Create an automation through the service (owner: ``user``); keyword arguments override."""

    def make(file_source: dict, **overrides):
        values = {"created_by": user, "name": "Daily Supplier A Import", "mapping": MAPPING}
        return AutomationFactory(file_source=file_source, **{**values, **overrides})

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
