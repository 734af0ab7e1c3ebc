"""Encryption at rest for secrets (source passwords, private keys, webhook secrets).

``PIXEE_ENCRYPTION_KEYS`` is a comma-separated list of Fernet keys: the first encrypts, all
decrypt. A key is rotated by putting the new one first, running ``rotate_encryption_keys``
(``secrets_rotate``: every stored secret re-encrypted with it), then removing the old one.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction


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


class EncryptedJSONField(EncryptedTextField):
    """A JSON object stored as one encrypted text: Python code sees the dict ({} is stored as "").

    A subclass of ``EncryptedTextField`` so that ``secrets_rotate`` re-encrypts it like the others.
    """

    # What django-stubs reads as the attribute's type (a TextField's would be str).
    _pyi_private_set_type: dict[str, Any]  # type: ignore[assignment]
    _pyi_private_get_type: dict[str, Any]  # type: ignore[assignment]

    def from_db_value(self, value, expression, connection):
        return json.loads(decrypt(value)) if value else {}

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value) if value else {}
        return value

    def get_prep_value(self, value):
        return encrypt(json.dumps(value, sort_keys=True)) if value else ""

    def value_to_string(self, obj) -> str:
        return json.dumps(self.value_from_object(obj), sort_keys=True)


def secrets_rotate() -> dict[str, int]:
    """Re-encrypt every stored secret with the first key; returns the count per ``app.Model``.

    Raw SQL on purpose: the ORM would decrypt on read and encrypt again on write, and Fernet's
    own rotation keeps each token's timestamp. Raises DecryptionError naming the row that no
    configured key can read (nothing is changed then).
    """
    counts: dict[str, int] = {}
    quote = connection.ops.quote_name
    with transaction.atomic():
        for model in apps.get_models():
            fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            table, pk = quote(model._meta.db_table), quote(model._meta.pk.column or "id")
            label = model._meta.label
            for field in fields:
                column = quote(field.column or field.name)
                with connection.cursor() as cursor:
                    cursor.execute(f"SELECT {pk}, {column} FROM {table} WHERE {column} <> ''")
                    rows = cursor.fetchall()
                for key, token in rows:
                    try:
                        rotated = rotate(token)
                    except InvalidToken:
                        raise DecryptionError(
                            f"{label} {key}: its {field.name} cannot be decrypted with PIXEE_ENCRYPTION_KEYS."
                        ) from None
                    with connection.cursor() as cursor:
                        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE {pk} = %s", [rotated, key])
                counts[label] = counts.get(label, 0) + len(rows)
    return counts
