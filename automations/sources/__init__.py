"""Remote file sources: one module each, registered by type. Importing this package loads them all."""

from . import ftp, http, sftp  # noqa: F401  (each registers itself)
from .base import (
    CONFIG_FIELDS,
    SECRET_FIELDS,
    Download,
    FileSource,
    Probe,
    ProbeFinished,
    SourceConfig,
    SourceConfigError,
    SourceError,
    clean_config,
    register,
    source_for,
    source_types,
)

__all__ = [
    "CONFIG_FIELDS",
    "SECRET_FIELDS",
    "Download",
    "FileSource",
    "Probe",
    "ProbeFinished",
    "SourceConfig",
    "SourceConfigError",
    "SourceError",
    "clean_config",
    "register",
    "source_for",
    "source_types",
]
