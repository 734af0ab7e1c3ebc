"""Encryption at rest for secrets (source passwords, private keys, webhook secrets).

``PIXEE_ENCRYPTION_KEYS`` is a comma-separated list of Fernet keys: the first encrypts, all
decrypt, so a key is rotated by putting the new one first and re-saving (``rotate``).
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


class DecryptionError(Exception):
    """A stored secret cannot be decrypted with any configured key."""


@cache
def _keys(configured: tuple[str, ...], secret_key: str, debug: bool) -> MultiFernet:
    if configured:
        return MultiFernet([Fernet(k.encode()) for k in configured])
    if not debug:
        raise ImproperlyConfigured("PIXEE_ENCRYPTION_KEYS must be set when DEBUG is off.")
    # The embedded default has no key to configure; derive a stable one from SECRET_KEY.
    derived = base64.urlsafe_b64encode(hashlib.sha256(f"pixee-dev:{secret_key}".encode()).digest())
    return MultiFernet([Fernet(derived)])


def _fernet() -> MultiFernet:
    return _keys(tuple(settings.PIXEE_ENCRYPTION_KEYS), settings.SECRET_KEY, settings.DEBUG)


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError("A stored secret cannot be decrypted with PIXEE_ENCRYPTION_KEYS.") from None


def rotate(token: str) -> str:
    """``token`` re-encrypted with the first (newest) key."""
    return _fernet().rotate(token.encode()).decode()


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; Python code sees the plaintext ("" stays "")."""

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value) if value else value
