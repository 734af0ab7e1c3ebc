"""Encrypt ImportJob.webhook_secret at rest: existing plaintext secrets are encrypted first."""

import pixee.crypto
from django.db import migrations


def encrypt_existing(apps, schema_editor):
    ImportJob = apps.get_model("imports", "ImportJob")
    for pk, secret in ImportJob.objects.exclude(webhook_secret="").values_list("pk", "webhook_secret"):
        ImportJob.objects.filter(pk=pk).update(webhook_secret=pixee.crypto.encrypt(secret))


def decrypt_existing(apps, schema_editor):
    ImportJob = apps.get_model("imports", "ImportJob")
    for pk, token in ImportJob.objects.exclude(webhook_secret="").values_list("pk", "webhook_secret"):
        ImportJob.objects.filter(pk=pk).update(webhook_secret=pixee.crypto.decrypt(token))


class Migration(migrations.Migration):

    dependencies = [
        ("imports", "0002_sweeper_schedule"),
    ]

    operations = [
        # The field is still a CharField here, both ways: it reads and writes the raw column.
        # A Fernet token of a 43-character secret is about 140 characters, within its 255.
        migrations.RunPython(encrypt_existing, decrypt_existing),
        migrations.AlterField(
            model_name="importjob",
            name="webhook_secret",
            field=pixee.crypto.EncryptedTextField(blank=True, default=""),
        ),
    ]
