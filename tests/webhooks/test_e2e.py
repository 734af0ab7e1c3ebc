"""End to end: an upload through the API, run by the real Celery worker, notified on loopback."""

import json
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import wait_for
from tests.factories import ean13
from webhooks.models import WebhookEvent
from webhooks.signing import signature_verify


@pytest.mark.slow
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_completed_import_is_notified_once_to_the_subscription_and_the_job_url(
    celery_worker_process, api, receiver, settings
):
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = True  # the worker's own env allows it too (tests/conftest.py)
    webhook = api.post(
        "/api/v1/webhooks", {"url": receiver.url("/sub"), "events": ["import.completed"]}, format="json"
    ).json()
    rows = "\n".join(f"{ean13(i)},Product {i},{i}.50" for i in range(1, 21))
    upload = SimpleUploadedFile("catalog.csv", f"ean,name,price\n{rows}\n".encode())
    created = api.post(
        "/api/v1/imports/jobs", {"file": upload, "supplier_code": "E2E", "webhook_url": receiver.url("/job")}
    )
    assert created.status_code == 201, created.json()
    job = created.json()

    wait_for(lambda: len(receiver.requests) >= 2, timeout=60, message="two webhook deliveries")
    time.sleep(1)  # anything extra (a duplicate, a second event) would have arrived by now
    assert sorted(r.path for r in receiver.requests) == ["/job", "/sub"]
    for request in receiver.requests:
        secret = webhook["secret"] if request.path == "/sub" else job["webhook_secret"]
        assert signature_verify(secret=secret, body=request.body, header=request.headers["Pixee-Signature"])
        payload = json.loads(request.body)
        assert request.headers["Pixee-Event"] == payload["type"] == "import.completed"
        assert payload["data"]["id"] == job["id"] and payload["data"]["products_created"] == 20
    assert api.get(f"/api/v1/imports/jobs/{job['id']}").json()["status"] == "completed"
    wait_for(
        lambda: set(WebhookEvent.objects.values_list("status", flat=True)) == {"delivered"},
        timeout=10,
        message="both deliveries recorded as delivered",
    )
