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


@pytest.mark.django_db
def test_the_rotation_command_lets_the_old_key_go(settings, user):
    from io import StringIO

    from django.core.management import call_command

    from automations.models import Automation
    from tests.factories import AutomationFactory, WebhookSubscriptionFactory
    from webhooks.models import WebhookSubscription

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PIXEE_ENCRYPTION_KEYS = [old]
    hook = WebhookSubscriptionFactory(created_by=user, url="https://x.example/", events=[], secret="w")
    source = AutomationFactory(
        created_by=user,
        file_source={"type": "ftp", "host": "ftp.example.com", "path": "/p.csv", "password": "p"},
    )

    settings.PIXEE_ENCRYPTION_KEYS = [new, old]
    out = StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "webhooks.WebhookSubscription: 1 secret(s) re-encrypted" in out.getvalue()
    assert "automations.Automation: 1 secret(s) re-encrypted" in out.getvalue()  # its configuration

    settings.PIXEE_ENCRYPTION_KEYS = [new]  # the old key is gone: everything still reads
    assert WebhookSubscription.objects.get(pk=hook.pk).secret == "w"
    assert Automation.objects.get(pk=source.pk).source().settings.password == "p"


@pytest.mark.django_db
def test_the_rotation_command_changes_nothing_when_a_secret_is_unreadable(settings, user):
    from django.core.management import CommandError, call_command

    from tests.factories import WebhookSubscriptionFactory

    lost, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PIXEE_ENCRYPTION_KEYS = [lost]
    hook = WebhookSubscriptionFactory(created_by=user, url="https://x.example/", events=[], secret="w")
    settings.PIXEE_ENCRYPTION_KEYS = [new]
    with pytest.raises(CommandError, match=rf"webhooks.WebhookSubscription {hook.pk}: its secret cannot be"):
        call_command("rotate_encryption_keys")
