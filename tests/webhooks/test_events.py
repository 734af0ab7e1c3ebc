"""Events are written in the transaction of the change they report, not in an on-commit callback.

Here no on-commit callback runs, as if the process died right after the commit: what the
change's transaction wrote is all there is. (A status change: tests/webhooks/test_delivery.py.)
"""

import pytest

from imports import revert
from imports import services as import_services
from webhooks.models import WebhookEvent

from .conftest import run_import, subscribe

pytestmark = pytest.mark.django_db


def test_import_reverted_is_written_with_the_revert(user, csv_upload, django_capture_on_commit_callbacks):
    subscribe(user, "https://hooks.example.invalid/x", ["import.reverted"])
    job = run_import(user, csv_upload())
    with django_capture_on_commit_callbacks(execute=False):
        import_services.import_job_revert(job=job)
        revert.run(job.pk)

    job.refresh_from_db()
    assert job.reverted_at is not None
    (event,) = WebhookEvent.objects.filter(job=job, type="import.reverted")
    assert event.payload["data"]["reverted_at"] and event.payload["data"]["products_deleted"] == 3
