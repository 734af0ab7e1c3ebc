"""Delivery through the real pipeline and a real HTTP receiver on loopback, tasks run eagerly.

These tests commit (transaction=True): events are created and sent on commit, as in production.
"""

import http.server
import json
import threading
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.utils import timezone

from automations.signals import automation_failed
from imports import services as import_services
from imports.models import ImportJob
from pixee import netguard
from tests.factories import UserFactory, WebhookEventFactory, WebhookSubscriptionFactory
from webhooks import services
from webhooks.choices import DeliveryStatus
from webhooks.models import WebhookAttempt, WebhookEvent, WebhookSubscription
from webhooks.signing import signature_verify

from .conftest import due_now, run_import, subscribe

pytestmark = pytest.mark.django_db(transaction=True)


def verified(request, secret: str) -> bool:
    return signature_verify(secret=secret, body=request.body, header=request.headers["Pixee-Signature"])


def test_a_completed_import_sends_one_event_to_the_subscription_and_to_the_job_url(
    loopback_allowed, receiver, csv_upload
):
    user = UserFactory()
    subscription = subscribe(user, receiver.url("/sub"), ["import.completed", "import.failed"])
    job = run_import(user, csv_upload(), webhook_url=receiver.url("/job"))
    assert job.status == "completed"

    (to_sub,) = receiver.to("/sub")
    (to_job,) = receiver.to("/job")
    for request, secret in [(to_sub, subscription.secret), (to_job, job.webhook_secret)]:
        assert request.headers["Pixee-Event"] == "import.completed"
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["User-Agent"].startswith("Pixee-Webhooks/")
        assert verified(request, secret)
        payload = json.loads(request.body)
        assert payload["id"] == request.headers["Pixee-Delivery"]
        assert payload["type"] == "import.completed"
        assert payload["created_at"]
        # The job exactly as GET /api/v1/imports/jobs/{id} shows it.
        assert payload["data"]["id"] == str(job.pk)
        assert payload["data"]["status"] == "completed"
        assert payload["data"]["products_created"] == 3
    assert not verified(to_sub, job.webhook_secret)  # each endpoint has its own secret
    assert to_sub.headers["Pixee-Delivery"] != to_job.headers["Pixee-Delivery"]
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}


def test_the_payload_is_the_api_view_of_the_job(loopback_allowed, receiver, csv_upload):
    from rest_framework.test import APIClient

    from pixee.apikeys import api_key_create

    user = UserFactory()
    job = run_import(user, csv_upload(), webhook_url=receiver.url("/job"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=user, name='t')[1]}")
    shown = client.get(f"/api/v1/imports/jobs/{job.pk}").json()
    assert json.loads(receiver.requests[0].body)["data"] == shown


def test_a_dry_run_sends_ready_and_the_subscription_gets_only_its_events(
    loopback_allowed, receiver, csv_upload
):
    user = UserFactory()
    subscribe(user, receiver.url("/ready"), ["import.ready"])
    subscribe(user, receiver.url("/done"), ["import.completed"])
    job = run_import(user, csv_upload(), dry_run=True)
    assert job.status == "ready"
    assert [r.headers["Pixee-Event"] for r in receiver.requests] == ["import.ready"]
    assert receiver.requests[0].path == "/ready"


def test_other_owners_jobs_are_not_sent_but_staff_subscriptions_get_all(
    loopback_allowed, receiver, csv_upload
):
    owner, stranger, staff = UserFactory(), UserFactory(), UserFactory(is_staff=True)
    subscribe(stranger, receiver.url("/stranger"))
    subscribe(staff, receiver.url("/staff"))
    run_import(owner, csv_upload())
    assert [r.path for r in receiver.requests] == ["/staff"]


