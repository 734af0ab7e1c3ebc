import pytest

from automations import services
from automations.choices import RunStatus
from automations.sources import Download, SourceConfigError, SourceError, source_from_values
from automations.sources.sftp import parse_host_key
from imports.models import ImportJob

from .conftest import CSV, MAPPING, SFTP_PASSWORD, SFTP_USER
from .servers import closed_port, key_line, paramiko_key, private_key_text

pytestmark = pytest.mark.django_db


def _run(automation):
    return services.automation_run(automation_id=automation.pk)


def test_sftp_run_fetches_the_file_and_creates_a_job_with_the_automations_settings(
    make_automation, sftp_source
):
    automation = make_automation(sftp_source)

    run = _run(automation)

    assert run.status == RunStatus.COMPLETED, run.error
    assert run.bytes == len(CSV)
    assert len(run.checksum) == 64
    job = ImportJob.objects.get(pk=run.job_id)
    assert job.supplier_code == "SUPPLIER_A"
    assert job.requested_mapping == MAPPING
    assert job.created_by == automation.created_by
    assert job.file_name == "products.csv"
    with job.file.open("rb") as stored:
        assert stored.read() == CSV


@pytest.mark.parametrize(
    ("kind", "fmt"),
    [("ed25519", "openssh"), ("rsa", "pem"), ("rsa", "openssh"), ("ecdsa", "pem"), ("ecdsa", "openssh")],
)
def test_sftp_logs_in_with_a_private_key(sftp_server, sftp_source, kind, fmt):
    text = private_key_text(kind, fmt=fmt)
    sftp_server.authorized_keys[SFTP_USER] = [paramiko_key(text)]
    source = {**sftp_source, "password": "", "private_key": text}

    with Download() as download:
        name = source_from_values(source).fetch(download)
        assert download.path.read_bytes() == CSV

    assert name == "products.csv"


def test_sftp_encrypted_private_key_uses_the_password_as_passphrase(sftp_server, sftp_source):
    text = private_key_text("ed25519", passphrase="open sesame")
    sftp_server.authorized_keys[SFTP_USER] = [paramiko_key(text, "open sesame")]
    source = {**sftp_source, "password": "open sesame", "private_key": text}

    with Download() as download:
        source_from_values(source).fetch(download)
        assert download.sha256


def test_sftp_refuses_an_unreadable_private_key_at_save_time(sftp_source):
    with pytest.raises(SourceConfigError) as caught:
        source_from_values({**sftp_source, "private_key": "-----BEGIN OPENSSH PRIVATE KEY-----\ngarbage\n"})
    assert caught.value.errors["private_key"] == [
        "private_key is not a PEM or OpenSSH private key (RSA, Ed25519 or ECDSA)."
    ]
    encrypted = private_key_text("rsa", fmt="pem", passphrase="x")
    with pytest.raises(SourceConfigError) as caught:
        source_from_values({**sftp_source, "password": "", "private_key": encrypted})
    assert caught.value.errors["private_key"] == [
        "private_key is encrypted: give its passphrase as password."
    ]


def test_sftp_wrong_password_fails_the_run_and_a_later_run_works(make_automation, sftp_source):
    automation = make_automation({**sftp_source, "password": "wrong"})

    failed = _run(automation)

    assert failed.status == RunStatus.FAILED
    assert (
        failed.error
        == f"The SFTP server 127.0.0.1:{sftp_source['port']} refused the password of user 'alice'."
    )
    assert failed.job_id is None
    services.automation_update(automation=automation, file_source={"password": SFTP_PASSWORD})
    assert _run(automation).status == RunStatus.COMPLETED


def test_sftp_unpinned_host_key_fails_with_the_fingerprint_to_pin(make_automation, sftp_server, sftp_source):
    automation = make_automation({**sftp_source, "host_key": ""})

    run = _run(automation)

    assert run.status == RunStatus.FAILED
    assert sftp_server.fingerprint in run.error
    assert "no host_key is pinned" in run.error
    assert run.host_key == key_line(sftp_server.host_key)
    # Pinning what the failed run reported makes the next run work.
    services.automation_pin_host_key(automation=automation)
    assert automation.source().settings.host_key == key_line(sftp_server.host_key)
    assert _run(automation).status == RunStatus.COMPLETED


def test_sftp_changed_host_key_fails_with_the_new_fingerprint(make_automation, sftp_server, sftp_source):
    old = paramiko_key(private_key_text("ed25519"))
    automation = make_automation({**sftp_source, "host_key": key_line(old)})

    run = _run(automation)

    assert run.status == RunStatus.FAILED
    assert f"presented the ssh-ed25519 host key {sftp_server.fingerprint}, not the pinned" in run.error
    assert "the server or its key changed" in run.error
    services.automation_update(automation=automation, file_source={"host_key": sftp_server.fingerprint})
    assert _run(automation).status == RunStatus.COMPLETED


def test_sftp_missing_path_fails_the_run(make_automation, sftp_source):
    automation = make_automation({**sftp_source, "path": "/exports/missing.csv"})

    run = _run(automation)

    assert run.status == RunStatus.FAILED
    assert run.error == f"There is no file /exports/missing.csv on 127.0.0.1:{sftp_source['port']}."


def test_sftp_directory_path_fails_the_run(make_automation, sftp_source):
    run = _run(make_automation({**sftp_source, "path": "/exports"}))

    assert run.status == RunStatus.FAILED
    assert run.error.endswith("is a directory, not a file.")


def test_sftp_unreachable_host_fails_the_run_and_a_later_run_works(make_automation, sftp_source):
    port = closed_port()
    automation = make_automation({**sftp_source, "port": port})

    run = _run(automation)

    assert run.status == RunStatus.FAILED
    assert run.error == (
        f"Cannot connect to 127.0.0.1:{port}: the connection was refused (nothing listens on that port)."
    )
    services.automation_update(automation=automation, file_source={"port": sftp_source["port"]})
    assert _run(automation).status == RunStatus.COMPLETED


def test_sftp_refuses_loopback_without_private_network_allowed(settings, make_automation, sftp_source):
    automation = make_automation(sftp_source)
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = False

    run = _run(automation)

    assert run.status == RunStatus.FAILED
    assert "private or reserved address" in run.error


@pytest.mark.parametrize(
    "value",
    [
        "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
        "[sftp.example.com]:2222 ssh-ed25519 "
        "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl comment",
    ],
)
def test_host_key_accepts_a_fingerprint_a_key_line_or_a_known_hosts_line(value):
    assert parse_host_key(value).fingerprint.startswith("SHA256:")


@pytest.mark.parametrize("value", ["SHA256:short", "ssh-ed25519 not-base64!", "just words", "MD5:aa:bb"])
def test_host_key_refuses_anything_else(value):
    with pytest.raises(ValueError, match="host_key"):
        parse_host_key(value)


def test_sftp_source_requires_host_username_and_path():
    with pytest.raises(SourceConfigError) as caught:
        source_from_values({"type": "sftp", "url": "http://x"})
    assert set(caught.value.errors) == {"host", "username", "path", "url"}
    assert caught.value.errors["url"] == ["url does not apply to sftp sources."]


def test_sftp_without_credentials_fails_with_a_clear_error(make_automation, sftp_source):
    run = _run(make_automation({**sftp_source, "password": ""}))

    assert run.error == "The SFTP source has neither a password nor a private_key to log in with."


def test_source_error_keeps_the_reported_key():
    assert SourceError("x", host_key="ssh-ed25519 AAAA").host_key == "ssh-ed25519 AAAA"
