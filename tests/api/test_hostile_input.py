"""Text no database column can hold (NUL, lone surrogates) is a 400 naming the field, never a 500.

PostgreSQL's text and jsonb refuse NUL, and a lone UTF-16 surrogate (JSON's ``"\\ud800"``)
cannot be encoded to UTF-8: without a check either fails the INSERT and answers 500.
"""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from automations.models import Automation
from imports.models import ImportJob
from tests.factories import ean13
from webhooks.models import WebhookSubscription

pytestmark = pytest.mark.django_db

CSV = f"ean,name\n{ean13(1)},A\n".encode()
AUTOMATION = {
    "name": "Nightly",
    "schedule": "0 2 * * *",
    "file_source": {"type": "http", "url": "https://93.184.216.34/feed.csv"},
}
SFTP = {"type": "sftp", "host": "sftp.example.com", "username": "u", "path": "/feed.csv"}
WEBHOOK = {"url": "https://93.184.216.34/hook", "events": ["import.failed"]}


def post_json(api, url: str, body: dict):
    # json.dumps escapes a lone surrogate as "\ud800", as a client's JSON library would.
    return api.generic("POST", url, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"supplier_code": "SUP\x00A"}, "supplier_code"),
        ({"mapping": '{"EAN\\u0000": "ean"}'}, "mapping"),
        ({"mapping": '{"EAN\\ud800": "ean"}'}, "mapping"),
        ({"mapping": '{"EAN": "ean\\u0000"}'}, "mapping"),
        ({"webhook_url": "https://93.184.216.34/\x00"}, "webhook_url"),
        ({"max_errors": str(2**31)}, "max_errors"),  # beyond the column: was a 500 the fuzzer found
    ],
)
def test_upload_fields_a_column_cannot_hold_are_400(api, fields, field):
    response = api.post(
        "/api/v1/imports/jobs", {"file": SimpleUploadedFile("c.csv", CSV), **fields}, format="multipart"
    )
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"name": "Nightly\x00"}, "name"),
        ({"name": "Nightly\ud800"}, "name"),
        ({"supplier_code": "\x00"}, "supplier_code"),
        ({"schedule": "0 2 * * *\x00"}, "schedule"),
        ({"timezone": "Europe/Paris\x00"}, "timezone"),
        ({"mapping": {"EAN\x00": "ean"}}, "mapping"),
        ({"mapping": {"EAN\ud800": "ean"}}, "mapping"),
        ({"mapping": {"EAN": "ean\x00"}}, "mapping"),
        ({"file_source": {"type": "http", "url": "https://93.184.216.34/\x00.csv"}}, "file_source"),
        ({"file_source": {"type": "http", "url": "https://x/", "headers": {"X-A\x00": "v"}}}, "file_source"),
        ({"file_source": {"type": "http", "url": "https://x/", "headers": {"X-A": "v\x00"}}}, "file_source"),
        (
            {"file_source": {"type": "http", "url": "https://x/", "authorization": "Bearer \x00"}},
            "file_source",
        ),
        ({"file_source": {**SFTP, "host": "sftp\x00.example.com"}}, "file_source"),
        ({"file_source": {**SFTP, "username": "u\x00"}}, "file_source"),
        ({"file_source": {**SFTP, "path": "/feed\x00.csv"}}, "file_source"),
        ({"file_source": {**SFTP, "password": "p\x00"}}, "file_source"),
        ({"file_source": {**SFTP, "private_key": "-----BEGIN\x00"}}, "file_source"),
        ({"file_source": {**SFTP, "host_key": "ssh-ed25519 AAAA\x00"}}, "file_source"),
        ({"file_source": {"type": "ftp\x00", "host": "h", "path": "/p"}}, "file_source"),
    ],
)
def test_automation_fields_holding_unstorable_text_are_400(api, changes, field):
    response = post_json(api, "/api/v1/imports/automations", {**AUTOMATION, **changes})
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Automation.objects.exists()
    # The same through PATCH, on an automation that exists.
    created = post_json(api, "/api/v1/imports/automations", AUTOMATION).json()["id"]
    response = api.generic(
        "PATCH",
        f"/api/v1/imports/automations/{created}",
        json.dumps(changes),
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert field in response.json()


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"url": "https://93.184.216.34/\x00"}, "url"),
        ({"url": "https://93.184.216.34/\ud800"}, "url"),
        ({"events": ["import.failed\x00"]}, "events"),
    ],
)
def test_webhook_fields_holding_unstorable_text_are_400(api, changes, field):
    response = post_json(api, "/api/v1/webhooks", {**WEBHOOK, **changes})
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/catalog/products/376%000000000017",
        "/api/v1/catalog/products?ean=%00",
        "/api/v1/catalog/products?supplier_code=A%00",
        "/api/v1/imports/jobs?supplier_code=%00",
        "/api/v1/webhooks?%00=1",
    ],
)
def test_a_nul_character_in_the_url_is_400(api, url):
    response = api.get(url)
    assert response.status_code == 400
    assert response.json() == {"detail": "The URL contains a NUL character (%00)."}


def test_a_nul_character_in_an_admin_list_filter_is_400_not_500(admin_client):
    # The admin passes list-filter parameters to the ORM as they come.
    assert admin_client.get("/admin/imports/importjob/?supplier_code=%00").status_code == 400
    assert admin_client.get("/admin/imports/importjob/?supplier_code=A").status_code == 200


def test_an_unexpected_api_failure_answers_json_not_html(api, monkeypatch, settings):
    from imports import selectors

    def crash(**kwargs):
        raise RuntimeError("/var/secret/path: something broke\nTraceback")

    monkeypatch.setattr(selectors, "import_job_list", crash)
    api.raise_request_exception = False
    settings.DEBUG = False
    response = api.get("/api/v1/imports/jobs")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Internal error: the request could not be completed."}
