from django.db import models


class ImportStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ANALYZING = "analyzing", "Analyzing"
    READY = "ready", "Ready"
    PROCESSING = "processing", "Processing"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class FailureKind(models.TextChoices):
    """Why a failed job failed, where that decides what may still be done with it."""

    # A reader's safety limit (formats.SafetyLimitError): the file is never read again.
    SAFETY_LIMIT = "safety_limit", "A safety limit of the file readers"


class FileType(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel"
    JSON = "json", "JSON"
    XML = "xml", "XML"


class OnInvalidValue(models.TextChoices):
    SKIP_ROW = "skip_row", "Skip the row"
    SKIP_VALUE = "skip_value", "Keep the row without the value"


class LogLevel(models.TextChoices):
    ERROR = "error", "Error"
    WARNING = "warning", "Warning"
    INFO = "info", "Info"
