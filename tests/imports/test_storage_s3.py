"""Stored files on S3 (``PIXEE_STORAGE_BACKEND=s3``): an import stores, reads and discards its file there.

The bucket is moto's S3 server on loopback: django-storages and boto3 speak HTTP to it as to AWS.
"""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from django.conf import settings as django_settings
from moto.server import ThreadedMotoServer

from catalog.models import Product
from imports import services
from pixee import settings as project_settings
from tests.factories import ean13

from .helpers import upload

pytestmark = pytest.mark.django_db

BUCKET = "pixee-uploads"
PREFIX = "test-imports"
CSV = f"EAN;Titre;Prix HT\n{ean13(1)};Chaise;29,99\n{ean13(2)};Table;149,00\nbad;Lampe;9,90\n"


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, monkeypatch, settings):
    """The project's S3 settings read from the environment an operator would give, on a new bucket."""
    for name, value in {
        "PIXEE_STORAGE_BACKEND": "s3",
        "PIXEE_S3_BUCKET": BUCKET,
        "PIXEE_S3_PREFIX": PREFIX,
        "PIXEE_S3_REGION": "eu-west-3",
        "PIXEE_S3_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "pixee-test",
        "AWS_SECRET_ACCESS_KEY": "pixee-test-secret",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    settings.STORAGES = {**settings.STORAGES, "default": project_settings._file_storage_from_env()}
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="eu-west-3")
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def stored_keys(client) -> list[str]:
    return [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def media_files() -> set[Path]:
    return {p for p in Path(django_settings.MEDIA_ROOT).rglob("*") if p.is_file()}


def test_a_dry_run_is_stored_in_the_bucket_previewed_confirmed_and_imported_from_it(api, bucket):
    on_disk = media_files()
    job_id = upload(api, CSV, supplier_code="SUP", dry_run="true").json()["id"]
    job = services.import_job_run(job_id=job_id)
    assert stored_keys(bucket) == [f"{PREFIX}/{job.file.name}"]
    assert (job.status, job.total_rows, job.products_created, job.failed_rows) == ("ready", 3, 2, 1)

    preview = api.get(f"/api/v1/imports/jobs/{job_id}/preview").json()
    assert [row["name"] for row in preview["preview"]] == ["Chaise", "Table", "Lampe"]
    report = b"".join(api.get(f"/api/v1/imports/jobs/{job_id}/errors.csv").streaming_content)
    assert b"bad;Lampe" in report

    services.import_job_confirm(job=job)
    job = services.import_job_run(job_id=job_id)
    assert (job.status, job.products_created) == ("completed", 2)
    assert Product.objects.get(ean=ean13(1)).name == "Chaise"
    assert media_files() == on_disk  # nothing went to MEDIA_ROOT


def test_cancelling_deletes_the_stored_file_from_the_bucket(api, bucket):
    job_id = upload(api, CSV, supplier_code="SUP", dry_run="true").json()["id"]
    job = services.import_job_run(job_id=job_id)
    assert len(stored_keys(bucket)) == 1
    services.import_job_cancel(job=job)
    services.import_job_discard_data(job_id=job_id)
    assert stored_keys(bucket) == []


def test_s3_without_a_bucket_stops_the_process_with_a_sentence_naming_the_setting(monkeypatch):
    monkeypatch.setenv("PIXEE_STORAGE_BACKEND", "s3")
    monkeypatch.delenv("PIXEE_S3_BUCKET", raising=False)
    with pytest.raises(SystemExit, match=r"^PIXEE_S3_BUCKET must be set when PIXEE_STORAGE_BACKEND is s3"):
        project_settings._file_storage_from_env()


def test_the_filesystem_is_the_default_and_any_backend_class_may_be_named(monkeypatch):
    monkeypatch.delenv("PIXEE_STORAGE_BACKEND", raising=False)
    assert project_settings._file_storage_from_env() == {
        "BACKEND": "django.core.files.storage.FileSystemStorage"
    }
    monkeypatch.setenv("PIXEE_STORAGE_BACKEND", "storages.backends.sftpstorage.SFTPStorage")
    assert project_settings._file_storage_from_env() == {
        "BACKEND": "storages.backends.sftpstorage.SFTPStorage"
    }
