"""Celery shims: take an id, call one service."""

from celery import shared_task

from . import services


@shared_task
def deliver_webhook_attempt(event_id: str, lease: str | None = None) -> None:
    services.webhook_event_deliver(event_id=event_id, lease=lease)


@shared_task
def sweep_webhook_deliveries() -> int:
    return services.webhook_events_sweep()
