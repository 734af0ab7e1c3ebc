"""Uploads: over the size limit nothing is kept, and the client's file name never reaches the disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile

from imports import services
from imports.models import ImportJob
from tests.factories import ean13

from .helpers import upload

pytestmark = pytest.mark.django_db

CSV_LINE = f"{ean13(1)},Produit\n"


def media_files() -> set[Path]:
    return {p for p in Path(django_settings.MEDIA_ROOT).rglob("*") if p.is_file()}


def csv_of_size(size: int) -> bytes:
    head = b"ean,name\n"
    line = CSV_LINE.encode()
    return head + line * ((size - len(head)) // len(line) + 1)


@pytest.mark.parametrize(
    "extra",
    [
        10_000,  # within the multipart slack: refused by the service, after Django read the body
        2 << 20,  # announced by Content-Length: refused before the body is read
    ],
)
def test_an_upload_over_the_limit_is_413_and_keeps_nothing(api, settings, extra):
    settings.PIXEE_MAX_UPLOAD_MB = 1
    before = media_files()
    response = upload(api, csv_of_size((1 << 20) + extra))
    assert response.status_code == 413
    assert "1 MB" in response.json()["detail"]
    assert not ImportJob.objects.exists()
    assert media_files() == before


def test_an_upload_at_the_limit_is_accepted(api, settings):
    settings.PIXEE_MAX_UPLOAD_MB = 1
    response = upload(api, csv_of_size((1 << 20) - 1000))
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    "fields",
    [
        {"mapping": '{"EAN": "colour"}'},  # refused after the file's checks
        {"webhook_url": "ftp://example.com/hook"},
    ],
)
def test_a_refused_upload_keeps_no_file(api, fields):
    before = media_files()
    assert upload(api, csv_of_size(1000), **fields).status_code == 400
    assert not ImportJob.objects.exists()
    assert media_files() == before


def test_a_job_that_cannot_be_saved_leaves_no_stored_file(monkeypatch):
    before = media_files()

    def broken_save(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(ImportJob, "save", broken_save)
    with pytest.raises(RuntimeError):
        services.import_job_create(
            user=None, file=SimpleUploadedFile("c.csv", csv_of_size(100)), enqueue=False
        )
    assert media_files() == before


HOSTILE_NAMES = {
    "../../escape.csv": "escape.csv",
    "..\\..\\windows.csv": "windows.csv",
    "/etc/cron.d/absolute.csv": "absolute.csv",
    "con.csv": "con.csv",  # a reserved device name on Windows: shown, never used as a path
    "nul\x00byte.csv": "nulbyte.csv",
    "new\nline\r.csv": "newline.csv",
    "tab\tand\x7fdel.csv": "tabanddel.csv",
    "é" * 300 + ".csv": "é" * 251 + ".csv",
}


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_client_file_names_never_touch_the_filesystem(api, tmp_path, name):
    before = media_files()
    job = services.import_job_create(
        user=api.user, file=SimpleUploadedFile("x", csv_of_size(100)), file_name=name, enqueue=False
    )
    assert job.file_name == HOSTILE_NAMES[name]
    assert job.file_type == "csv"
    # The stored file is named after the job, under the media root; nothing else was written.
    stored = Path(job.file.path)
    assert stored.name == f"{job.pk}.csv"
    assert stored.resolve().is_relative_to(Path(django_settings.MEDIA_ROOT).resolve())
    assert media_files() - before == {stored}
    assert not (Path(django_settings.MEDIA_ROOT).parent / "escape.csv").exists()


@pytest.mark.parametrize(
    "name", ["../../x.csv", "a\x00b.csv", "a\nb.csv", "con.csv", "x" * 400 + ".csv", '产品 "v2".csv']
)
def test_the_api_answers_a_safe_base_name(api, name):
    response = upload(api, csv_of_size(100), name=name)
    assert response.status_code == 201, response.content
    file_name = response.json()["file_name"]
    assert file_name.endswith(".csv") and len(file_name) <= 255
    assert not set(file_name) & {"/", "\\", "\x00", "\n", "\r"}
    job = ImportJob.objects.get(pk=response.json()["id"])
    assert Path(job.file.name).name == f"{job.pk}.csv"
    # The error report is named after it: a header a client can read, without injected lines.
    disposition = api.get(f"/api/v1/imports/jobs/{job.pk}/errors.csv")["Content-Disposition"]
    assert disposition.startswith(("attachment; filename=", "attachment; filename*=utf-8''"))
    assert disposition.isascii() and "\n" not in disposition and "\r" not in disposition


def test_a_non_ascii_file_name_names_the_error_report_as_rfc_6266_says(api):
    job_id = upload(api, csv_of_size(100), name='产品 "v2".csv').json()["id"]
    response = api.get(f"/api/v1/imports/jobs/{job_id}/errors.csv")
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%E4%BA%A7%E5%93%81%20%22v2%22-errors.csv"
    )


def test_max_errors_beyond_the_column_is_refused_by_the_service_too():
    # The API's serializer says so first; the import_file command and automations come here.
    with pytest.raises(services.UploadRejected, match=r"^max_errors must be between 0 and 2147483647\.$"):
        services.import_job_create(
            user=None, file=SimpleUploadedFile("c.csv", csv_of_size(100)), max_errors=2**31, enqueue=False
        )
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize("max_errors", [-1, 2**31])
def test_the_api_and_the_admin_say_max_errors_bounds_in_the_same_words(api, admin_client, max_errors):
    message = "max_errors must be between 0 and 2147483647."
    response = upload(api, csv_of_size(100), max_errors=str(max_errors))
    assert (response.status_code, response.json()) == (400, {"max_errors": [message]})
    page = admin_client.post(
        "/admin/imports/importjob/add/",
        {"file": SimpleUploadedFile("c.csv", csv_of_size(100)), "max_errors": str(max_errors)},
    )
    assert page.context["adminform"].form.errors["max_errors"] == [message]
    assert not ImportJob.objects.exists()


def test_an_interrupted_upload_s_temporary_file_is_ours_and_swept(settings, tmp_path):
    import os
    import time

    from django.core.files.uploadedfile import TemporaryUploadedFile

    from imports import services as import_services
    from imports import tasks as import_tasks

    assert Path(settings.FILE_UPLOAD_TEMP_DIR).is_relative_to(settings.VAR_DIR)
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    # What Django writes a large upload to while it arrives: in our folder, not the system's.
    upload = TemporaryUploadedFile("big.csv", "text/csv", 0, "utf-8")
    assert os.path.dirname(upload.temporary_file_path()) == str(tmp_path)
    upload.write(b"ean,name\n")
    upload.flush()
    fresh = tmp_path / "fresh.upload"
    fresh.write_bytes(b"in progress")
    old = time.time() - settings.PIXEE_UPLOAD_TEMP_MAX_AGE - 60
    os.utime(upload.temporary_file_path(), (old, old))  # as if its request died hours ago
    import_tasks.sweep_stalled_jobs()
    assert not os.path.exists(upload.temporary_file_path())
    assert fresh.exists()  # a running upload keeps its file
    assert import_services.upload_temp_files_sweep() == 0
    upload.close()
