"""The nastiest files through a real Celery worker: each job fails with its sentence, the worker
process stays alive with bounded memory, and imports the next (good) file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from catalog.models import Product
from tests.conftest import wait_for
from tests.factories import ean13

from .helpers import upload
from .test_hostile_files import DTD_REFUSED, billion_laughs, json_nesting_bomb, zip_bytes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker, pytest.mark.slow]

# The worker and its pool processes peak near 110 MB; expanding any of these
# would take gigabytes.
PEAK_RSS_BOUND_KB = 400 * 1024


def finished(api, job_id):
    body = api.get(f"/api/v1/imports/jobs/{job_id}").json()
    return body if body["status"] in ("completed", "failed") else None


def peak_rss_kb(session_leader: int) -> dict[int, int]:
    """VmHWM (peak resident memory) of every process in the worker's session (pool included)."""
    peaks = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) != session_leader:
                continue
            status = (entry / "status").read_text()
        except (OSError, ProcessLookupError):
            continue  # gone meanwhile
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks[int(entry.name)] = int(line.split()[1])
    return peaks


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads peak memory from /proc")
def test_the_worker_survives_the_nastiest_files_and_imports_the_next_one(api, celery_worker_process):
    hostile = [
        ("nesting.json", json_nesting_bomb(), "Item 1 is nested more than 64 levels deep (at key 'a')."),
        ("lolz.xml", billion_laughs(), DTD_REFUSED.format(name="lolz")),
        (
            "bomb.xlsx",
            zip_bytes({"xl/workbook.xml": b"<w/>", "xl/worksheets/sheet1.xml": b"\x00" * (200 << 20)}),
            "it looks like a zip bomb",
        ),
    ]
    for name, data, expected in hostile:
        response = upload(api, data, name=name)
        assert response.status_code == 201, response.content
        job_id = response.json()["id"]
        body = wait_for(lambda: finished(api, job_id), timeout=60, message=f"{name} to finish")
        assert body["status"] == "failed"
        assert expected in body["error_summary"]

    assert celery_worker_process.process.poll() is None, "the worker died"
    response = upload(api, f"ean,name\n{ean13(1)},After the bombs\n", name="good.csv")
    job_id = response.json()["id"]
    body = wait_for(lambda: finished(api, job_id), timeout=60, message="the good file to finish")
    assert body["status"] == "completed", body["error_summary"]
    assert Product.objects.get().name == "After the bombs"

    peaks = peak_rss_kb(celery_worker_process.pid)
    assert peaks and max(peaks.values()) < PEAK_RSS_BOUND_KB, peaks
