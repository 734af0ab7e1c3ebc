"""API keys: ``pxk_<prefix>_<secret>``; the prefix finds the row, the SHA-256 of the whole key proves it.

Keys are 256-bit random strings, so a fast hash is enough: there is nothing to brute-force.
"""

import hashlib
import hmac
import secrets
from contextlib import suppress
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import OperationalError, transaction
from django.utils import timezone

from .models import ApiKey

KEY_PREFIX = "pxk"
# Writing last_used_at on every request would turn reads into writes; once a minute is plenty.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_create(*, user: User, name: str) -> tuple[ApiKey, str]:
    """Create a key for ``user``; returns the row and the raw key, which is never stored."""
    prefix = secrets.token_hex(6)
    raw_key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(user=user, name=name, prefix=prefix, hashed_key=_hash(raw_key))
    return api_key, raw_key


def api_key_revoke(*, api_key: ApiKey) -> None:
    """Revoke a key; requests made with it then answer 401."""
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def api_key_authenticate(raw_key: str) -> ApiKey | None:
    """The active key matching ``raw_key``, or None."""
    parts = raw_key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    api_key = (
        ApiKey.objects.select_related("user")
        .filter(prefix=parts[1], revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if api_key is None or not hmac.compare_digest(api_key.hashed_key, _hash(raw_key)):
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
        # Best effort, in a transaction so that SQLite's worker lets it go first (pixee/sqlite):
        # a read must not fail because this bookkeeping could not be written.
        with suppress(OperationalError), transaction.atomic():
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    return api_key


def user_ensure(*, username: str, staff: bool = False) -> User:
    """The user called ``username``, created if missing; ``staff`` grants staff rights."""
    user, _ = get_user_model().objects.get_or_create(username=username)
    if staff and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return user
