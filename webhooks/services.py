"""Writes on webhooks: subscriptions, events addressed to endpoints, and their delivery attempts.

Delivery is driven by the database. An event is written in the transaction of the change it
reports (``pixee.events``), due at once, and its first attempt is queued when that transaction
commits (the fast path). A failed attempt (network error, timeout, any non-2xx answer) makes the
delivery due again after the next delay of ``PIXEE_WEBHOOK_RETRY_DELAYS``, in ``next_attempt_at``,
so there are ``1 + len(delays)`` attempts at most; the beat sweeper (``webhook_events_sweep``)
sends every delivery that is due, a first attempt whose queueing was lost included. No task
waits in the broker for hours (Redis would hand an unacknowledged one out again at every
visibility timeout).

Each attempt is claimed with a conditional UPDATE that gives it a lease: two sweepers, a sweeper
and the fast path, a redelivery, or a task the broker hands out twice never make the same
attempt twice, and an attempt whose worker died is made again once its lease has ended. Every
attempt made is a row.

Disabling: a subscription is disabled when a delivery has exhausted its retries and no attempt
to the endpoint (for any event) has succeeded since that delivery's first attempt, that is when
the endpoint has failed continuously for at least the sum of the delays (about 3 days by
default). A flaky endpoint that answers some deliveries stays enabled.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from imports.choices import ImportStatus
from imports.models import ImportJob
from pixee.celery import enqueue_task
from pixee.errors import Conflict
from pixee.netguard import check_endpoint_url

from . import payloads, selectors, sender
from .choices import DeliveryStatus, EventType
from .models import WebhookAttempt, WebhookEvent, WebhookSubscription

logger = logging.getLogger(__name__)

DELIVER_TASK = "webhooks.tasks.deliver_webhook_attempt"
# How long a claimed attempt holds its delivery: well above the time an attempt takes (20 s at
# most without an answer) and a queued task waits for a free worker, in the normal course.
ATTEMPT_LEASE = 300  # seconds
SWEEP_BATCH = 500  # deliveries sent per sweep at most; the next sweep, seconds later, goes on

JOB_STATUS_EVENTS = {
    ImportStatus.READY: EventType.IMPORT_READY,
    ImportStatus.COMPLETED: EventType.IMPORT_COMPLETED,
    ImportStatus.FAILED: EventType.IMPORT_FAILED,
    ImportStatus.CANCELLED: EventType.IMPORT_CANCELLED,
}


class SubscriptionRejected(ValueError):
    """The subscription cannot be saved as asked; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


# --- subscriptions ----------------------------------------------------------------------------


def webhook_subscription_create(
    *, user: AbstractBaseUser, url: str, events: list[str], is_active: bool = True
) -> WebhookSubscription:
    """Subscribe ``url`` to ``events``; the returned row's ``secret`` is the one time it is shown."""
    try:
        url = check_endpoint_url(url)
    except ValueError as exc:
        raise SubscriptionRejected("url", str(exc)) from None
    return WebhookSubscription.objects.create(
        created_by_id=user.pk,
        url=url,
        events=_checked_events(events),
        secret=secrets.token_urlsafe(32),
        is_active=is_active,
        disabled_at=None if is_active else timezone.now(),
        disabled_reason="" if is_active else "Created disabled.",
    )


def webhook_subscription_update(
    *, subscription: WebhookSubscription, is_active: bool | None = None, events: list[str] | None = None
) -> WebhookSubscription:
    """Change the events, or enable/disable; re-enabling forgets the past failures."""
    changed = []
    if events is not None:
        subscription.events = _checked_events(events)
        changed.append("events")
    if is_active is True and not subscription.is_active:
        subscription.is_active = True
        subscription.disabled_at = None
        subscription.disabled_reason = ""
        subscription.failing_since = None
        changed += ["is_active", "disabled_at", "disabled_reason", "failing_since"]
    elif is_active is False and subscription.is_active:
        subscription.is_active = False
        subscription.disabled_at = timezone.now()
        subscription.disabled_reason = "Disabled on request."
        changed += ["is_active", "disabled_at", "disabled_reason"]
    # Only these columns: deliveries update failing_since concurrently.
    if changed:
        subscription.save(update_fields=changed)
    return subscription


def webhook_subscription_delete(*, subscription: WebhookSubscription) -> None:
    """Delete the subscription with its deliveries; attempts under way find nothing to record."""
    subscription.delete()


def _checked_events(events: list[str]) -> list[str]:
    unknown = [e for e in events if e not in EventType.values]
    if unknown:
        raise SubscriptionRejected(
            "events", f"Unknown event {unknown[0]!r}; expected some of: {', '.join(EventType.values)}."
        )
    if not events:
        raise SubscriptionRejected("events", "Choose at least one event.")
    return list(dict.fromkeys(events))  # without duplicates, in the given order


# --- events -----------------------------------------------------------------------------------


