"""Reads on import jobs: lists, logs and the preview of a stored file."""

from __future__ import annotations

from itertools import islice
from typing import Any

from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import F, QuerySet

from catalog.vocabulary import FIELDS
from pixee.errors import Conflict

from .choices import FailureKind
from .formats import FormatError, reader_for
from .models import ImportJob, ImportLog
from .runner import job_mapping_plan
from .validation import RowValidator

PREVIEW_FIELDS = tuple(FIELDS)


def import_job_list(
    *, jobs: QuerySet, status: str | None = None, supplier_code: str | None = None
) -> QuerySet:
    """``jobs`` (already scoped to the caller) filtered, newest first."""
    if status:
        jobs = jobs.filter(status=status)
    if supplier_code:
        jobs = jobs.filter(supplier_code=supplier_code)
    return jobs.order_by("-created_at", "-id")


def import_log_list(*, job: ImportJob, level: str | None = None) -> QuerySet:
    """The job's logs in file order; milestones (no row) first, in time order."""
    logs = ImportLog.objects.filter(job=job)
    if level:
        logs = logs.filter(level=level)
    return logs.order_by(F("row_number").asc(nulls_first=True), "id")


def stored_file_unavailable(job: ImportJob) -> str | None:
    """Why the job's stored file is not read (again), as the start of a sentence; None if it may be.

    Checked before the file is opened by everything that reads it back (preview, error report,
    changes, reanalysis): a file that broke a safety limit once would only break it again, in the
    web process this time.
    """
    if job.failure_kind == FailureKind.SAFETY_LIMIT:
        return (
            "The job's file broke a safety limit during the analysis (its error_summary says which) "
            "and is not read again"
        )
    if job.purged_at is not None:
        return f"The job's stored file was removed by the retention policy on {job.purged_at:%Y-%m-%d}"
    if not job.file:
        return f"The job is {job.status} and its stored file was discarded"
    return None


def import_job_preview(*, job: ImportJob, limit: int) -> dict[str, Any]:
    """The first ``limit`` rows of the stored file, mapped and validated as the import will."""
    if unavailable := stored_file_unavailable(job):
        raise Conflict(f"{unavailable}: nothing to preview.")
    preview: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    with job.file.open("rb") as fileobj:
        reader = reader_for(job.file_type).for_first_rows(fileobj, size=job.file_size or None)
        try:
            validator = RowValidator(job_mapping_plan(job, reader.columns()).mapper)
            for raw in islice(reader.rows(), limit):
                result = validator.validate(raw)
                row_errors = [
                    {"row_number": raw.number, "field": e.field, "message": e.message, "value": e.value}
                    for e in result.errors
                ]
                values = {f: result.parsed.get(f) for f in PREVIEW_FIELDS}
                preview.append({"row_number": raw.number, **values, "errors": row_errors})
                errors.extend(row_errors)
        except FormatError as exc:
            errors.append({"row_number": None, "field": "", "message": str(exc), "value": ""})
    return {"total_rows": job.total_rows, "preview": preview, "validation_errors": errors}


def import_job_columns(*, job: ImportJob) -> list[str]:
    """The stored file's columns as the import reads them; none when the file is gone or unreadable."""
    if not job.file:
        return []
    try:
        with job.file.open("rb") as fileobj:
            return reader_for(job.file_type)(fileobj, size=job.file_size or None).columns()
    except (FormatError, OSError):
        return []


def import_job_origin(*, job: ImportJob) -> str:
    """Where the job came from, in words: the automation that fetched it, the admin or the API."""
    run = job.automation_runs.select_related("automation").first()  # type: ignore[attr-defined]
    if run is not None:
        return f"Automation “{run.automation.name}”"
    uploaded_in_admin = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(ImportJob),
        object_id=str(job.pk),
        action_flag=ADDITION,
    ).exists()
    return "Admin upload" if uploaded_in_admin else "API"
