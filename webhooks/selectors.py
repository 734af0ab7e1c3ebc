"""Reads on webhooks: who listens to an event, and the lists the API shows."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import WebhookEvent, WebhookSubscription


def webhook_subscriptions_for(*, event_type: str, owner_id: int | None) -> list[WebhookSubscription]:
    """Active subscriptions to ``event_type`` that may see the owner's objects: its own and staff's."""
    candidates = WebhookSubscription.objects.filter(is_active=True).filter(
        Q(created_by_id=owner_id) | Q(created_by__is_staff=True)
    )
    # Filtered here rather than with a JSON ``contains`` lookup, which SQLite lacks; an owner
    # has a handful of subscriptions.
    return [s for s in candidates.order_by("created_at") if event_type in s.events]


def webhook_subscription_list(*, subscriptions: QuerySet) -> QuerySet:
    """``subscriptions`` (already scoped to the caller), newest first."""
    return subscriptions.order_by("-created_at", "-id")


def webhook_delivery_list(*, subscription: WebhookSubscription, status: str | None = None) -> QuerySet:
    """The subscription's deliveries, newest first, with their attempts."""
    deliveries = WebhookEvent.objects.filter(subscription=subscription)
    if status:
        deliveries = deliveries.filter(status=status)
    return deliveries.prefetch_related("attempts").order_by("-created_at", "-id")
