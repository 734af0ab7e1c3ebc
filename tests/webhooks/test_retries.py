"""Retries driven from ``next_attempt_at``: the sweeper's service called directly, tasks run eagerly.

Eager tasks run where they are sent and ignore countdowns, so a retry queued as a task would be
made at once here: a delivery that waits for its due time shows that nothing was queued.
"""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.factories import WebhookAttemptFactory, WebhookEventFactory
from webhooks import services
from webhooks.choices import DeliveryStatus
from webhooks.models import WebhookEvent

from .conftest import due_now, subscribe


@pytest.fixture
def retrying(loopback_allowed):
    """Deliveries reach loopback; retries after 60 s, then 300 s."""
    loopback_allowed.PIXEE_WEBHOOK_RETRY_DELAYS = [60, 300]
    return loopback_allowed


def seconds_until(moment) -> int:
    return round((moment - timezone.now()).total_seconds())


@pytest.mark.django_db(transaction=True)
def test_a_failed_attempt_is_due_again_after_its_delay_and_no_task_waits_for_it(retrying, receiver, user):
    receiver.default_status = 503
    subscribe(user, receiver.url())
    (event,) = services.webhook_events_create(event_type="import.completed", data={}, owner_id=user.pk)

    event.refresh_from_db()
    assert len(receiver.requests) == 1  # the first attempt, sent on commit
    assert event.status == DeliveryStatus.PENDING and event.attempt_count == 1
    assert seconds_until(event.next_attempt_at) == 60
    assert event.lease is None
    assert services.webhook_events_sweep() == 0  # not due yet

    due_now(event)
    assert services.webhook_events_sweep() == 1
    event.refresh_from_db()
    assert event.attempt_count == 2 and seconds_until(event.next_attempt_at) == 300
    assert len({r.headers["Pixee-Delivery"] for r in receiver.requests}) == 1
    assert list(event.attempts.values_list("number", "status_code")) == [(1, 503), (2, 503)]

    due_now(event)
    services.webhook_events_sweep()
    event.refresh_from_db()
    assert event.status == DeliveryStatus.FAILED and event.next_attempt_at is None
    assert event.attempt_count == 3 and len(receiver.requests) == 3


@pytest.mark.django_db
def test_the_sweeper_sends_only_what_is_due(retrying, receiver, user):
    subscription = subscribe(user, receiver.url())
    now = timezone.now()
    due = WebhookEventFactory(subscription=subscription, next_attempt_at=now - timedelta(seconds=1))
    WebhookEventFactory(subscription=subscription, next_attempt_at=now + timedelta(seconds=60))
    WebhookEventFactory(subscription=subscription, status=DeliveryStatus.DELIVERED, next_attempt_at=None)
    WebhookEventFactory(subscription=subscription, status=DeliveryStatus.FAILED, next_attempt_at=now)

    assert services.webhook_events_sweep() == 1
    assert [r.headers["Pixee-Delivery"] for r in receiver.requests] == [str(due.pk)]
    assert WebhookEvent.objects.get(pk=due.pk).status == DeliveryStatus.DELIVERED


@pytest.mark.django_db
def test_a_first_attempt_whose_queueing_was_lost_is_sent_by_the_sweeper(
    retrying, receiver, user, django_capture_on_commit_callbacks
):
    subscribe(user, receiver.url())
    # The event commits, and its on-commit queueing never runs (the process died in between).
    with django_capture_on_commit_callbacks(execute=False):
        (event,) = services.webhook_events_create(event_type="import.completed", data={}, owner_id=user.pk)
    assert receiver.requests == []

    assert services.webhook_events_sweep() == 1
    assert [r.headers["Pixee-Delivery"] for r in receiver.requests] == [str(event.pk)]


@pytest.mark.django_db
def test_a_redelivery_and_a_sweeper_make_its_attempt_once(
    retrying, receiver, user, django_capture_on_commit_callbacks
):
    subscription = subscribe(user, receiver.url())
    event = WebhookEventFactory(subscription=subscription, status=DeliveryStatus.FAILED, attempt_count=1)
    WebhookAttemptFactory(event=event, number=1, status_code=500)
    with django_capture_on_commit_callbacks(execute=False) as redelivery_task:
        services.webhook_event_redeliver(event=event)

    assert services.webhook_events_sweep() == 1  # the sweeper got there first
    for queue in redelivery_task:  # then the redelivery's own task runs
        queue()

    assert len(receiver.requests) == 1
    event.refresh_from_db()
    assert event.status == DeliveryStatus.DELIVERED and event.attempt_count == 2
    assert list(event.attempts.values_list("number", "manual")) == [(1, False), (2, True)]


@pytest.mark.django_db
def test_a_failed_redelivery_is_not_retried(retrying, receiver, user, django_capture_on_commit_callbacks):
    receiver.default_status = 500
    subscription = subscribe(user, receiver.url())
    event = WebhookEventFactory(subscription=subscription, status=DeliveryStatus.FAILED, attempt_count=1)
    WebhookAttemptFactory(event=event, number=1, status_code=500)

    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_event_redeliver(event=event)
    assert len(receiver.requests) == 1
    event.refresh_from_db()
    assert event.status == DeliveryStatus.FAILED and event.next_attempt_at is None
    assert list(event.attempts.values_list("number", "manual")) == [(1, False), (2, True)]


@pytest.mark.django_db(transaction=True)
def test_two_sweepers_at_once_send_each_attempt_once(retrying, receiver, user):
    subscription = subscribe(user, receiver.url())
    events = WebhookEventFactory.create_batch(
        12, subscription=subscription, next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    start = threading.Barrier(2)
    sent = []

    def sweep():
        try:
            start.wait()
            sent.append(services.webhook_events_sweep())
        finally:
            connection.close()  # each thread has its own database connection

    sweepers = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in sweepers:
        thread.start()
    for thread in sweepers:
        thread.join(timeout=120)

    assert sum(sent) == len(events)
    assert sorted(r.headers["Pixee-Delivery"] for r in receiver.requests) == sorted(str(e.pk) for e in events)
    assert set(WebhookEvent.objects.values_list("status", "attempt_count")) == {(DeliveryStatus.DELIVERED, 1)}


@pytest.mark.django_db
def test_a_disabled_webhooks_pending_retry_is_dropped(retrying, receiver, user):
    subscription = subscribe(user, receiver.url())
    event = WebhookEventFactory(subscription=subscription, attempt_count=1, next_attempt_at=timezone.now())
    services.webhook_subscription_update(subscription=subscription, is_active=False)

    services.webhook_events_sweep()
    assert receiver.requests == []
    event.refresh_from_db()
    assert event.status == DeliveryStatus.FAILED and event.next_attempt_at is None and event.lease is None
    assert event.attempts.count() == 0
