"""The retention policy's part for webhook deliveries (the policy: ``pixee/retention.py``)."""

from __future__ import annotations

from datetime import datetime

from pixee.retention import delete_in_chunks

from .choices import DeliveryStatus
from .models import WebhookEvent


def purge(cutoff: datetime) -> dict[str, int]:
    """Events (and their attempts) created before ``cutoff``, unless still pending."""
    events = WebhookEvent.objects.filter(created_at__lt=cutoff).exclude(status=DeliveryStatus.PENDING)
    return {"webhook deliveries": delete_in_chunks(events)}
