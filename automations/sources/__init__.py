"""Remote file sources: one module each, registered by type. Importing this package loads every
module in it, so a new source is one new module here (plus its tests), nothing else."""

import importlib
import pkgutil

from .base import (
    Download,
    FileSource,
    Probe,
    ProbeFinished,
    SourceConfigError,
    SourceError,
    all_settings,
    register,
    source_for,
    source_from_values,
    source_types,
    sources,
)
from .settings import Declared, Setting, SourceSettings, setting

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")  # each source module registers itself

__all__ = [
    "Declared",
    "Download",
    "FileSource",
    "Probe",
    "ProbeFinished",
    "Setting",
    "SourceConfigError",
    "SourceError",
    "SourceSettings",
    "all_settings",
    "register",
    "setting",
    "source_for",
    "source_from_values",
    "source_types",
    "sources",
]
