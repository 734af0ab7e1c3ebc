"""API keys in the admin: created through the service, the raw key shown once, revoked by an action."""

import hashlib

import pytest
from django.urls import reverse

from pixee.apikeys import api_key_authenticate
from pixee.models import ApiKey

from ..factories import ApiKeyFactory, UserFactory

pytestmark = pytest.mark.django_db
ADD_URL = reverse("admin:pixee_apikey_add")
LIST_URL = reverse("admin:pixee_apikey_changelist")


def test_creating_a_key_shows_the_raw_key_once_and_stores_only_its_hash(admin_client):
    owner = UserFactory(username="erp")
    response = admin_client.post(ADD_URL, {"user": owner.pk, "name": "ERP sync"})
    raw_key = response.context["raw_key"]
    api_key = ApiKey.objects.get()
    assert response.status_code == 200
    assert raw_key in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert (api_key.user, api_key.name) == (owner, "ERP sync")
    assert api_key.hashed_key == hashlib.sha256(raw_key.encode()).hexdigest()
    assert api_key_authenticate(raw_key) == api_key
    # Nowhere else: not in the list, the key's page or a message carried to the next page.
    for url in (LIST_URL, reverse("admin:pixee_apikey_change", args=[api_key.pk])):
        html = admin_client.get(url).content.decode()
        assert raw_key not in html
        assert api_key.hashed_key not in html
        assert f"pxk_{api_key.prefix}_" in html


def test_the_add_form_needs_a_user_and_a_name(admin_client):
    response = admin_client.post(ADD_URL, {"name": ""})
    assert set(response.context["adminform"].form.errors) == {"user", "name"}
    assert not ApiKey.objects.exists()


def test_the_add_form_can_be_prefilled_with_a_user(admin_client):
    owner = UserFactory()
    form = admin_client.get(ADD_URL, {"user": owner.pk}).context["adminform"].form
    assert str(form["user"].value()) == str(owner.pk)


def test_revoke_action_revokes_through_the_service(admin_client):
    keep, revoke = ApiKeyFactory(name="keep"), ApiKeyFactory(name="revoke")
    response = admin_client.post(
        LIST_URL, {"action": "revoke_selected", "_selected_action": [revoke.pk]}, follow=True
    )
    revoke.refresh_from_db()
    keep.refresh_from_db()
    assert revoke.revoked_at is not None and keep.revoked_at is None
    assert api_key_authenticate(revoke.raw_key) is None
    assert "Revoked 1 API key." in response.content.decode()


def test_list_shows_prefix_user_dates_and_state(admin_client):
    api_key = ApiKeyFactory(user__username="erp", name="ERP sync")
    html = admin_client.get(LIST_URL).content.decode()
    for text in (f"pxk_{api_key.prefix}_", "erp", "Created at", "Last used at", "pixee-badge--active"):
        assert text in html
    active = admin_client.get(LIST_URL, {"state": "revoked"}).context["cl"].result_list
    assert list(active) == []


def test_keys_cannot_be_edited_or_deleted(admin_client):
    api_key = ApiKeyFactory()
    change = reverse("admin:pixee_apikey_change", args=[api_key.pk])
    assert admin_client.post(change, {"name": "renamed"}).status_code == 403
    assert admin_client.get(reverse("admin:pixee_apikey_delete", args=[api_key.pk])).status_code == 403
