"""The import jobs' events, announced with ``pixee.events.announce`` (webhooks listen)."""

from django.dispatch import Signal

# A job reached ready, completed, failed or cancelled; sent inside the transaction that moved it
# (``state.transition``). kwargs: job_id, status.
import_job_status_changed = Signal()

# A revert finished; sent inside the transaction that sets the job's reverted_at. kwargs: job_id.
import_job_reverted = Signal()
