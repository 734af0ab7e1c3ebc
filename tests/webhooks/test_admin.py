import pytest
from django.test import Client

from tests.factories import UserFactory, WebhookAttemptFactory, WebhookEventFactory

from .conftest import subscribe


@pytest.fixture
def admin_client_(db):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    return client


def test_admin_lists_webhooks_without_their_secret(admin_client_, user):
    subscription = subscribe(user, "https://hooks.example.invalid/x")
    for path in [
        "/admin/webhooks/webhooksubscription/",
        f"/admin/webhooks/webhooksubscription/{subscription.pk}/change/",
    ]:
        response = admin_client_.get(path)
        assert response.status_code == 200
        assert subscription.secret not in response.content.decode()
    assert admin_client_.get("/admin/webhooks/webhooksubscription/add/").status_code == 403


def test_admin_shows_deliveries_read_only_with_attempts(admin_client_, user):
    subscription = subscribe(user, "https://hooks.example.invalid/x")
    event = WebhookEventFactory(
        type="import.completed", payload={"id": "x"}, subscription=subscription, url=subscription.url
    )
    WebhookAttemptFactory(event=event, number=1, status_code=502, error="The endpoint answered HTTP 502")
    assert admin_client_.get("/admin/webhooks/webhookevent/").status_code == 200
    page = admin_client_.get(f"/admin/webhooks/webhookevent/{event.pk}/change/")
    assert page.status_code == 200
    assert "The endpoint answered HTTP 502" in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
