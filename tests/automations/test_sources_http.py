import pytest

from automations import services
from automations.choices import RunStatus
from automations.sources import SourceConfigError, source_from_values
from automations.sources import http as http_module
from imports.models import ImportJob
from pixee import netguard

from .conftest import CSV, MAPPING
from .servers import HttpServer, closed_port

pytestmark = pytest.mark.django_db


def _run(automation):
    return services.automation_run(automation_id=automation.pk)


def test_http_run_fetches_the_file_and_creates_a_job_with_the_automations_settings(
    make_automation, http_source
):
    run = _run(make_automation(http_source))

    assert run.status == RunStatus.COMPLETED, run.error
    job = ImportJob.objects.get(pk=run.job_id)
    assert (job.supplier_code, job.requested_mapping, job.file_name) == (
        "SUPPLIER_A",
        MAPPING,
        "products.csv",
    )
    assert run.bytes == len(CSV)


def test_http_sends_headers_and_basic_auth(make_automation, http_server, http_source):
    http_server.basic_auth = ("feed", "http-pa55-never-shown")
    automation = make_automation(
        {**http_source, "username": "feed", "password": "http-pa55-never-shown", "headers": {"X-Feed": "pim"}}
    )

    run = _run(automation)

    assert run.status == RunStatus.COMPLETED, run.error
    assert http_server.requests[-1]["headers"]["X-Feed"] == "pim"


def test_http_sends_the_authorization_header(make_automation, http_server, http_source):
    http_server.authorization = "Bearer tok-never-shown"

    run = _run(make_automation({**http_source, "authorization": "Bearer tok-never-shown"}))

    assert run.status == RunStatus.COMPLETED, run.error


def test_http_refused_credentials_fail_the_run_and_a_later_run_works(
    make_automation, http_server, http_source
):
    http_server.basic_auth = ("feed", "right")
    automation = make_automation({**http_source, "username": "feed", "password": "wrong"})

    run = _run(automation)

    assert run.status == RunStatus.FAILED
    assert run.error == (
        f"http://127.0.0.1:{http_server.port}/exports/products.csv refused access (HTTP 401 Unauthorized): "
        "check username and password or authorization."
    )
    services.automation_update(automation=automation, file_source={"password": "right"})
    assert _run(automation).status == RunStatus.COMPLETED


def test_http_missing_path_fails_the_run_without_showing_the_query_string(make_automation, http_server):
    run = _run(make_automation({"type": "http", "url": http_server.url("/missing.csv?token=s3cr3t")}))

    assert run.status == RunStatus.FAILED
    assert (
        run.error
        == f"There is no file at http://127.0.0.1:{http_server.port}/missing.csv (HTTP 404 Not Found)."
    )


def test_http_unreachable_host_fails_the_run(make_automation):
    port = closed_port()

    run = _run(make_automation({"type": "http", "url": f"http://127.0.0.1:{port}/feed.csv"}))

    assert run.status == RunStatus.FAILED
    assert run.error == (
        f"Cannot connect to 127.0.0.1:{port}: the connection was refused (nothing listens on that port)."
    )


def test_http_refuses_private_addresses_unless_allowed(settings, make_automation, http_source):
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = False
    automation = make_automation(http_source)

    run = _run(automation)

    assert run.status == RunStatus.FAILED
    assert run.error == (
        "The host '127.0.0.1' resolves to 127.0.0.1, a private or reserved address; "
        "set PIXEE_ALLOW_PRIVATE_NETWORK=true to allow it."
    )
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = True
    assert _run(automation).status == RunStatus.COMPLETED


def test_http_redirects_are_checked_again(settings, make_automation, http_server, monkeypatch):
    """A URL whose host passes the check but redirects to a private address is refused at the redirect."""
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = False
    real = netguard.resolve_checked
    hops = []

    def first_hop_passes(host, port):
        hops.append(host)
        return "127.0.0.1" if len(hops) == 1 else real(host, port)

    monkeypatch.setattr(netguard, "resolve_checked", first_hop_passes)
    target = http_server.url("/exports/products.csv")

    run = _run(make_automation({"type": "http", "url": http_server.url(f"/redirect?to={target}")}))

    assert run.status == RunStatus.FAILED
    assert "127.0.0.1, a private or reserved address" in run.error
    assert len(hops) == 2
    assert [r["path"].split("?")[0] for r in http_server.requests] == ["/redirect"]


