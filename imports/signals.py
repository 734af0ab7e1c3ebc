from django.dispatch import Signal

# Sent once the transaction that moved a job to ready, completed, failed or cancelled has
# committed (never for one that rolled back); kwargs: job_id, status.
import_job_status_changed = Signal()

# Sent once a revert has finished and committed; kwargs: job_id.
import_job_reverted = Signal()
