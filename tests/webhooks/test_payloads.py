"""The payload contract (docs/webhooks.md, "Payloads"): the exact keys of every event, version 1.

The keys are written out here, not imported: a change to the payload has to change this file
and the documentation too, deliberately, and a breaking one takes a new version.
"""

import re
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from imports import services as import_services
from webhooks import services
from webhooks.choices import EventType

from .conftest import subscribe

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"

ENVELOPE = {"id", "type", "version", "created_at", "data"}
JOB = {
    "id",
    "file_name",
    "file_type",
    "file_size",
    "status",
    "total_rows",
    "successful_rows",
    "failed_rows",
    "products_created",
    "products_updated",
    "started_at",
    "completed_at",
    "error_summary",
    "supplier_code",
    "dry_run",
    "processed_rows",
    "progress",
    "products_unchanged",
    "mapping",
    "mapping_sources",
    "on_invalid_value",
    "created_at",
    "rows_per_second",
    "eta_seconds",
    "reverted_at",
    "products_restored",
    "products_deleted",
    "products_skipped",
}
AUTOMATION_FAILED = {"automation", "run", "error"}
AUTOMATION = {"id", "name", "supplier_code"}
RUN = {"id", "status", "job_id", "started_at", "finished_at"}

pytestmark = pytest.mark.django_db


@pytest.fixture
def everything(user):
    """A subscription to every event, and a job of its owner."""
    subscribe(user, "https://hooks.example.invalid/all", list(EventType.values))
    upload = SimpleUploadedFile("c.csv", b"ean,name\n4006381333931,A\n")
    return import_services.import_job_create(user=user, file=upload, enqueue=False)


@pytest.mark.parametrize("status", ["ready", "completed", "failed", "cancelled"])
def test_an_import_status_event_carries_the_job(everything, status):
    (event,) = services.webhook_events_create_for_job(job_id=everything.pk, status=status)
    assert set(event.payload) == ENVELOPE
    assert event.payload["type"] == f"import.{status}" and event.payload["version"] == 1
    assert event.payload["id"] == str(event.pk)
    assert set(event.payload["data"]) == JOB
    assert event.payload["data"]["id"] == str(everything.pk)


def test_import_reverted_carries_the_job(everything):
    (event,) = services.webhook_events_create_for_revert(job_id=everything.pk)
    assert set(event.payload) == ENVELOPE and event.payload["type"] == "import.reverted"
    assert set(event.payload["data"]) == JOB


def test_automation_failed_carries_the_automation_the_run_and_the_error(user):
    subscribe(user, "https://hooks.example.invalid/all", ["automation.failed"])
    automation = SimpleNamespace(pk=uuid.uuid4(), name="Daily A", supplier_code="A", created_by_id=user.pk)
    run = SimpleNamespace(
        pk=uuid.uuid4(), status="failed", job_id=uuid.uuid4(), started_at=timezone.now(), finished_at=None
    )
    (event,) = services.webhook_events_create_for_automation_failure(
        automation=automation, run=run, error="No file at /exports/x.csv."
    )
    payload = event.payload
    assert set(payload) == ENVELOPE and payload["type"] == "automation.failed"
    assert set(payload["data"]) == AUTOMATION_FAILED
    assert payload["data"]["automation"] == {
        "id": str(automation.pk),
        "name": "Daily A",
        "supplier_code": "A",
    }
    assert set(payload["data"]["run"]) == RUN
    assert (
        payload["data"]["run"]["job_id"] == str(run.job_id) and payload["data"]["run"]["finished_at"] is None
    )
    assert payload["data"]["error"] == "No file at /exports/x.csv."


def _documented(heading: str) -> set[str]:
    """The field names (first column, in backticks) of the table under ``heading``."""
    section = DOC.read_text().split(heading, 1)[1].split("\n#", 1)[0]
    return set(re.findall(r"^\| `([a-z_.]+)` \|", section, flags=re.MULTILINE))


def test_the_documentation_lists_every_field_and_no_other():
    assert _documented("### The envelope") == ENVELOPE
    assert _documented("### `import.*` events: the job") == JOB
    documented = _documented("### `automation.failed`")
    assert {name.split(".")[0] for name in documented} == AUTOMATION_FAILED
    assert documented == {"error"} | {f"automation.{k}" for k in AUTOMATION} | {f"run.{k}" for k in RUN}
