import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from pixee.crypto import EncryptedTextField

from .choices import FailureKind, FileType, ImportStatus, LogLevel, OnInvalidValue


def _stored_file_name(job: "ImportJob", filename: str) -> str:
    # The client's file name never reaches the filesystem: only our UUID and a known extension.
    return f"imports/{timezone.now():%Y/%m}/{job.id}.{job.file_type}"


class ImportJob(models.Model):
    """One import of one file: its status, counters, checkpoint and timestamps.

    The API, the admin, the worker and webhooks all read this row; the worker writes its
    counters together with each chunk, so they are exact at every checkpoint.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="import_jobs"
    )
    file = models.FileField(upload_to=_stored_file_name, max_length=255, blank=True)
    file_name = models.CharField(max_length=255)
    file_type = models.CharField(max_length=8, choices=FileType.choices)
    file_size = models.BigIntegerField(default=0)
    supplier_code = models.CharField(max_length=100, blank=True, default="", db_index=True)
    dry_run = models.BooleanField(default=False)
    max_errors = models.PositiveIntegerField(null=True, blank=True)
    # What the client asked for, and what the analysis resolved (explicit + synonyms).
    requested_mapping = models.JSONField(default=dict, blank=True)
    mapping = models.JSONField(default=dict, blank=True)
    # Where each column's mapping came from: explicit, supplier, synonym or values (issue 14).
    mapping_sources = models.JSONField(default=dict, blank=True)
    # The supplier's stored mapping when the upload had none: a copy, so a re-analysis agrees.
    supplier_mapping = models.JSONField(default=dict, blank=True)
    on_invalid_value = models.CharField(
        max_length=16, choices=OnInvalidValue.choices, default=OnInvalidValue.SKIP_ROW
    )

    status = models.CharField(
        max_length=16, choices=ImportStatus.choices, default=ImportStatus.PENDING, db_index=True
    )
    paused_from = models.CharField(max_length=16, choices=ImportStatus.choices, blank=True, default="")
    error_summary = models.TextField(blank=True, default="")
    # Set with a failure whose cause decides what may still be done (preview, reanalyze...).
    failure_kind = models.CharField(max_length=16, choices=FailureKind.choices, blank=True, default="")
    # When the retention policy claimed the job: from then on its stored file, row logs and undo
    # records are not read and are deleted (pending until they all are); the row itself (status,
    # counters, summary) and its milestones stay (pixee/retention.py).
    purged_at = models.DateTimeField(null=True, blank=True)
    purge_pending = models.BooleanField(default=False)

    total_rows = models.PositiveIntegerField(null=True, blank=True)
    analyzed_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    failed_rows = models.PositiveIntegerField(default=0)
    products_created = models.PositiveIntegerField(default=0)
    products_updated = models.PositiveIntegerField(default=0)
    products_unchanged = models.PositiveIntegerField(default=0)
    # Undo: asked for, finished, and what it did (CONTRACT §4); its checkpoint while it runs.
    revert_requested_at = models.DateTimeField(null=True, blank=True)
    reverted_at = models.DateTimeField(null=True, blank=True)
    products_restored = models.PositiveIntegerField(default=0)
    products_deleted = models.PositiveIntegerField(default=0)
    products_skipped = models.PositiveIntegerField(default=0)
    # The last ProductChange restored, then the last product id looked at for deletion.
    revert_checkpoint = models.BigIntegerField(default=0)
    revert_product_checkpoint = models.BigIntegerField(default=0)
    # When the current phase (analysis or processing) started or resumed, and its rows done by
    # then: the rate and the time left are measured from there.
    phase_started_at = models.DateTimeField(null=True, blank=True)
    phase_start_rows = models.PositiveIntegerField(default=0)
    # Fraction of the file's bytes the analysis has read, for progress before rows are counted.
    analyzed_fraction = models.FloatField(default=0.0)

    # Crash safety: the last row committed in the current phase, the task run that holds the job,
    # when it last proved alive, and how many runs started without making progress.
    checkpoint_row = models.PositiveIntegerField(default=0)
    lease_token = models.UUIDField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # The analysis run whose valid rows the worker kept on its disk for processing (imports/spill.py).
    analysis_spill = models.UUIDField(null=True, blank=True)

    webhook_url = models.URLField(max_length=2000, blank=True, default="")
    webhook_secret = EncryptedTextField(blank=True, default="")

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "heartbeat_at"]),
            models.Index(
                fields=["purged_at"], condition=models.Q(purge_pending=True), name="imports_job_purge_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"

    @property
    def successful_rows(self) -> int:
        return self.products_created + self.products_updated + self.products_unchanged

    @property
    def rows_per_second(self) -> float | None:
        """Rows done per second in the current phase since it started or resumed; None unless running."""
        done = {ImportStatus.ANALYZING: self.analyzed_rows, ImportStatus.PROCESSING: self.processed_rows}.get(
            ImportStatus(self.status)
        )
        if done is None or self.phase_started_at is None:
            return None
        elapsed = (timezone.now() - self.phase_started_at).total_seconds()
        if elapsed <= 0 or done <= self.phase_start_rows:
            return None
        return round((done - self.phase_start_rows) / elapsed, 1)

    @property
    def eta_seconds(self) -> int | None:
        """Seconds until the job ends at the current rate (for an analysis, processing included)."""
        rate = self.rows_per_second
        if not rate:
            return None
        if self.status == ImportStatus.PROCESSING:
            return round(max((self.total_rows or 0) - self.processed_rows, 0) / rate)
        if self.analyzed_fraction <= 0:
            return None
        estimated_rows = self.analyzed_rows / min(self.analyzed_fraction, 1.0)
        remaining = max(estimated_rows - self.analyzed_rows, 0) + (0 if self.dry_run else estimated_rows)
        return round(remaining / rate)

    @property
    def progress(self) -> int:
        """0–100 over the whole job: analysis is the first half, processing the second."""
        if self.status == ImportStatus.COMPLETED:
            return 100
        if self.total_rows is None:
            return int(50 * min(self.analyzed_fraction, 1.0))
        if not self.total_rows:
            return 50
        return 50 + int(50 * min(self.processed_rows / self.total_rows, 1.0))


class ImportLog(models.Model):
    """One message about a job: a row's error or warning, or a milestone (no row)."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="logs")
    row_number = models.PositiveIntegerField(null=True, blank=True)
    level = models.CharField(max_length=8, choices=LogLevel.choices)
    field = models.CharField(max_length=100, blank=True, default="")
    message = models.TextField()
    value = models.TextField(blank=True, default="")
    timestamp = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["job", "row_number", "id"]),
            models.Index(fields=["job", "level", "row_number", "id"]),
        ]

    def __str__(self) -> str:
        return f"row {self.row_number}: {self.message}"


class SupplierMapping(models.Model):
    """A supplier's remembered mapping (owner-scoped): uploads for it without a mapping use it."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="supplier_mappings"
    )
    supplier_code = models.CharField(max_length=100)
    mapping = models.JSONField(default=dict)
    # Used by an upload for this supplier that does not choose one itself.
    on_invalid_value = models.CharField(
        max_length=16, choices=OnInvalidValue.choices, default=OnInvalidValue.SKIP_ROW
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["created_by", "supplier_code"], name="unique_supplier_mapping")
        ]

    def __str__(self) -> str:
        return f"{self.supplier_code} mapping"
