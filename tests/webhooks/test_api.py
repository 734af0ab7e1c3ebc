import uuid

import pytest
from django.db import connection

from tests.factories import WebhookAttemptFactory, WebhookEventFactory
from webhooks.choices import DeliveryStatus
from webhooks.models import WebhookSubscription

from .conftest import subscribe

URL = "/api/v1/webhooks"
PUBLIC = "https://93.184.216.34/hooks/pixee"  # an address literal: no DNS needed to check it


def create(api, **body):
    return api.post(URL, {"url": PUBLIC, "events": ["import.completed"], **body}, format="json")


def test_create_returns_the_secret_once(api):
    response = create(api, events=["import.completed", "import.failed"])
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {
        "id",
        "url",
        "events",
        "is_active",
        "disabled_reason",
        "disabled_at",
        "created_at",
        "secret",
    }
    assert body["events"] == ["import.completed", "import.failed"]
    assert body["is_active"] is True and body["disabled_reason"] is None
    assert len(body["secret"]) >= 32

    listed = api.get(URL).json()
    assert listed["meta"]["total"] == 1
    assert "secret" not in listed["items"][0]
    assert "secret" not in api.get(f"{URL}/{body['id']}").json()


def test_the_secret_is_encrypted_at_rest(api):
    secret = create(api).json()["secret"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM webhooks_webhooksubscription")
        (stored,) = cursor.fetchone()
    assert secret not in stored
    assert WebhookSubscription.objects.get().secret == secret


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"events": ["import.done"]}, "events", '"import.done" is not a webhook event'),
        ({"events": []}, "events", ""),
        ({"url": "ftp://example.com/x"}, "url", "http:// or https://"),
        ({"url": "not a url"}, "url", ""),
        ({"url": "https://user:pw@example.com/x"}, "url", "user name or password"),
        ({"url": "http:///nohost"}, "url", "no host"),
    ],
)
def test_invalid_input_is_a_400_naming_the_field(api, body, field, message):
    response = create(api, **body)
    assert response.status_code == 400
    errors = response.json()[field]
    assert message in str(errors)


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "[::1]",
        "169.254.169.254",
        "2130706433",
        "0x7f000001",
        "[::ffff:127.0.0.1]",
        "10.0.0.8",
        "192.168.1.1",
    ],
)
def test_private_addresses_are_refused_at_creation(api, settings, host):
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = False
    response = create(api, url=f"http://{host}:8080/hook")
    assert response.status_code == 400
    assert "private or reserved address" in response.json()["url"][0]
    assert not WebhookSubscription.objects.exists()


def test_private_addresses_are_accepted_when_allowed(api, settings):
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = True
    assert create(api, url="http://127.0.0.1:8080/hook").status_code == 201


def test_a_host_that_does_not_resolve_yet_is_accepted(api, settings):
    # Every delivery checks the address it connects to; DNS may be set up after the webhook.
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = False
    assert create(api, url="https://hooks.example.invalid/pixee").status_code == 201


