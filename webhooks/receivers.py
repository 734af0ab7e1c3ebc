"""Signal receivers (connected in ``WebhooksConfig.ready``).

A job's status change arrives inside the transaction that makes it: its events are written with
it (a savepoint of their own, so a failure here leaves the status change intact).
"""

from django.db import transaction

from . import services


def on_import_job_status_changed(sender, *, job_id, status: str, **kwargs) -> None:
    with transaction.atomic():
        services.webhook_events_create_for_job(job_id=job_id, status=status)


def on_automation_failed(sender, *, automation, run, error: str, **kwargs) -> None:
    services.webhook_events_create_for_automation_failure(automation=automation, run=run, error=str(error))


def on_import_job_reverted(sender, *, job_id, **kwargs) -> None:
    services.webhook_events_create_for_revert(job_id=job_id)
