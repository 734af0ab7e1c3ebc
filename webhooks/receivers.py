"""Signal receivers (connected in ``WebhooksConfig.ready``).

Each event arrives inside the transaction that makes the change it reports (``pixee.events``):
its webhook events are written with it, in a savepoint of their own so that a failure here
leaves the change intact, and their deliveries are queued once it has committed.
"""

from django.db import transaction

from . import services


def on_import_job_status_changed(sender, *, job_id, status: str, **kwargs) -> None:
    with transaction.atomic():
        services.webhook_events_create_for_job(job_id=job_id, status=status)


def on_import_job_reverted(sender, *, job_id, **kwargs) -> None:
    with transaction.atomic():
        services.webhook_events_create_for_revert(job_id=job_id)


def on_automation_failed(sender, *, automation, run, error: str, **kwargs) -> None:
    with transaction.atomic():
        services.webhook_events_create_for_automation_failure(
            automation=automation, run=run, error=str(error)
        )
