"""Celery shims: take an id, call one service."""

from celery import shared_task

from . import services


@shared_task
def deliver_webhook_event(event_id: str, attempt: int, manual: bool = False) -> None:
    services.webhook_event_deliver(event_id=event_id, attempt=attempt, manual=manual)
