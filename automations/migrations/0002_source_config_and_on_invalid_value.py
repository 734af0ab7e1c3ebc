# The file source's settings move from eleven columns into one encrypted JSON configuration
# (each source declares its settings in automations/sources/), FTPS becomes a type of its own
# instead of the ftp type's tls column, and automations get on_invalid_value.
#
# The move is written against the columns as 0001 made them, not against today's source modules,
# so that it keeps meaning the same thing when the sources change. It runs both ways.

import pixee.crypto
from django.db import migrations, models

# Column → the file_source name the API always used for it.
COLUMNS = {
    "host": "host",
    "port": "port",
    "username": "username",
    "password": "password",
    "private_key": "private_key",
    "path": "path",
    "url": "url",
    "host_key": "host_key",
    "headers": "headers",
    "http_authorization": "authorization",
}
# What each type used; the services wrote the other columns' defaults, but a value set there by
# hand is carried over too (the configuration ignores it, the reverse migration restores it).
USED = {
    "sftp": {"host", "port", "username", "password", "private_key", "path", "host_key"},
    "ftp": {"host", "port", "username", "password", "path"},
    "http": {"url", "headers", "username", "password", "authorization"},
}
DEFAULTS = {"port": None, "headers": {}}


def _is_default(name, value):
    return value == DEFAULTS.get(name, "")


def columns_to_config(apps, schema_editor):
    Automation = apps.get_model("automations", "Automation")
    automations = Automation.objects.using(schema_editor.connection.alias)
    for automation in automations.all():  # the model fields decrypt the old secret columns
        values = {name: getattr(automation, column) for column, name in COLUMNS.items()}
        used = USED.get(automation.source_type, set())
        config = {
            name: value
            for name, value in values.items()
            if (name in used and value is not None) or not _is_default(name, value)
        }
        source_type = automation.source_type
        if source_type == "ftp" and automation.tls:
            source_type = "ftps"
        elif automation.tls:
            config["tls"] = True
        automations.filter(pk=automation.pk).update(source_type=source_type, source_config=config)


def config_to_columns(apps, schema_editor):
    Automation = apps.get_model("automations", "Automation")
    automations = Automation.objects.using(schema_editor.connection.alias)
    for automation in automations.all():
        config = dict(automation.source_config)
        source_type, tls = automation.source_type, bool(config.pop("tls", False))
        if source_type == "ftps":
            source_type, tls = "ftp", True
        columns = {column: config.get(name, DEFAULTS.get(name, "")) for column, name in COLUMNS.items()}
        automations.filter(pk=automation.pk).update(source_type=source_type, tls=tls, **columns)


class Migration(migrations.Migration):

    dependencies = [
        ('automations', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='automation',
            name='on_invalid_value',
            field=models.CharField(choices=[('skip_row', 'Skip the row'), ('skip_value', 'Keep the row without the value')], default='skip_row', help_text='What a bad value costs in the jobs this automation creates: its row, or only itself.', max_length=16),
        ),
        migrations.AddField(
            model_name='automation',
            name='source_config',
            field=pixee.crypto.EncryptedJSONField(blank=True, default=dict, verbose_name='source settings'),
        ),
        migrations.RunPython(columns_to_config, config_to_columns),
        migrations.RemoveField(
            model_name='automation',
            name='headers',
        ),
        migrations.RemoveField(
            model_name='automation',
            name='host',
        ),
        migrations.RemoveField(
            model_name='automation',
            name='host_key',
        ),
        migrations.RemoveField(
            model_name='automation',
            name='http_authorization',
        ),
        migrations.RemoveField(
            model_name='automation',
            name='password',
        ),
        migrations.RemoveField(
            model_name='automation',
            name='path',
        ),
        migrations.RemoveField(
            model_name='automation',
            name='port',
        ),
        migrations.RemoveField(
            model_name='automation',
            name='private_key',
        ),
        migrations.RemoveField(
            model_name='automation',
            name='tls',
        ),
        migrations.RemoveField(
            model_name='automation',
            name='url',
        ),
        migrations.RemoveField(
            model_name='automation',
            name='username',
        ),
    ]