def test_a_receiver_failing_twice_gets_three_attempts_with_one_delivery_id(
    loopback_allowed, receiver, csv_upload
):
    receiver.statuses = [500, 503]
    user = UserFactory()
    subscription = subscribe(user, receiver.url())
    run_import(user, csv_upload())

    assert len(receiver.requests) == 3
    delivery_ids = {r.headers["Pixee-Delivery"] for r in receiver.requests}
    assert len(delivery_ids) == 1
    bodies = {r.body for r in receiver.requests}
    assert len(bodies) == 1
    assert all(verified(r, subscription.secret) for r in receiver.requests)

    event = WebhookEvent.objects.get()
    assert str(event.pk) == delivery_ids.pop()
    assert event.status == DeliveryStatus.DELIVERED and event.attempt_count == 3
    attempts = list(event.attempts.values_list("number", "status_code", "manual"))
    assert attempts == [(1, 500, False), (2, 503, False), (3, 200, False)]
    first = event.attempts.get(number=1)
    assert "HTTP 500" in first.error and first.response_body == "answered 500"
    assert first.duration_ms >= 0
    subscription.refresh_from_db()
    assert subscription.is_active and subscription.failing_since is None


def test_network_errors_are_recorded_and_retried(loopback_allowed):
    user = UserFactory()
    subscription = subscribe(user, f"http://127.0.0.1:{closed_port()}/hook")
    (event,) = services.webhook_events_create(event_type="import.completed", data={}, owner_id=user.pk)
    event.refresh_from_db()
    assert event.status == DeliveryStatus.FAILED and event.attempt_count == 3
    errors = list(event.attempts.values_list("error", flat=True))
    assert errors == ["The request failed: Connection refused."] * 3
    assert all(a.status_code is None for a in event.attempts.all())
    subscription.refresh_from_db()
    assert not subscription.is_active  # the whole (short) retry cycle failed


def closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "[::1]", "169.254.169.254", "2130706433", "[::ffff:127.0.0.1]"]
)
def test_private_addresses_are_refused_at_delivery(settings, eager_celery, receiver, host):
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = False
    settings.PIXEE_WEBHOOK_RETRY_DELAYS = [0, 0]
    # As if the name had resolved to a public address at creation, and no longer does.
    subscription = WebhookSubscriptionFactory(
        url=f"http://{host}:{receiver.port}/hook", events=["import.failed"]
    )
    services.webhook_events_create(event_type="import.failed", data={}, owner_id=subscription.created_by_id)

    assert receiver.requests == []
    event = WebhookEvent.objects.get()
    assert event.status == DeliveryStatus.FAILED
    (attempt,) = event.attempts.all()  # refused addresses are not retried
    assert "private or reserved address" in attempt.error and attempt.status_code is None
    subscription.refresh_from_db()
    assert not subscription.is_active
    assert "private or reserved address" in subscription.disabled_reason


def test_a_delivery_redirected_to_a_private_address_is_not_followed(
    settings, eager_celery, receiver, monkeypatch
):
    """127.0.0.2 stands for a public endpoint (declared public here) that redirects to loopback."""
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = False
    settings.PIXEE_WEBHOOK_RETRY_DELAYS = [0, 0]
    real = netguard.is_public
    monkeypatch.setattr(netguard, "is_public", lambda address: address == "127.0.0.2" or real(address))
    posts = []

    class Redirector(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            posts.append(self.path)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(307)  # 307 keeps the method and the body: the riskiest redirect
            self.send_header("Location", receiver.url("/hook"))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.2", 0), Redirector)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        subscription = WebhookSubscriptionFactory(
            url=f"http://127.0.0.2:{server.server_port}/hook", events=["import.failed"]
        )
        services.webhook_events_create(
            event_type="import.failed", data={}, owner_id=subscription.created_by_id
        )
    finally:
        server.shutdown()
        server.server_close()

    assert posts and set(posts) == {"/hook"}  # the allowed endpoint was reached, on every attempt
    assert receiver.requests == []  # the redirect to loopback was not followed
    attempts = WebhookAttempt.objects.order_by("number")
    assert {a.status_code for a in attempts} == {307}
    assert attempts[0].error == (
        "The endpoint answered HTTP 307 (redirects are not followed: give the final URL)."
    )


