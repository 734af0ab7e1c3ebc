import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from imports.choices import OnInvalidValue
from pixee.crypto import EncryptedJSONField

from .choices import RunStatus, RunTrigger
from .sources import FileSource, source_for


def _default_timezone() -> str:
    return settings.TIME_ZONE


class Automation(models.Model):
    """A recurring import: where the file comes from, when, and how its columns map.

    It owns one django-celery-beat periodic task (with its own crontab); the services keep them in
    step on every create, update, toggle and delete. Secrets are encrypted at rest and write-only.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="automations"
    )
    name = models.CharField(max_length=200)
    supplier_code = models.CharField(max_length=100, blank=True, default="", db_index=True)
    schedule = models.CharField(max_length=100, help_text='Cron expression, e.g. "0 2 * * *".')
    timezone = models.CharField(max_length=64, default=_default_timezone)
    mapping = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    on_invalid_value = models.CharField(
        max_length=16,
        choices=OnInvalidValue.choices,
        default=OnInvalidValue.SKIP_ROW,
        help_text="What a bad value costs in the jobs this automation creates: its row, or only itself.",
    )

    # file_source: the type picks the source module (automations/sources/), whose declared settings
    # the configuration holds by their API names, secrets included: all of it encrypted at rest.
    source_type = models.CharField("type", max_length=16)
    source_config = EncryptedJSONField("source settings", default=dict, blank=True)

    periodic_task = models.OneToOneField(
        PeriodicTask,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="automation",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    def source(self) -> FileSource:
        """The file source, its secrets in clear (never log or return its settings).

        ``SourceConfigError`` when no module implements ``source_type`` any more.
        """
        return source_for(self.source_type).from_config(self.source_config)


class AutomationRun(models.Model):
    """One pull of an automation's file. ``completed`` means fetched and an import job created
    (the job has its own status); ``skipped`` means identical to the last completed run's file."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    automation = models.ForeignKey(Automation, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    trigger = models.CharField(max_length=16, choices=RunTrigger.choices, default=RunTrigger.SCHEDULE)
    job = models.ForeignKey(
        "imports.ImportJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="automation_runs"
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    bytes = models.BigIntegerField(null=True, blank=True)
    checksum = models.CharField("SHA-256", max_length=64, blank=True, default="")
    # SFTP: the public key line the server presented when it was not the pinned one.
    host_key = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["automation", "-started_at"])]
        constraints = [
            # The lock of last resort: one automation never has two runs in flight.
            models.UniqueConstraint(
                fields=["automation"], condition=Q(status="running"), name="automations_one_running_run"
            )
        ]

    def __str__(self) -> str:
        return f"{self.automation} at {self.started_at:%Y-%m-%d %H:%M} ({self.status})"
