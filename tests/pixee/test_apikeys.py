import pytest
from django.core.cache import cache
from rest_framework.throttling import ScopedRateThrottle

from pixee.apikeys import api_key_authenticate, api_key_create
from pixee.models import ApiKey
from tests.imports.helpers import upload

pytestmark = pytest.mark.django_db


def test_keys_are_stored_hashed_and_last_use_is_recorded(user):
    api_key, raw = api_key_create(user=user, name="k")
    stored = ApiKey.objects.get(pk=api_key.pk)
    assert raw not in (stored.hashed_key, stored.prefix) and len(stored.hashed_key) == 64
    assert stored.last_used_at is None
    assert api_key_authenticate(raw).pk == api_key.pk
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at is not None


@pytest.mark.parametrize(
    "tamper",
    [
        lambda k: k[:-1] + ("A" if k[-1] != "A" else "B"),
        lambda k: k.replace("pxk_", "pxx_"),
        lambda k: "pxk_" + k.split("_", 2)[1],
    ],
)
def test_tampered_keys_are_refused(user, tamper):
    _, raw = api_key_create(user=user, name="k")
    assert api_key_authenticate(tamper(raw)) is None


def test_inactive_user_keys_are_refused(user):
    _, raw = api_key_create(user=user, name="k")
    user.is_active = False
    user.save()
    assert api_key_authenticate(raw) is None


def test_uploads_are_throttled_per_user(api, monkeypatch):
    cache.clear()
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"uploads": "2/minute"})
    codes = [upload(api, "ean,name\n4006381333931,A\n").status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    assert api.get("/api/v1/imports/jobs").status_code == 200  # reads are not throttled
