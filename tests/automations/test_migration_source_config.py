"""Migration 0002 moves every automation's settings and secrets from columns into the encrypted
configuration, and back: automations of every type are made at 0001, migrated and read back."""

import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from automations.models import Automation
from pixee import crypto

from .servers import private_key_text

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("automations", "0001_initial")]
AFTER = [("automations", "0002_source_config_and_on_invalid_value")]
KEY = private_key_text("ed25519", passphrase="sftp-passphrase")
HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
# The columns of each automation made at 0001 (as the services wrote them: unused ones empty).
OLD_ROWS = {
    "sftp": {
        "source_type": "sftp",
        "host": "sftp.supplier.com",
        "port": 2222,
        "username": "alice",
        "password": "sftp-passphrase",
        "private_key": KEY,
        "path": "/exports/products.csv",
        "host_key": HOST_KEY,
    },
    "ftp": {
        "source_type": "ftp",
        "host": "ftp.supplier.com",
        "port": 21,
        "username": "bob",
        "password": "ftp-pa55",
        "path": "/out/p.xml",
    },
    "ftps": {
        "source_type": "ftp",
        "tls": True,
        "host": "ftps.supplier.com",
        "port": 990,
        "username": "",
        "password": "",
        "path": "/p.csv",
    },
    "http basic": {
        "source_type": "http",
        "url": "https://feeds.example.com/a.csv?k=1",
        "headers": {"X-Feed": "pim"},
        "username": "feed",
        "password": "http-pa55",
    },
    "http token": {
        "source_type": "http",
        "url": "https://feeds.example.com/b.json",
        "http_authorization": "Bearer tok",
    },
    # A value set by hand in a column its type does not use: carried over, and back.
    "stray": {"source_type": "http", "url": "https://x.example/c.csv", "host": "left.example.com"},
}
# What each becomes: its type and its settings by their API names.
NEW = {
    "sftp": (
        "sftp",
        {
            "host": "sftp.supplier.com",
            "port": 2222,
            "username": "alice",
            "password": "sftp-passphrase",
            "private_key": KEY,
            "path": "/exports/products.csv",
            "host_key": HOST_KEY,
        },
    ),
    "ftp": (
        "ftp",
        {
            "host": "ftp.supplier.com",
            "port": 21,
            "username": "bob",
            "password": "ftp-pa55",
            "path": "/out/p.xml",
        },
    ),
    "ftps": (
        "ftps",
        {"host": "ftps.supplier.com", "port": 990, "username": "", "password": "", "path": "/p.csv"},
    ),
    "http basic": (
        "http",
        {
            "url": "https://feeds.example.com/a.csv?k=1",
            "headers": {"X-Feed": "pim"},
            "username": "feed",
            "password": "http-pa55",
            "authorization": "",
        },
    ),
    "http token": (
        "http",
        {
            "url": "https://feeds.example.com/b.json",
            "headers": {},
            "username": "",
            "password": "",
            "authorization": "Bearer tok",
        },
    ),
    "stray": (
        "http",
        {
            "url": "https://x.example/c.csv",
            "headers": {},
            "username": "",
            "password": "",
            "authorization": "",
            "host": "left.example.com",
        },
    ),
}


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def at_0001():
    """The database at automations 0001 for the test, and back at the latest afterwards."""
    apps = _migrate(BEFORE)
    yield apps
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def _raw(table_column: str, pk) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {table_column} FROM automations_automation WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_every_setting_and_secret_survives_the_migration_both_ways(at_0001, user):
    OldAutomation = at_0001.get_model("automations", "Automation")
    made = {
        name: OldAutomation.objects.create(
            created_by_id=user.pk, name=name, schedule="0 2 * * *", **columns
        ).pk
        for name, columns in OLD_ROWS.items()
    }
    assert "sftp-passphrase" not in _raw("password", made["sftp"])  # encrypted at 0001 too

    new_apps = _migrate(AFTER)

    migrated = new_apps.get_model("automations", "Automation")
    for name, pk in made.items():
        automation = migrated.objects.get(pk=pk)
        assert (automation.source_type, automation.source_config) == NEW[name], name
        assert automation.on_invalid_value == "skip_row"
        raw = _raw("source_config", pk)
        assert json.loads(crypto.decrypt(raw)) == NEW[name][1]
        for secret in ("sftp-passphrase", "ftp-pa55", "Bearer tok", "PRIVATE KEY", "supplier.com"):
            assert secret not in raw
    # Today's model reads them as the sources declare them.
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    sftp = Automation.objects.get(pk=made["sftp"]).source()
    assert (sftp.settings.private_key, sftp.settings.port, sftp.location) == (
        KEY,
        2222,
        "sftp://sftp.supplier.com:2222/exports/products.csv",
    )
    assert Automation.objects.get(pk=made["ftps"]).source().type == "ftps"

    old_apps = _migrate(BEFORE)

    restored = old_apps.get_model("automations", "Automation")
    for name, pk in made.items():
        automation = restored.objects.get(pk=pk)
        expected = {"tls": False, "port": None, "headers": {}, **OLD_ROWS[name]}
        for column, value in expected.items():
            assert getattr(automation, column) == value, (name, column)
        for column in ("host", "username", "password", "private_key", "path", "url", "host_key"):
            assert getattr(automation, column) == expected.get(column, ""), (name, column)
        assert automation.http_authorization == expected.get("http_authorization", "")