def webhook_events_create(
    *, event_type: str, data: dict[str, Any], owner_id: int | None, job: ImportJob | None = None
) -> list[WebhookEvent]:
    """Address one event to each interested endpoint, due at once; queue it once committed.

    Endpoints: the active subscriptions to ``event_type`` of the owner and of staff users, and
    the job's own ``webhook_url``. Each gets its own event id (its ``Pixee-Delivery``).
    """
    targets: list[tuple[WebhookSubscription | None, str]] = [
        (subscription, subscription.url)
        for subscription in selectors.webhook_subscriptions_for(event_type=event_type, owner_id=owner_id)
    ]
    if job is not None and job.webhook_url:
        targets.append((None, job.webhook_url))
    if not targets:
        return []
    now = timezone.now()
    events = []
    for subscription, url in targets:
        event_id = uuid.uuid4()
        events.append(
            WebhookEvent(
                id=event_id,
                type=event_type,
                payload=payloads.envelope(
                    event_id=event_id, event_type=event_type, created_at=now, data=data
                ),
                subscription=subscription,
                job=job,
                url=url,
                created_at=now,
                next_attempt_at=now,
            )
        )
    with transaction.atomic():
        WebhookEvent.objects.bulk_create(events)
        for event in events:
            _queue_on_commit(event.pk)
    return events


def webhook_events_create_for_job(*, job_id, status: str) -> list[WebhookEvent]:
    """The ``import.<status>`` event, with the job as the payload contract shows it."""
    return _job_event(job_id, JOB_STATUS_EVENTS.get(ImportStatus(status)))


def webhook_events_create_for_revert(*, job_id) -> list[WebhookEvent]:
    """The ``import.reverted`` event, with the job (its revert counters)."""
    return _job_event(job_id, EventType.IMPORT_REVERTED)


def _job_event(job_id, event_type: EventType | None) -> list[WebhookEvent]:
    job = ImportJob.objects.filter(pk=job_id).first()
    if event_type is None or job is None:
        return []
    return webhook_events_create(
        event_type=event_type, data=payloads.job_data(job), owner_id=job.created_by_id, job=job
    )


def webhook_events_create_for_automation_failure(*, automation, run, error: str) -> list[WebhookEvent]:
    """The ``automation.failed`` event for a failed run of ``automation``."""
    return webhook_events_create(
        event_type=EventType.AUTOMATION_FAILED,
        data=payloads.automation_failure_data(automation=automation, run=run, error=error),
        owner_id=automation.created_by_id,
    )


# --- delivery ---------------------------------------------------------------------------------


