"""The upload size limit, read from ``PIXEE_MAX_UPLOAD_MB`` wherever a file comes in."""

from django.conf import settings


def max_upload_bytes() -> int:
    """``PIXEE_MAX_UPLOAD_MB`` in bytes, read at each call (so an overridden setting applies)."""
    return settings.PIXEE_MAX_UPLOAD_MB * 1024 * 1024
