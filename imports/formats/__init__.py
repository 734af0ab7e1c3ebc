"""File formats: one module each, registered by file type. Importing this package loads them all."""

from . import csv, json, xlsx, xml  # noqa: F401  (each registers itself)
from .base import (
    FormatError,
    RawBatch,
    RawRow,
    RowReader,
    SafetyLimitError,
    content_mismatch,
    file_type_from_name,
    reader_for,
    register,
    supported_types,
)

__all__ = [
    "FormatError",
    "RawBatch",
    "RawRow",
    "RowReader",
    "SafetyLimitError",
    "content_mismatch",
    "file_type_from_name",
    "reader_for",
    "register",
    "supported_types",
]
