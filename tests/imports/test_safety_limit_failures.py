"""A file that failed its analysis on a safety limit is never read again: not by the preview, the
error report, a re-analysis or the admin's job page (issue 16, item 1). The default storage is a
real one that records what it opens (tests/storage.py)."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from imports.choices import FailureKind
from imports.formats.base import MAX_LINE_CHARS
from tests.storage import CountingStorage

from .helpers import run_import
from .test_hostile_files import CASES, billion_laughs, json_nesting_bomb, zip_bytes

pytestmark = pytest.mark.django_db

# The cases of test_hostile_files.py that break no safety limit: a malformed file, read again,
# costs no more than it did the first time.
NOT_SAFETY_LIMITS = {"csv: a NUL byte past the sniffed start", "csv: an unterminated quote", "json: NaN"}

HOSTILE = {
    "csv": lambda: b"ean;name\n" + b";" * (MAX_LINE_CHARS + 10) + b"\n",
    "xlsx": lambda: zip_bytes({"xl/workbook.xml": b"<w/>", "xl/worksheets/sheet1.xml": b"\x00" * (50 << 20)}),
    "json": json_nesting_bomb,
    "xml": billion_laughs,
}
SAFETY_LIMIT_DETAIL = "The job's file broke a safety limit during the analysis (its error_summary says which)"


@pytest.fixture
def opened(settings):
    """The names of the stored files opened from here on."""
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "tests.storage.CountingStorage"}}
    CountingStorage.opened.clear()
    yield CountingStorage.opened
    CountingStorage.opened.clear()


@pytest.mark.parametrize("case", CASES)
def test_a_failure_is_marked_as_a_safety_limit_exactly_when_a_limit_was_broken(case):
    file_type, content, _ = CASES[case]
    job = run_import(content() if callable(content) else content, name=f"hostile.{file_type}")
    assert job.status == "failed"
    assert job.failure_kind == ("" if case in NOT_SAFETY_LIMITS else FailureKind.SAFETY_LIMIT)


@pytest.mark.parametrize("file_type", HOSTILE)
def test_a_file_that_broke_a_safety_limit_is_not_read_again(api, admin_client, opened, file_type):
    job = run_import(HOSTILE[file_type](), name=f"hostile.{file_type}", user=api.user)
    assert (job.status, job.failure_kind) == ("failed", FailureKind.SAFETY_LIMIT)
    assert opened, "the analysis read the file through the counting storage"
    opened.clear()

    base = f"/api/v1/imports/jobs/{job.pk}"
    answers = {
        "preview": (api.get(f"{base}/preview"), ": nothing to preview."),
        "errors.csv": (api.get(f"{base}/errors.csv"), ": no error report."),
        "reanalyze": (
            api.post(f"{base}/reanalyze", {"mapping": {"ean": "ean"}}, format="json"),
            ": nothing to reanalyze.",
        ),
    }
    for name, (response, ending) in answers.items():
        assert response.status_code == 409, name
        assert response.json()["detail"] == f"{SAFETY_LIMIT_DETAIL} and is not read again{ending}", name
    page = admin_client.get(reverse("admin:imports_importjob_change", args=[job.pk]))
    assert page.status_code == 200
    assert html.escape(SAFETY_LIMIT_DETAIL) in page.content.decode()

    assert opened == []
    job.refresh_from_db()
    assert (job.status, job.failure_kind) == ("failed", FailureKind.SAFETY_LIMIT)  # reanalyze refused
    assert job.file  # kept until the retention policy removes it, never read


def test_a_job_that_failed_on_something_else_still_shows_its_file(api, opened):
    job = run_import("Artikel,Text\nABC,Heft\n", user=api.user)  # no column maps to ean
    assert (job.status, job.failure_kind) == ("failed", "")
    opened.clear()
    response = api.get(f"/api/v1/imports/jobs/{job.pk}/preview")
    assert response.status_code == 200
    assert response.json()["preview"][0]["attributes"] == {"Artikel": "ABC", "Text": "Heft"}
    assert set(opened) == {job.file.name}
