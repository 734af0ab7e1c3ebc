"""Idempotency-Key (Stripe's semantics): a retried creation answers the object the first one made."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import IntegrityError, models, transaction

from .errors import Unprocessable
from .models import IdempotencyKey

T = TypeVar("T", bound=models.Model)
MAX_KEY_LENGTH = 255


def request_fingerprint(fields: dict[str, Any], files: dict[str, Any]) -> str:
    """SHA-256 of a request's fields and its files' names and bytes (read in blocks, then rewound)."""
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode())
    for name in sorted(files):
        upload = files[name]
        digest.update(f"\0{name}\0{upload.name}\0".encode())
        for block in upload.chunks():
            digest.update(block)
        upload.seek(0)
    return digest.hexdigest()


def idempotent_create(
    *, user: Any, scope: str, key: str, fingerprint: str, create: Callable[[], T], load: Callable[[str], T]
) -> T:
    """``create()`` once per ``key``; a retry with the same request gets ``load`` of the first object.

    The key is claimed in the same transaction as the creation, so concurrent retries wait for the
    first and then answer its object; a creation that fails releases the key.
    """
    key = (key or "").strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise Unprocessable(f"The Idempotency-Key header must be 1 to {MAX_KEY_LENGTH} characters.")
    try:
        with transaction.atomic():
            claim = IdempotencyKey.objects.create(user=user, scope=scope, key=key, fingerprint=fingerprint)
            created = create()
            claim.object_id = str(created.pk)
            claim.save(update_fields=["object_id"])
            return created
    except IntegrityError:
        # The key was used before: answer as the first request was answered.
        first = IdempotencyKey.objects.filter(user=user, scope=scope, key=key).first()
        if first is None:
            raise  # another constraint than the key's
    if first.fingerprint != fingerprint:
        raise Unprocessable(
            "This Idempotency-Key was already used with a different request; use a new key for a new request."
        )
    return load(first.object_id)