def test_import_upload_refuses_a_private_webhook_url(api, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.PIXEE_ALLOW_PRIVATE_NETWORK = False
    upload = SimpleUploadedFile("c.csv", b"ean,name\n3760000000019,A\n")
    response = api.post(
        "/api/v1/imports/jobs", {"file": upload, "webhook_url": "http://169.254.169.254/latest"}
    )
    assert response.status_code == 400
    assert "private or reserved address" in response.json()["webhook_url"][0]


def test_owners_see_only_their_webhooks_and_staff_see_all(api, other_api, staff_api):
    mine = create(api).json()["id"]
    theirs = create(other_api).json()["id"]
    event = WebhookEventFactory(
        type="import.completed",
        payload={},
        subscription=WebhookSubscription.objects.get(pk=mine),
        url=PUBLIC,
        status=DeliveryStatus.FAILED,
    )
    assert [w["id"] for w in api.get(URL).json()["items"]] == [mine]
    assert {w["id"] for w in staff_api.get(URL).json()["items"]} == {mine, theirs}
    for method, path in [
        ("get", f"{URL}/{mine}"),
        ("patch", f"{URL}/{mine}"),
        ("delete", f"{URL}/{mine}"),
        ("get", f"{URL}/{mine}/deliveries"),
        ("get", f"{URL}/{mine}/deliveries/{event.pk}"),
        ("post", f"{URL}/{mine}/deliveries/{event.pk}/redeliver"),
    ]:
        assert getattr(other_api, method)(path, {}, format="json").status_code == 404, (method, path)
    # A delivery is found only under its own webhook.
    assert api.get(f"{URL}/{theirs}/deliveries/{event.pk}").status_code == 404
    assert staff_api.get(f"{URL}/{mine}/deliveries").json()["meta"]["total"] == 1
    assert api.get(f"{URL}/{uuid.uuid4()}").status_code == 404
    assert other_api.get(URL).json()["meta"]["total"] == 1


def test_delete(api):
    webhook = create(api).json()["id"]
    assert api.delete(f"{URL}/{webhook}").status_code == 204
    assert api.get(f"{URL}/{webhook}").status_code == 404


def test_patch_changes_events_and_reenabling_clears_the_reason(api, user):
    subscription = subscribe(user, PUBLIC)
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        is_active=False, disabled_reason="Disabled at …", failing_since="2026-01-01T00:00:00Z"
    )
    response = api.patch(
        f"{URL}/{subscription.pk}", {"is_active": True, "events": ["import.failed"]}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["is_active"] is True and body["disabled_reason"] is None and body["disabled_at"] is None
    assert body["events"] == ["import.failed"]
    assert WebhookSubscription.objects.get().failing_since is None
    bad = api.patch(f"{URL}/{subscription.pk}", {"events": ["nope"]}, format="json")
    assert bad.status_code == 400


def test_deliveries_are_paginated_newest_first_with_their_attempts(api, user):
    subscription = subscribe(user, PUBLIC)
    events = [
        WebhookEventFactory(type="import.completed", payload={"n": n}, subscription=subscription, url=PUBLIC)
        for n in range(3)
    ]
    WebhookAttemptFactory(event=events[0], number=1, status_code=500, duration_ms=12, error="HTTP 500")
    page = api.get(f"{URL}/{subscription.pk}/deliveries", {"limit": 2}).json()
    assert page["meta"] == {
        "total": 3,
        "page": 1,
        "per_page": 2,
        "total_pages": 2,
        "has_next": True,
        "has_previous": False,
    }
    assert [d["id"] for d in page["items"]] == [str(events[2].pk), str(events[1].pk)]
    last = api.get(f"{URL}/{subscription.pk}/deliveries", {"skip": 2, "limit": 2}).json()["items"][0]
    assert last["event"] == "import.completed" and last["status"] == "pending"
    assert last["attempts"][0] | {"created_at": None} == {
        "attempt": 1,
        "manual": False,
        "status_code": 500,
        "duration_ms": 12,
        "error": "HTTP 500",
        "response_body": "",
        "created_at": None,
    }
    assert api.get(f"{URL}/{subscription.pk}/deliveries", {"status": "failed"}).json()["meta"]["total"] == 0
    assert api.get(f"{URL}/{subscription.pk}/deliveries", {"status": "nope"}).status_code == 400


def test_a_pending_delivery_cannot_be_redelivered(api, user):
    subscription = subscribe(user, PUBLIC)
    event = WebhookEventFactory(type="import.completed", payload={}, subscription=subscription, url=PUBLIC)
    response = api.post(f"{URL}/{subscription.pk}/deliveries/{event.pk}/redeliver")
    assert response.status_code == 409
    assert "still pending" in response.json()["detail"]


def test_webhook_bodies_are_json_only(api):
    # The schema declares JSON alone (generated clients pick one body type); a form is refused.
    response = api.post(URL, {"url": PUBLIC, "events": ["import.completed"]}, format="multipart")
    assert response.status_code == 415
    assert not WebhookSubscription.objects.exists()
