"""End to end: uploads through the API, run by the real Celery worker, notified on loopback; the
retries sent by a real beat's sweeper."""

import importlib
import json
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from tests.conftest import wait_for
from tests.factories import WebhookEventFactory, ean13
from webhooks.choices import DeliveryStatus
from webhooks.models import WebhookEvent, WebhookSubscription
from webhooks.signing import signature_verify

pytestmark = [pytest.mark.slow, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SWEEP_TASK = "webhooks.tasks.sweep_webhook_deliveries"


@pytest.fixture(scope="module")
def celery_worker_process(start_worker):
    """The module's worker: a failed attempt is due again after 1 s (its env allows loopback)."""
    return start_worker(PIXEE_WEBHOOK_RETRY_DELAYS="1,1")


@pytest.fixture
def sweeping_every_second():
    """The migration's beat entry (flushed with the other rows between tests), every second."""
    migration = importlib.import_module("webhooks.migrations.0003_retries_from_next_attempt_at")
    migration.sweep_from_beat(apps, None)
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period="seconds")
    assert PeriodicTask.objects.filter(task=SWEEP_TASK).update(interval=every_second) == 1


def upload_catalog(api, rows: int, **fields):
    lines = "\n".join(f"{ean13(i)},Product {i},{i}.50" for i in range(1, rows + 1))
    upload = SimpleUploadedFile("catalog.csv", f"ean,name,price\n{lines}\n".encode())
    created = api.post("/api/v1/imports/jobs", {"file": upload, "supplier_code": "E2E", **fields})
    assert created.status_code == 201, created.json()
    return created.json()


def subscribe(api, receiver, path: str) -> dict:
    return api.post(
        "/api/v1/webhooks", {"url": receiver.url(path), "events": ["import.completed"]}, format="json"
    ).json()


def settled(count: int) -> bool:
    events = list(WebhookEvent.objects.values_list("status", flat=True))
    return len(events) == count and DeliveryStatus.PENDING not in events


def test_a_completed_import_is_notified_once_to_the_subscription_and_the_job_url(
    celery_worker_process, api, receiver, settings
):
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = True  # the worker's own env allows it too (tests/conftest.py)
    webhook = subscribe(api, receiver, "/sub")
    job = upload_catalog(api, 20, webhook_url=receiver.url("/job"))

    # Both deliveries settled: nothing else is coming (a settled delivery is never sent again).
    wait_for(lambda: settled(2), timeout=60, message="both deliveries settled")
    assert set(WebhookEvent.objects.values_list("status", "attempt_count")) == {(DeliveryStatus.DELIVERED, 1)}
    assert sorted(r.path for r in receiver.requests) == ["/job", "/sub"]
    for request in receiver.requests:
        secret = webhook["secret"] if request.path == "/sub" else job["webhook_secret"]
        assert signature_verify(secret=secret, body=request.body, header=request.headers["Pixee-Signature"])
        payload = json.loads(request.body)
        assert request.headers["Pixee-Event"] == payload["type"] == "import.completed"
        assert payload["data"]["id"] == job["id"] and payload["data"]["products_created"] == 20
    assert api.get(f"/api/v1/imports/jobs/{job['id']}").json()["status"] == "completed"


def test_a_failed_attempt_is_retried_by_the_beat_sweeper_once_due(
    celery_worker_process, start_beat, sweeping_every_second, api, receiver, settings
):
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = True
    receiver.statuses = [503]
    subscribe(api, receiver, "/sub")
    upload_catalog(api, 3)

    event = wait_for(
        lambda: WebhookEvent.objects.filter(attempt_count=1).first(), timeout=60, message="the first attempt"
    )
    assert event.status == DeliveryStatus.PENDING
    # No task waits for the retry: without beat it is still not made well after it fell due.
    wait_for(
        lambda: timezone.now() > event.next_attempt_at + timedelta(seconds=3), message="the retry overdue"
    )
    assert len(receiver.requests) == 1 and WebhookEvent.objects.get().attempt_count == 1

    start_beat()
    wait_for(lambda: settled(1), timeout=60, message="the retry sent by the sweeper")
    event.refresh_from_db()
    assert event.status == DeliveryStatus.DELIVERED
    assert list(event.attempts.values_list("number", "status_code")) == [(1, 503), (2, 200)]
    first, second = event.attempts.all()
    assert second.created_at - first.created_at >= timedelta(seconds=1)
    assert [r.headers["Pixee-Delivery"] for r in receiver.requests] == [str(event.pk)] * 2


def test_an_event_whose_first_attempt_was_never_queued_is_sent_by_the_beat_sweeper(
    celery_worker_process, start_beat, sweeping_every_second, api, receiver, settings
):
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = True
    subscription = WebhookSubscription.objects.get(pk=subscribe(api, receiver, "/sub")["id"])
    # Committed and due, but never handed to the broker, as a crash right after the commit leaves it.
    event = WebhookEventFactory(subscription=subscription, next_attempt_at=timezone.now())

    start_beat()
    wait_for(lambda: settled(1), timeout=60, message="the delivery sent by the sweeper")
    assert WebhookEvent.objects.get(pk=event.pk).status == DeliveryStatus.DELIVERED
    assert [r.headers["Pixee-Delivery"] for r in receiver.requests] == [str(event.pk)]
