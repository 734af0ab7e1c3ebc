"""Helpers to build import files and run jobs in-process in tests."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from imports import services
from imports.formats import RawBatch
from imports.models import ImportJob


def csv_file(text: str, name: str = "catalog.csv", encoding: str = "utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def run_import(content: str | bytes, *, name: str = "catalog.csv", user=None, **options) -> ImportJob:
    """Create a job for ``content`` and run its pipeline in this process, as the worker would."""
    data = content.encode() if isinstance(content, str) else content
    job = services.import_job_create(user=user, file=SimpleUploadedFile(name, data), enqueue=False, **options)
    return services.import_job_run(job_id=job.pk)


def upload(client, content: str | bytes, name: str = "catalog.csv", **fields):
    data = content.encode() if isinstance(content, str) else content
    return client.post(
        "/api/v1/imports/jobs", {"file": SimpleUploadedFile(name, data), **fields}, format="multipart"
    )


def batch_contents(batch: RawBatch) -> tuple:
    """Everything a batch holds, to compare two readers' batches of the same file."""
    return (
        batch.numbers,
        batch.frame.columns,
        batch.frame.dtypes,
        batch.frame.rows(),
        batch.errors,
        batch.irregular,
        batch.numeric,
        batch.fraction,
        [batch.raw_row(position) for position in range(len(batch))],
    )