def test_http_refuses_a_redirect_from_an_allowed_host_to_a_private_one(
    settings, monkeypatch, make_automation, http_server
):
    """127.0.0.2 stands for a public host (declared public here); it redirects to 127.0.0.1."""
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = False
    real = netguard.is_public
    monkeypatch.setattr(netguard, "is_public", lambda address: address == "127.0.0.2" or real(address))
    allowed = HttpServer(host="127.0.0.2")
    allowed.files["/exports/products.csv"] = CSV
    try:
        # The control: the allowed host itself is reached.
        assert _run(
            make_automation({"type": "http", "url": allowed.url("/exports/products.csv")})
        ).status == (RunStatus.COMPLETED)
        target = http_server.url("/exports/products.csv")  # 127.0.0.1: private
        run = _run(make_automation({"type": "http", "url": allowed.url(f"/redirect?to={target}")}))
    finally:
        allowed.close()

    assert run.status == RunStatus.FAILED
    assert run.error == (
        "The host '127.0.0.1' resolves to 127.0.0.1, a private or reserved address; "
        "set PIXEE_ALLOW_PRIVATE_NETWORK=true to allow it."
    )
    assert run.job_id is None
    assert [r["path"].split("?")[0] for r in allowed.requests] == ["/exports/products.csv", "/redirect"]
    assert http_server.requests == []  # the private server was never connected to


def test_http_follows_redirects_to_allowed_hosts(make_automation, http_server):
    target = http_server.url("/exports/products.csv")

    run = _run(make_automation({"type": "http", "url": http_server.url(f"/redirect?to={target}")}))

    assert run.status == RunStatus.COMPLETED, run.error
    assert ImportJob.objects.get(pk=run.job_id).file_name == "products.csv"


def test_http_size_cap_fails_the_run(settings, make_automation, http_server):
    settings.PIXEE_MAX_UPLOAD_MB = 1
    http_server.files["/big.csv"] = CSV + b"3760000000031;x;1\n" * 70_000

    run = _run(make_automation({"type": "http", "url": http_server.url("/big.csv")}))

    assert run.status == RunStatus.FAILED
    size = len(http_server.files["/big.csv"])
    assert run.error == f"The remote file is {size} bytes: over the 1 MB limit (PIXEE_MAX_UPLOAD_MB)."
    assert run.job_id is None


def test_http_read_timeout_fails_the_run(monkeypatch, make_automation, http_server, http_source):
    monkeypatch.setattr(http_module, "READ_TIMEOUT", 0.5)
    monkeypatch.setattr(http_module, "read_timed_out", lambda where: f"{where} timed out.")
    http_server.delay = 2

    run = _run(make_automation(http_source))

    assert run.status == RunStatus.FAILED
    assert run.error == f"http://127.0.0.1:{http_server.port}/exports/products.csv timed out."


def test_http_name_from_content_type_when_the_url_has_no_extension(make_automation, http_server):
    http_server.files["/feed"] = CSV

    run = _run(make_automation({"type": "http", "url": http_server.url("/feed")}))

    assert run.status == RunStatus.COMPLETED, run.error
    assert ImportJob.objects.get(pk=run.job_id).file_name == "feed.csv"


@pytest.mark.parametrize(
    ("source", "field", "message"),
    [
        ({"url": "ftp://x/y.csv"}, "url", "url must be an http:// or https:// URL with a host."),
        (
            {"url": "https://u:p@x/y.csv"},
            "url",
            "url cannot carry credentials: give them as username and password.",
        ),
        ({"url": "https://x/y.csv", "headers": {"Authorization": "Bearer x"}}, "headers", None),
        ({"url": "https://x/y.csv", "password": "p"}, "username", None),
        ({"url": "https://x/y.csv", "username": "u", "authorization": "Bearer x"}, "authorization", None),
        ({"url": "https://x/y.csv", "host": "x"}, "host", "host does not apply to http sources."),
    ],
)
def test_http_source_validation(source, field, message):
    with pytest.raises(SourceConfigError) as caught:
        source_from_values({"type": "http", **source})
    assert field in caught.value.errors
    if message:
        assert caught.value.errors[field] == [message]