def test_nothing_is_sent_for_a_transaction_that_rolled_back(loopback_allowed, receiver, csv_upload):
    user = UserFactory()
    subscribe(user, receiver.url(), ["import.cancelled"])
    job = import_services.import_job_create(
        user=user, file=csv_upload(), webhook_url=receiver.url("/job"), enqueue=False
    )
    with pytest.raises(RuntimeError), transaction.atomic():
        import_services.import_job_cancel(job=job)
        raise RuntimeError("the request failed after cancelling")
    job.refresh_from_db()
    assert job.status == "pending"
    assert not WebhookEvent.objects.exists()
    assert receiver.requests == []

    import_services.import_job_cancel(job=job)  # and once it commits, it is sent
    assert sorted(r.path for r in receiver.requests) == ["/hook", "/job"]
    assert {r.headers["Pixee-Event"] for r in receiver.requests} == {"import.cancelled"}


def test_a_failed_import_sends_import_failed(loopback_allowed, receiver, tmp_path):
    from django.core.files import File

    user = UserFactory()
    subscribe(user, receiver.url(), ["import.failed"])
    path = tmp_path / "bad.csv"
    path.write_text("name,price\nA,1\n")  # no EAN column: a critical error
    with path.open("rb") as handle:
        job = run_import(user, File(handle, name="bad.csv"))
    assert job.status == "failed"
    (request,) = receiver.requests
    payload = json.loads(request.body)
    assert payload["type"] == "import.failed"
    assert payload["data"]["error_summary"] == job.error_summary


def test_an_endpoint_failing_a_whole_retry_cycle_is_disabled_with_a_reason(
    loopback_allowed, receiver, api, csv_upload
):
    receiver.default_status = 500
    subscription = subscribe(api.user, receiver.url())
    run_import(api.user, csv_upload())
    assert len(receiver.requests) == 3

    body = api.get(f"/api/v1/webhooks/{subscription.pk}").json()
    assert body["is_active"] is False and body["disabled_at"]
    reason = body["disabled_reason"]
    assert "all 3 attempts" in reason and "HTTP 500" in reason and "re-enable" in reason
    deliveries = api.get(f"/api/v1/webhooks/{subscription.pk}/deliveries").json()["items"]
    assert deliveries[0]["status"] == "failed" and len(deliveries[0]["attempts"]) == 3

    # Disabled: later events are not addressed to it.
    run_import(api.user, csv_upload())
    assert len(receiver.requests) == 3 and WebhookEvent.objects.count() == 1

    # Redelivering checks the repaired endpoint without re-enabling it.
    receiver.default_status = 200
    event = WebhookEvent.objects.get()
    response = api.post(f"/api/v1/webhooks/{subscription.pk}/deliveries/{event.pk}/redeliver")
    assert response.status_code == 202
    event.refresh_from_db()
    assert event.status == DeliveryStatus.DELIVERED and event.attempt_count == 4
    assert event.attempts.get(number=4).manual
    assert len({r.headers["Pixee-Delivery"] for r in receiver.requests}) == 1
    assert not WebhookSubscription.objects.get().is_active

    reenabled = api.patch(f"/api/v1/webhooks/{subscription.pk}", {"is_active": True}, format="json")
    assert reenabled.json()["is_active"] is True and reenabled.json()["disabled_reason"] is None


def test_a_flaky_endpoint_that_answers_in_between_stays_enabled(settings, receiver):
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = True
    settings.PIXEE_WEBHOOK_RETRY_DELAYS = [60, 60]
    subscription = subscribe(UserFactory(), receiver.url())
    failing, passing = WebhookEventFactory.create_batch(
        2, subscription=subscription, next_attempt_at=timezone.now()
    )
    receiver.statuses = [500, 200, 500, 500]
    services.webhook_event_deliver(event_id=failing.pk)
    services.webhook_event_deliver(event_id=passing.pk)  # the endpoint answers once
    retries = []
    for _ in range(2):
        retries.append(WebhookEvent.objects.get(pk=failing.pk).next_attempt_at - timezone.now())
        due_now(failing)  # its delay has passed
        services.webhook_event_deliver(event_id=failing.pk)

    assert [round(r.total_seconds()) for r in retries] == [60, 60]  # the retries it scheduled
    assert WebhookEvent.objects.get(pk=failing.pk).status == DeliveryStatus.FAILED
    subscription.refresh_from_db()
    assert subscription.is_active is True and subscription.failing_since is not None


