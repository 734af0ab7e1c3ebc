import pytest
from cryptography.fernet import Fernet

from pixee import crypto


def test_round_trip_and_rotation(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PIXEE_ENCRYPTION_KEYS = [old]
    token = crypto.encrypt("s3cret")
    assert "s3cret" not in token
    settings.PIXEE_ENCRYPTION_KEYS = [new, old]
    assert crypto.decrypt(token) == "s3cret"  # old tokens still read
    rotated = crypto.rotate(token)
    settings.PIXEE_ENCRYPTION_KEYS = [new]
    assert crypto.decrypt(rotated) == "s3cret"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token)  # the old key is gone


def test_production_requires_keys(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.PIXEE_ENCRYPTION_KEYS = []
    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured):
        crypto.encrypt("x")
