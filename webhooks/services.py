"""Writes on webhooks: subscriptions, events addressed to endpoints, and their delivery attempts.

Delivery: the first attempt is queued once the event is committed; a failed attempt (network
error, timeout, any non-2xx answer) is retried after each delay of ``PIXEE_WEBHOOK_RETRY_DELAYS``
in turn, so there are ``1 + len(delays)`` attempts at most. Every attempt is a row.

Disabling: a subscription is disabled when a delivery has exhausted its retries and no attempt
to the endpoint (for any event) has succeeded since that delivery's first attempt, that is when
the endpoint has failed continuously for at least the sum of the delays (about 3 days by
default). A flaky endpoint that answers some deliveries stays enabled.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from rest_framework.fields import DateTimeField

from imports.api.serializers import ImportJobSerializer
from imports.choices import ImportStatus
from imports.models import ImportJob
from pixee.crypto import DecryptionError
from pixee.errors import Conflict
from pixee.netguard import BlockedAddress, guarded_session, read_capped

from . import selectors
from .choices import DeliveryStatus, EventType
from .models import WebhookAttempt, WebhookEvent, WebhookSubscription
from .signing import signature_header
from .validators import check_endpoint_url

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5  # seconds
READ_TIMEOUT = 15  # seconds of silence while waiting for, or reading, the answer
RESPONSE_EXCERPT_BYTES = 4096  # of the receiver's answer, kept for the owner to debug
USER_AGENT = "Pixee-Webhooks/1.0"
# How long an attempt in flight holds its delivery; well above the time an attempt takes.
ATTEMPT_LEASE = 300  # seconds

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
    """Delete the subscription with its deliveries; retries still queued find nothing and stop."""
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
    """Address one event to each interested endpoint and queue its delivery once committed.

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
        payload = {
            "id": str(event_id),
            "type": event_type,
            "created_at": DateTimeField().to_representation(now),
            "data": data,
        }
        events.append(
            WebhookEvent(
                id=event_id,
                type=event_type,
                payload=payload,
                subscription=subscription,
                job=job,
                url=url,
                created_at=now,
            )
        )
    with transaction.atomic():
        WebhookEvent.objects.bulk_create(events)
        for event in events:
            _enqueue(event.pk, attempt=1)
    return events


def webhook_events_create_for_job(*, job_id, status: str) -> list[WebhookEvent]:
    """The ``import.<status>`` event, with the job as ``GET /imports/jobs/{id}`` shows it."""
    return _job_event(job_id, JOB_STATUS_EVENTS.get(ImportStatus(status)))


def webhook_events_create_for_revert(*, job_id) -> list[WebhookEvent]:
    """The ``import.reverted`` event, with the job (its revert counters) as the API shows it."""
    return _job_event(job_id, EventType.IMPORT_REVERTED)


def _job_event(job_id, event_type: EventType | None) -> list[WebhookEvent]:
    job = ImportJob.objects.filter(pk=job_id).first()
    if event_type is None or job is None:
        return []
    data = json.loads(json.dumps(ImportJobSerializer(job).data, cls=DjangoJSONEncoder))
    return webhook_events_create(event_type=event_type, data=data, owner_id=job.created_by_id, job=job)


def webhook_events_create_for_automation_failure(*, automation, run, error: str) -> list[WebhookEvent]:
    """The ``automation.failed`` event for a failed run of ``automation``."""
    fields = DateTimeField()

    def when(value):
        return fields.to_representation(value) if value else None

    data = {
        "automation": {
            "id": str(automation.pk),
            "name": getattr(automation, "name", ""),
            "supplier_code": getattr(automation, "supplier_code", ""),
        },
        "run": {
            "id": str(run.pk),
            "status": getattr(run, "status", "failed"),
            "job_id": str(run.job_id) if getattr(run, "job_id", None) else None,
            "started_at": when(getattr(run, "started_at", None)),
            "finished_at": when(getattr(run, "finished_at", None)),
        },
        "error": error,
    }
    return webhook_events_create(
        event_type=EventType.AUTOMATION_FAILED,
        data=data,
        owner_id=getattr(automation, "created_by_id", None),
    )