def webhook_events_sweep() -> int:
    """Send every delivery whose next attempt is due (beat runs this); returns how many were sent.

    Each is claimed here, so a delivery waiting in a busy queue is not sent again at every sweep;
    a claim whose task never ran ends with its lease and is sent again.
    """
    due = (
        WebhookEvent.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    sent = 0
    for event_id in due:
        lease = webhook_event_claim(event_id)
        if lease is not None:
            _queue(event_id, lease)
            sent += 1
    return sent


def webhook_event_deliver(*, event_id, lease=None) -> WebhookAttempt | None:
    """Make the delivery's next attempt, record it, then schedule the retry or settle the delivery.

    ``lease`` is the claim the sweeper made for this task; without one (the fast path), the
    attempt is claimed here if it is due. Returns None when there is nothing to do: the attempt
    is not due or is another task's (a duplicate, a claim taken over), the delivery is settled or
    gone, or its subscription is disabled (its pending delivery is then dropped, as failed).
    """
    lease = webhook_event_claim(event_id) if lease is None else _renew(event_id, lease)
    if lease is None:
        return None
    event = WebhookEvent.objects.select_related("subscription", "job").filter(pk=event_id).first()
    if event is None:
        return None
    subscription = event.subscription
    if not event.next_attempt_manual and subscription is not None and not subscription.is_active:
        WebhookEvent.objects.filter(pk=event.pk, lease=lease).update(
            status=DeliveryStatus.FAILED, next_attempt_at=None, lease=None
        )
        return None
    started_at = timezone.now()
    return _record(event, lease, started_at, sender.post(event))


def webhook_event_redeliver(*, event: WebhookEvent) -> WebhookEvent:
    """Send a delivered or failed delivery once more: same id and payload, freshly signed.

    One attempt, with no automatic retries after it; it is made even if the subscription is
    disabled, so an owner can check a repaired endpoint before re-enabling it.
    """
    with transaction.atomic():
        updated = (
            WebhookEvent.objects.filter(pk=event.pk)
            .exclude(status=DeliveryStatus.PENDING)
            .update(
                status=DeliveryStatus.PENDING,
                next_attempt_at=timezone.now(),
                next_attempt_manual=True,
                lease=None,
            )
        )
        event.refresh_from_db()
        if not updated:
            when = f" (next attempt at {_utc(event.next_attempt_at)})" if event.next_attempt_at else ""
            raise Conflict(f"This delivery is still pending{when}; redeliver it once it has settled.")
        _queue_on_commit(event.pk)
    return event


def webhook_event_claim(event_id) -> uuid.UUID | None:
    """Claim the delivery's due attempt: its lease if this caller won it (one conditional UPDATE).

    Due means pending and ``next_attempt_at`` passed: a retry whose delay is over, or an attempt
    under way whose lease ended without a record (its worker died), which is made again under
    the new lease. Concurrent claimants all run this UPDATE; the first moves ``next_attempt_at``
    past now, and the row no longer matches for the others.
    """
    now = timezone.now()
    lease = uuid.uuid4()
    claimed = WebhookEvent.objects.filter(
        pk=event_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(lease=lease, next_attempt_at=now + timedelta(seconds=ATTEMPT_LEASE))
    return lease if claimed else None


def _renew(event_id, lease) -> uuid.UUID | None:
    """A full lease for the attempt the sweeper claimed, if the claim is still this task's."""
    renewed = WebhookEvent.objects.filter(pk=event_id, status=DeliveryStatus.PENDING, lease=lease).update(
        next_attempt_at=timezone.now() + timedelta(seconds=ATTEMPT_LEASE)
    )
    return uuid.UUID(str(lease)) if renewed else None


def _record(
    event: WebhookEvent, lease: uuid.UUID, started_at: datetime, outcome: sender.Outcome
) -> WebhookAttempt | None:
    """Write the attempt and what follows from it, if the attempt is still this lease's."""
    number = event.attempt_count + 1
    manual = event.next_attempt_manual
    delays = settings.PIXEE_WEBHOOK_RETRY_DELAYS
    retries = not (outcome.succeeded or outcome.permanent or manual) and number <= len(delays)
    retry_in = delays[number - 1] if retries else None
    now = timezone.now()
    if outcome.succeeded:
        follow_up: dict[str, Any] = {
            "status": DeliveryStatus.DELIVERED,
            "delivered_at": now,
            "next_attempt_at": None,
        }
    elif retry_in is not None:
        follow_up = {"next_attempt_at": now + timedelta(seconds=retry_in)}
    else:
        follow_up = {"status": DeliveryStatus.FAILED, "next_attempt_at": None}
    subscription_id = event.subscription_id
    with transaction.atomic():
        held = WebhookEvent.objects.filter(pk=event.pk, status=DeliveryStatus.PENDING, lease=lease).update(
            attempt_count=number, lease=None, next_attempt_manual=False, **follow_up
        )
        if not held:
            # Deleted meanwhile, or the attempt outlived its lease and another worker made it again.
            logger.warning(
                "webhook delivery %s: attempt %s not recorded, its lease was lost", event.pk, number
            )
            return None
        record = WebhookAttempt.objects.create(
            event=event, number=number, manual=manual, created_at=started_at, **outcome.fields()
        )
        if subscription_id is not None:
            healthy = WebhookSubscription.objects.filter(pk=subscription_id)
            if outcome.succeeded:
                healthy.update(failing_since=None)
            else:
                healthy.filter(failing_since__isnull=True).update(failing_since=started_at)
                if retry_in is None and not manual:
                    _disable_if_failing(subscription_id, event, record)
        if retry_in == 0:
            _queue_on_commit(event.pk)  # due at once: no need to wait for the next sweep
    return record


def _disable_if_failing(subscription_id, event: WebhookEvent, last: WebhookAttempt) -> None:
    first_attempt_at = event.attempts.order_by("number").values_list("created_at", flat=True).first()
    subscription = WebhookSubscription.objects.filter(pk=subscription_id).first()
    if subscription is None or subscription.failing_since is None or first_attempt_at is None:
        return
    now = timezone.now()
    reason = (
        f"Disabled at {_utc(now)}: no delivery has succeeded since {_utc(subscription.failing_since)}, "
        f"and all {last.number} attempts of delivery {event.id} ({event.type}) failed; the last one: "
        f"{last.error} Fix the endpoint, then re-enable it with PATCH /api/v1/webhooks/{subscription_id} "
        '{"is_active": true}; a failed delivery is sent again with '
        f"POST /api/v1/webhooks/{subscription_id}/deliveries/{event.id}/redeliver."
    )
    # Conditional, so a success recorded meanwhile (failing_since reset) keeps it enabled.
    disabled = WebhookSubscription.objects.filter(
        pk=subscription_id, is_active=True, failing_since__lte=first_attempt_at
    ).update(is_active=False, disabled_at=now, disabled_reason=reason)
    if disabled:
        logger.warning("webhook subscription %s disabled: %s", subscription_id, reason)


def _utc(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else ""


def _queue_on_commit(event_id) -> None:
    """The fast path: the delivery's task goes to a worker once the transaction has committed."""
    event_id = str(event_id)
    transaction.on_commit(lambda: _queue(event_id))


def _queue(event_id, lease: uuid.UUID | None = None) -> None:
    """Hand the delivery to a worker, best effort: if the broker cannot take it, the sweeper will."""
    try:
        enqueue_task(DELIVER_TASK, str(event_id), str(lease) if lease else None)
    except Exception:  # kombu's OperationalError, or whatever the transport raises
        logger.warning(
            "webhook delivery %s could not be queued now; the sweeper will send it.", event_id, exc_info=True
        )
