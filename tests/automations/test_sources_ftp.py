import ssl

import pytest

from automations import services
from automations.choices import RunStatus
from automations.sources import Download, SourceError, source_from_values
from automations.sources import ftps as ftps_module
from imports.models import ImportJob

from .conftest import CSV, FTP_PASSWORD, FTP_USER, MAPPING
from .servers import FtpServer, closed_port, self_signed_certificate

pytestmark = pytest.mark.django_db


def _run(automation):
    return services.automation_run(automation_id=automation.pk)


def test_ftp_run_fetches_the_file_and_creates_a_job_with_the_automations_settings(
    make_automation, ftp_source
):
    run = _run(make_automation(ftp_source))

    assert run.status == RunStatus.COMPLETED, run.error
    assert run.bytes == len(CSV)
    job = ImportJob.objects.get(pk=run.job_id)
    assert (job.supplier_code, job.requested_mapping, job.file_name) == (
        "SUPPLIER_A",
        MAPPING,
        "products.csv",
    )
    with job.file.open("rb") as stored:
        assert stored.read() == CSV


def test_ftp_wrong_password_fails_the_run_and_a_later_run_works(make_automation, ftp_source):
    automation = make_automation({**ftp_source, "password": "wrong"})

    run = _run(automation)

    assert run.status == RunStatus.FAILED
    assert run.error.startswith(
        f"The FTP server 127.0.0.1:{ftp_source['port']} refused the login of user 'bob' (530"
    )
    services.automation_update(automation=automation, file_source={"password": FTP_PASSWORD})
    assert _run(automation).status == RunStatus.COMPLETED


def test_ftp_missing_path_fails_the_run(make_automation, ftp_source):
    run = _run(make_automation({**ftp_source, "path": "/exports/missing.csv"}))

    assert run.status == RunStatus.FAILED
    assert run.error.startswith(
        f"There is no file /exports/missing.csv on 127.0.0.1:{ftp_source['port']} (550"
    )


def test_ftp_unreachable_host_fails_the_run(make_automation, ftp_source):
    port = closed_port()

    run = _run(make_automation({**ftp_source, "port": port}))

    assert run.status == RunStatus.FAILED
    assert run.error == (
        f"Cannot connect to 127.0.0.1:{port}: the connection was refused (nothing listens on that port)."
    )


def test_ftp_refuses_loopback_without_private_network_allowed(settings, make_automation, ftp_source):
    automation = make_automation(ftp_source)
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = False

    run = _run(automation)

    assert run.status == RunStatus.FAILED
    assert "private or reserved address" in run.error


@pytest.fixture
def ftps_server(tmp_path):
    root = tmp_path / "ftps"
    (root / "exports").mkdir(parents=True)
    (root / "exports" / "products.csv").write_bytes(CSV)
    certfile = self_signed_certificate(tmp_path)
    server = FtpServer(root, {FTP_USER: FTP_PASSWORD}, certfile=certfile)
    server.certfile = certfile
    yield server
    server.close()


def _ftps_source(server):
    return {
        "type": "ftps",
        "host": "127.0.0.1",
        "port": server.port,
        "username": FTP_USER,
        "password": FTP_PASSWORD,
        "path": "/exports/products.csv",
    }


def test_ftps_fetches_over_explicit_tls(monkeypatch, ftps_server):
    monkeypatch.setattr(
        ftps_module, "tls_context", lambda: ssl.create_default_context(cafile=ftps_server.certfile)
    )

    with Download() as download:
        source_from_values(_ftps_source(ftps_server)).fetch(download)
        assert download.path.read_bytes() == CSV


def test_ftps_refuses_an_untrusted_certificate(ftps_server):
    with Download() as download, pytest.raises(SourceError) as caught:
        source_from_values(_ftps_source(ftps_server)).fetch(download)

    assert str(caught.value).startswith(
        f"The TLS certificate of 127.0.0.1:{ftps_server.port} cannot be trusted ("
    )


def test_plain_ftp_server_refuses_tls_with_a_clear_error(make_automation, ftp_source):
    run = _run(make_automation({**ftp_source, "type": "ftps"}))

    assert run.status == RunStatus.FAILED
    assert "does not offer TLS" in run.error


def test_ftp_error_messages_read_as_one_sentence(make_automation, ftp_source):
    run = _run(make_automation({**ftp_source, "password": "wrong"}))

    assert run.error == (
        f"The FTP server 127.0.0.1:{ftp_source['port']} refused the login of user 'bob' "
        "(530 Authentication failed)."
    )


def test_ftps_is_a_type_of_its_own_in_the_api_and_its_runs_import(api, monkeypatch, ftps_server):
    monkeypatch.setattr(
        ftps_module, "tls_context", lambda: ssl.create_default_context(cafile=ftps_server.certfile)
    )
    body = {"name": "Over TLS", "schedule": "0 2 * * *", "file_source": _ftps_source(ftps_server)}

    response = api.post("/api/v1/imports/automations", body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["file_source"] == {
        "type": "ftps",
        "host": "127.0.0.1",
        "port": ftps_server.port,
        "username": FTP_USER,
        "path": "/exports/products.csv",
        "password_set": True,
    }
    run = services.automation_run(automation_id=response.json()["id"])
    assert run.status == RunStatus.COMPLETED, run.error
    with ImportJob.objects.get(pk=run.job_id).file.open("rb") as stored:
        assert stored.read() == CSV
    # The tls flag the ftp type used to have is gone: the type says it.
    legacy = {**_ftps_source(ftps_server), "type": "ftp", "tls": True}
    refused = api.post("/api/v1/imports/automations", {**body, "file_source": legacy}, format="json")
    assert refused.status_code == 400
    assert refused.json()["file_source"]["tls"][0].startswith("Unknown field; file_source accepts: type,")
