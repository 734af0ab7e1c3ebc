import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from pixee.crypto import EncryptedTextField

from .choices import DeliveryStatus, EventType


class WebhookSubscription(models.Model):
    """An endpoint that receives the chosen events of its owner's imports and automations."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_subscriptions"
    )
    # Not a URLField: its validator refuses intranet names without a dot, which are legitimate
    # when PIXEE_ALLOW_PRIVATE_NETWORK is on. ``pixee.netguard.check_endpoint_url`` checks it.
    url = models.CharField(max_length=2000)
    events = models.JSONField(default=list)
    secret = EncryptedTextField()
    is_active = models.BooleanField(default=True)
    disabled_reason = models.TextField(blank=True, default="")
    disabled_at = models.DateTimeField(null=True, blank=True)
    # The first failed attempt since the last successful one (None: the endpoint is healthy).
    failing_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.url


class WebhookEvent(models.Model):
    """One event addressed to one endpoint: a subscription, or the job's own ``webhook_url``.

    Its id is the delivery id: the payload's ``id`` and the ``Pixee-Delivery`` header, the same on
    every attempt, so receivers can drop duplicates. The API calls it a delivery.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=32, choices=EventType.choices)
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    # The target: the subscription, or else (import events only) the job's webhook_url and secret.
    subscription = models.ForeignKey(
        WebhookSubscription, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    job = models.ForeignKey(
        "imports.ImportJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_events"
    )
    url = models.CharField(max_length=2000)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING, db_index=True
    )
    # Attempts made or under way; an attempt under way holds ``lease`` until ``next_attempt_at``.
    attempt_count = models.PositiveSmallIntegerField(default=0)
    # When pending: when the next attempt is due, or, while one is under way, when it is presumed
    # lost (its worker died) and made again. The beat sweeper sends what is due.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease = models.UUIDField(null=True, blank=True, editable=False)
    # The next attempt is a redelivery a user asked for: one attempt, no retries after it.
    next_attempt_manual = models.BooleanField(default=False)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # Not auto_now_add: the payload's created_at is written first and must be the same instant.
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["subscription", "-created_at"]),
            # The sweeper's query: pending deliveries by due time.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status=DeliveryStatus.PENDING),
                name="webhook_event_due",
            ),
        ]
        verbose_name = "webhook delivery"
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.type} → {self.url}"

    @property
    def secret(self) -> str:
        if self.subscription is not None:
            return self.subscription.secret
        return self.job.webhook_secret if self.job is not None else ""


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery, as it went."""

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    # True for a redelivery asked for by a user (it schedules no retries of its own).
    manual = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    response_body = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["event", "number"]
        constraints = [
            models.UniqueConstraint(fields=["event", "number"], name="webhook_attempt_unique_number")
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.event_id}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
