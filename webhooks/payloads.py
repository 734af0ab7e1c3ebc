"""What a webhook POST carries: a versioned contract of its own (docs/webhooks.md, "Payloads").

The API's serializers may change with the API; a signed payload must not change with them.
Fields may be added within a version (receivers ignore fields they do not know); removing or
renaming one, or changing its type or meaning, takes a new ``VERSION``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from rest_framework import serializers

from imports.models import ImportJob

VERSION = 1


class ImportJobPayload(serializers.Serializer):
    """``data`` of the ``import.*`` events: the job as it stands when the event is created."""

    id = serializers.UUIDField()
    file_name = serializers.CharField()
    file_type = serializers.CharField()
    file_size = serializers.IntegerField()
    status = serializers.CharField()
    total_rows = serializers.IntegerField(allow_null=True)
    successful_rows = serializers.IntegerField()
    failed_rows = serializers.IntegerField()
    products_created = serializers.IntegerField()
    products_updated = serializers.IntegerField()
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    error_summary = serializers.SerializerMethodField()
    supplier_code = serializers.CharField()
    dry_run = serializers.BooleanField()
    processed_rows = serializers.IntegerField()
    progress = serializers.IntegerField()
    products_unchanged = serializers.IntegerField()
    mapping = serializers.JSONField()
    mapping_sources = serializers.JSONField()
    on_invalid_value = serializers.CharField()
    created_at = serializers.DateTimeField()
    rows_per_second = serializers.FloatField(allow_null=True)
    eta_seconds = serializers.IntegerField(allow_null=True)
    reverted_at = serializers.DateTimeField(allow_null=True)
    products_restored = serializers.IntegerField()
    products_deleted = serializers.IntegerField()
    products_skipped = serializers.IntegerField()

    def get_error_summary(self, job: ImportJob) -> str | None:
        return job.error_summary or None


class AutomationPayload(serializers.Serializer):
    id = serializers.CharField(source="pk")
    name = serializers.CharField()
    supplier_code = serializers.CharField()


class AutomationRunPayload(serializers.Serializer):
    id = serializers.CharField(source="pk")
    status = serializers.CharField()
    job_id = serializers.CharField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


def job_data(job: ImportJob) -> dict[str, Any]:
    """``data`` of an ``import.*`` event."""
    return dict(ImportJobPayload(job).data)


def automation_failure_data(*, automation: Any, run: Any, error: str) -> dict[str, Any]:
    """``data`` of ``automation.failed``: the automation, the failed run, and why it failed."""
    return {
        "automation": dict(AutomationPayload(automation).data),
        "run": dict(AutomationRunPayload(run).data),
        "error": error,
    }


def envelope(*, event_id: uuid.UUID, event_type: str, created_at: datetime, data: dict[str, Any]) -> dict:
    """The body of every delivery of one event to one endpoint (its ``id`` is ``Pixee-Delivery``)."""
    return {
        "id": str(event_id),
        "type": event_type,
        "version": VERSION,
        "created_at": serializers.DateTimeField().to_representation(created_at),
        "data": data,
    }
