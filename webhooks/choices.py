from django.db import models


class EventType(models.TextChoices):
    IMPORT_READY = "import.ready", "Import ready (dry run awaiting confirmation)"
    IMPORT_COMPLETED = "import.completed", "Import completed"
    IMPORT_FAILED = "import.failed", "Import failed"
    IMPORT_CANCELLED = "import.cancelled", "Import cancelled"
    IMPORT_REVERTED = "import.reverted", "Import reverted"
    AUTOMATION_FAILED = "automation.failed", "Automation run failed"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # queued, in flight, or waiting for its next retry
    DELIVERED = "delivered", "Delivered"  # an attempt got a 2xx answer
    FAILED = "failed", "Failed"  # every attempt failed, or the endpoint was disabled meanwhile