def test_a_duplicate_task_for_the_same_attempt_does_not_post_twice(settings, receiver):
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = True
    subscription = subscribe(UserFactory(), receiver.url())
    fast, swept = WebhookEventFactory.create_batch(
        2, subscription=subscription, next_attempt_at=timezone.now()
    )
    # The fast path's task, handed out twice by the broker.
    assert services.webhook_event_deliver(event_id=fast.pk) is not None
    assert services.webhook_event_deliver(event_id=fast.pk) is None
    # A task carrying the sweeper's claim, handed out twice.
    lease = services.webhook_event_claim(swept.pk)
    assert services.webhook_event_deliver(event_id=swept.pk, lease=lease) is not None
    assert services.webhook_event_deliver(event_id=swept.pk, lease=lease) is None
    assert len(receiver.requests) == 2
    assert WebhookAttempt.objects.count() == 2


def test_automation_failed_is_sent_to_the_automations_owner(loopback_allowed, receiver):
    from django.utils import timezone

    user = UserFactory()
    subscription = subscribe(user, receiver.url(), ["automation.failed"])
    automation = SimpleNamespace(pk="a1", name="Daily A", supplier_code="A", created_by_id=user.pk)
    run = SimpleNamespace(
        pk="r1", status="failed", job_id=None, started_at=timezone.now(), finished_at=timezone.now()
    )
    automation_failed.send(sender=None, automation=automation, run=run, error="SFTP refused the key")
    (request,) = receiver.requests
    assert verified(request, subscription.secret)
    payload = json.loads(request.body)
    assert payload["type"] == "automation.failed"
    assert payload["data"]["automation"] == {"id": "a1", "name": "Daily A", "supplier_code": "A"}
    assert payload["data"]["run"]["id"] == "r1" and payload["data"]["run"]["started_at"]
    assert payload["data"]["error"] == "SFTP refused the key"


def test_the_jobs_webhook_secret_is_encrypted_at_rest(settings, csv_upload):
    job = import_services.import_job_create(
        user=None, file=csv_upload(), webhook_url="https://hooks.example.invalid/x", enqueue=False
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT webhook_secret FROM imports_importjob WHERE id = %s", [job.pk])
        (stored,) = cursor.fetchone()
    assert job.webhook_secret and job.webhook_secret not in stored
    assert ImportJob.objects.get(pk=job.pk).webhook_secret == job.webhook_secret


def test_an_attempt_whose_worker_died_is_made_again_once_its_lease_ends(settings, eager_celery, receiver):
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = True
    subscription = subscribe(UserFactory(), receiver.url())
    event = WebhookEventFactory(subscription=subscription, next_attempt_at=timezone.now())
    # A worker claimed attempt 1 and died before recording it.
    dead_lease = services.webhook_event_claim(event.pk)
    assert dead_lease is not None
    # Within its lease, neither the sweeper nor a duplicate task makes the attempt.
    assert services.webhook_events_sweep() == 0
    assert services.webhook_event_deliver(event_id=event.pk) is None
    assert receiver.requests == []
    # The lease ended without a record: the sweeper makes the same attempt again.
    due_now(event)
    assert services.webhook_events_sweep() == 1
    (attempt,) = WebhookEvent.objects.get(pk=event.pk).attempts.all()
    assert attempt.number == 1 and attempt.succeeded
    assert len(receiver.requests) == 1
    # Had the first worker come back, its lease would be gone: nothing more is sent.
    assert services.webhook_event_deliver(event_id=event.pk, lease=dead_lease) is None
    assert len(receiver.requests) == 1


def test_a_status_change_and_its_event_commit_together(loopback_allowed, receiver):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from imports import state

    user = UserFactory()
    subscribe(user, receiver.url("/sub"), ["import.cancelled"])
    job = import_services.import_job_create(
        user=user, file=SimpleUploadedFile("c.csv", b"ean,name\n4006381333931,A\n"), enqueue=False
    )
    # Written inside the status change's transaction, not in an on-commit callback that a crash
    # between the commit and the callback would skip.
    with transaction.atomic():
        state.transition(job.pk, "cancel")
        assert WebhookEvent.objects.filter(job=job, type="import.cancelled").count() == 1
        transaction.set_rollback(True)
    assert not WebhookEvent.objects.filter(job=job).exists()  # rolled back together
    assert ImportJob.objects.get(pk=job.pk).status == "pending"
