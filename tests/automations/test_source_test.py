"""Testing a source before relying on it: connect, authenticate, find the file, import nothing."""

import os
from datetime import UTC, datetime

import pytest

from automations import services
from automations.choices import RunStatus
from automations.models import AutomationRun
from imports.models import ImportJob

from .conftest import CSV

URL = "/api/v1/imports/automations"
MTIME = datetime(2026, 11, 30, 6, 15, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_sftp_source_test_reports_size_and_modification_time(make_automation, sftp_server, sftp_source):
    os.utime(sftp_server.root / "exports" / "products.csv", (MTIME.timestamp(), MTIME.timestamp()))
    result = services.automation_test(automation=make_automation(sftp_source))
    assert result == services.SourceTestResult(ok=True, size=len(CSV), modified_at=MTIME)


@pytest.mark.django_db
def test_ftp_source_test_reports_size_and_modification_time(make_automation, ftp_server, ftp_source):
    os.utime(ftp_server.root / "exports" / "products.csv", (MTIME.timestamp(), MTIME.timestamp()))
    result = services.automation_test(automation=make_automation(ftp_source))
    assert result == services.SourceTestResult(ok=True, size=len(CSV), modified_at=MTIME)


@pytest.mark.django_db
def test_http_source_test_reads_content_length_and_last_modified(make_automation, http_server, http_source):
    http_server.last_modified = "Mon, 30 Nov 2026 06:15:00 GMT"
    result = services.automation_test(automation=make_automation(http_source))
    assert result == services.SourceTestResult(ok=True, size=len(CSV), modified_at=MTIME)


@pytest.mark.django_db
def test_source_test_names_a_refused_password_and_a_missing_file(make_automation, sftp_source, ftp_source):
    wrong_password = services.automation_test(automation=make_automation({**sftp_source, "password": "nope"}))
    assert not wrong_password.ok
    assert (
        wrong_password.error
        == f"The SFTP server 127.0.0.1:{sftp_source['port']} refused the password of user 'alice'."
    )
    missing = services.automation_test(
        automation=make_automation({**ftp_source, "path": "/exports/none.csv"}, name="other")
    )
    assert not missing.ok and missing.error.startswith("There is no file /exports/none.csv on 127.0.0.1:")


@pytest.mark.django_db
def test_test_endpoint_answers_ok_size_modified_at_error_and_imports_nothing(
    api, other_api, make_automation, http_server, http_source
):
    http_server.last_modified = "Mon, 30 Nov 2026 06:15:00 GMT"
    automation = make_automation(http_source)

    response = api.post(f"{URL}/{automation.pk}/test")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "ok": True,
        "size": len(CSV),
        "modified_at": "2026-11-30T06:15:00Z",
        "error": None,
    }
    assert (ImportJob.objects.count(), AutomationRun.objects.count()) == (0, 0)
    assert other_api.post(f"{URL}/{automation.pk}/test").status_code == 404
    http_server.files.clear()
    body = api.post(f"{URL}/{automation.pk}/test").json()
    assert body["ok"] is False and body["size"] is None
    assert body["error"] == f"There is no file at {http_source['url']} (HTTP 404 Not Found)."


@pytest.mark.django_db
def test_skipped_run_says_which_run_had_the_same_file(make_automation, http_source, api):
    automation = make_automation(http_source)
    first = services.automation_run(automation_id=automation.pk)
    AutomationRun.objects.filter(pk=first.pk).update(started_at=datetime(2026, 12, 1, 2, 0, tzinfo=UTC))

    second = services.automation_run(automation_id=automation.pk)

    assert second.status == RunStatus.SKIPPED
    assert second.error.startswith(
        f"Unchanged since the run of 2026-12-01 02:00 UTC (same SHA-256, {first.checksum[:12]}…)"
    )
    runs = api.get(f"{URL}/{automation.pk}/runs").json()["items"]
    assert runs[0]["error"] == second.error
