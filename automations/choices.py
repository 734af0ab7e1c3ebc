from django.db import models


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    # The file was fetched and an import job created from it; the job has its own status.
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    # The file was identical (same SHA-256) to the last completed run's: no job was created.
    SKIPPED = "skipped", "Skipped"


class RunTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    MANUAL = "manual", "Run now"