# --- delivery ---------------------------------------------------------------------------------


def webhook_event_deliver(*, event_id, attempt: int, manual: bool = False) -> WebhookAttempt | None:
    """Make attempt number ``attempt`` of the delivery, record it, then retry or settle it.

    Returns None when there is nothing to do: the attempt was already made (a task handed out
    twice by the broker), the delivery is settled, or its subscription is gone or disabled.
    """
    event = WebhookEvent.objects.select_related("subscription", "job").filter(pk=event_id).first()
    if event is None:
        return None
    subscription = event.subscription
    if not manual and subscription is not None and not subscription.is_active:
        WebhookEvent.objects.filter(pk=event.pk, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.FAILED, next_attempt_at=None
        )
        return None
    if not _claim(event, attempt=attempt, manual=manual):
        return None

    started_at = timezone.now()
    outcome = _post(event)
    delays = settings.PIXEE_WEBHOOK_RETRY_DELAYS
    with transaction.atomic():
        record = WebhookAttempt.objects.create(
            event=event, number=attempt, manual=manual, created_at=started_at, **outcome.fields()
        )
        if record.succeeded:
            now = timezone.now()
            WebhookEvent.objects.filter(pk=event.pk).update(
                status=DeliveryStatus.DELIVERED, delivered_at=now, next_attempt_at=None
            )
            if subscription is not None:
                WebhookSubscription.objects.filter(pk=subscription.pk).update(failing_since=None)
            return record
        if subscription is not None:
            WebhookSubscription.objects.filter(pk=subscription.pk, failing_since__isnull=True).update(
                failing_since=started_at
            )
        if not manual and not outcome.permanent and attempt <= len(delays):
            delay = delays[attempt - 1]
            WebhookEvent.objects.filter(pk=event.pk).update(
                next_attempt_at=timezone.now() + timedelta(seconds=delay)
            )
            _enqueue(event.pk, attempt=attempt + 1, countdown=delay)
            return record
        WebhookEvent.objects.filter(pk=event.pk).update(status=DeliveryStatus.FAILED, next_attempt_at=None)
        if subscription is not None and not manual:
            _disable_if_failing(subscription.pk, event, record)
    return record


def _claim(event: WebhookEvent, *, attempt: int, manual: bool) -> bool:
    """Whether this task makes attempt ``attempt``; ``next_attempt_at`` is then its lease.

    Tasks are acknowledged late and a broker may hand one out twice: only one copy claims an
    attempt. A copy that finds the attempt claimed but not recorded comes back when the lease
    ends, and takes the attempt over if its holder died meanwhile.
    """
    now = timezone.now()
    pending = WebhookEvent.objects.filter(pk=event.pk, status=DeliveryStatus.PENDING)
    lease = now + timedelta(seconds=ATTEMPT_LEASE)
    if pending.filter(attempt_count=attempt - 1).update(attempt_count=attempt, next_attempt_at=lease):
        return True
    if WebhookAttempt.objects.filter(event=event, number=attempt).exists():
        return False  # made and recorded already
    current = pending.filter(attempt_count=attempt).values_list("next_attempt_at", flat=True).first()
    if current is None:
        return False  # settled, or another attempt number
    if current < now:
        # The holder died before recording its attempt: take it over.
        return bool(
            pending.filter(attempt_count=attempt, next_attempt_at=current).update(next_attempt_at=lease)
        )
    _enqueue(event.pk, attempt=attempt, manual=manual, countdown=int((current - now).total_seconds()) + 1)
    return False


