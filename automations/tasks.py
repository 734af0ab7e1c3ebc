"""Celery shims: take an id, call one service."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_automation(automation_id: str, run_id: str | None = None, force: bool = False) -> None:
    """Fired by beat (``automation_id`` only) or by Run now (the ``run_id`` it started)."""
    services.automation_run(automation_id=automation_id, run_id=run_id, force=force)