def webhook_event_redeliver(*, event: WebhookEvent) -> WebhookEvent:
    """Send a delivered or failed delivery once more: same id and payload, freshly signed.

    One attempt, with no automatic retries after it; it is made even if the subscription is
    disabled, so an owner can check a repaired endpoint before re-enabling it.
    """
    with transaction.atomic():
        updated = (
            WebhookEvent.objects.filter(pk=event.pk)
            .exclude(status=DeliveryStatus.PENDING)
            .update(status=DeliveryStatus.PENDING, next_attempt_at=None)
        )
        event.refresh_from_db()
        if not updated:
            when = f" (next attempt at {_utc(event.next_attempt_at)})" if event.next_attempt_at else ""
            raise Conflict(f"This delivery is still pending{when}; redeliver it once it has settled.")
        _enqueue(event.pk, attempt=event.attempt_count + 1, manual=True)
    return event


class _Outcome:
    def __init__(self) -> None:
        self.status_code: int | None = None
        self.error = ""
        self.response_body = ""
        self.duration_ms = 0
        # Retrying cannot help: the address is refused, or the secret cannot be decrypted.
        self.permanent = False

    def fields(self) -> dict[str, Any]:
        return {
            "status_code": self.status_code,
            "error": self.error,
            "response_body": self.response_body,
            "duration_ms": self.duration_ms,
        }


def _post(event: WebhookEvent) -> _Outcome:
    outcome = _Outcome()
    body = json.dumps(event.payload, cls=DjangoJSONEncoder, separators=(",", ":")).encode()
    try:
        secret = event.secret
    except DecryptionError as exc:
        outcome.permanent = True
        outcome.error = str(exc)
        return outcome
    if not secret:
        outcome.permanent = True
        outcome.error = "Nothing to sign with: the job this delivery belongs to was deleted."
        return outcome
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Pixee-Event": event.type,
        "Pixee-Delivery": str(event.id),
        "Pixee-Signature": signature_header(secret=secret, body=body),
    }
    start = time.monotonic()
    try:
        # No redirects: a POST turned into a GET elsewhere is not a delivery; say so instead.
        with (
            guarded_session() as session,
            session.post(
                event.url,
                data=body,
                headers=headers,
                timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                allow_redirects=False,
                stream=True,
            ) as response,
        ):
            outcome.status_code = response.status_code
            excerpt = read_capped(response, RESPONSE_EXCERPT_BYTES, truncate=True)
            # PostgreSQL text cannot hold NUL characters.
            outcome.response_body = excerpt.decode("utf-8", "replace").replace("\x00", "")
    except BlockedAddress as exc:
        outcome.permanent = True
        outcome.error = str(exc)
    except requests.Timeout:
        outcome.error = f"No answer in time (connect {CONNECT_TIMEOUT} s, read {READ_TIMEOUT} s)."
    except requests.RequestException as exc:
        outcome.error = f"The request failed: {_root_cause(exc)}."
    outcome.duration_ms = round((time.monotonic() - start) * 1000)
    if outcome.status_code is not None and not 200 <= outcome.status_code < 300:
        outcome.error = f"The endpoint answered HTTP {outcome.status_code}" + (
            " (redirects are not followed: give the final URL)."
            if 300 <= outcome.status_code < 400
            else "; a 2xx status is expected."
        )
    return outcome


def _root_cause(exc: BaseException) -> str:
    """The innermost OS-level reason (``Connection refused``), not urllib3's nested wrappers."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
        stack.extend(
            e
            for e in (*current.args, getattr(current, "reason", None), current.__cause__, current.__context__)
            if isinstance(e, BaseException)
        )
    return str(exc) or type(exc).__name__


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


def _enqueue(event_id, *, attempt: int, manual: bool = False, countdown: int = 0) -> None:
    event_id = str(event_id)

    def send() -> None:
        tasks().deliver_webhook_event.apply_async(
            (event_id, attempt), {"manual": manual}, countdown=countdown or None
        )

    transaction.on_commit(send)


def tasks():
    # tasks.py imports this module; importing it back lazily avoids the cycle.
    from . import tasks as module

    return module
