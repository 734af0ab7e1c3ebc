"""The API contract of the import path (spec + CONTRACT §2)."""

import uuid

import pytest

from imports.models import ImportJob
from imports.services import import_job_run
from tests.factories import ean13

from .helpers import upload

pytestmark = pytest.mark.django_db

CSV = f'EAN,Titre,Prix HT\n{ean13(1)},Produit exemple,"29,99"\n123ABC7890,Bad,1\n'


def test_requests_without_a_valid_key_are_401(client):
    assert client.get("/api/v1/imports/jobs").status_code == 401
    response = client.get("/api/v1/imports/jobs", HTTP_AUTHORIZATION="Bearer pxk_nope_nope")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or revoked API key."}
    assert response["WWW-Authenticate"] == "Bearer"


def test_revoked_key_is_401(user):
    from rest_framework.test import APIClient

    from pixee.apikeys import api_key_revoke
    from tests.factories import ApiKeyFactory

    key = ApiKeyFactory(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key.raw_key}")
    assert client.get("/api/v1/imports/jobs").status_code == 200
    api_key_revoke(api_key=key)
    assert client.get("/api/v1/imports/jobs").status_code == 401


def test_create_answers_201_with_the_spec_fields(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = upload(api, CSV, name="../../etc/Catalog.CSV", supplier_code="SUPPLIER_A")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"id", "status", "file_name", "file_type"}
    assert (body["status"], body["file_name"], body["file_type"]) == ("pending", "Catalog.CSV", "csv")
    job = ImportJob.objects.get(pk=body["id"])
    assert job.file.name.endswith(f"{job.pk}.csv")  # the client's name never reaches the disk
    assert len(callbacks) == 1  # the run is enqueued on commit


def test_job_detail_shows_every_spec_field_after_the_run(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        job_id = upload(api, CSV, supplier_code="SUPPLIER_A").json()["id"]
    import_job_run(job_id=job_id)
    body = api.get(f"/api/v1/imports/jobs/{job_id}").json()
    spec_fields = {
        "id",
        "file_name",
        "file_type",
        "file_size",
        "status",
        "total_rows",
        "successful_rows",
        "failed_rows",
        "products_created",
        "products_updated",
        "started_at",
        "completed_at",
        "error_summary",
    }
    contract_fields = {
        "supplier_code",
        "dry_run",
        "processed_rows",
        "progress",
        "products_unchanged",
        "mapping",
    }
    assert spec_fields | contract_fields <= set(body)
    assert body["status"] == "completed"
    assert (body["total_rows"], body["successful_rows"], body["failed_rows"]) == (2, 1, 1)
    assert body["error_summary"] == "1 row failed: 1 EAN format invalid"
    assert body["file_size"] == len(CSV.encode())
    assert body["progress"] == 100


def test_missing_file_and_unknown_extension_are_400(api):
    response = api.post("/api/v1/imports/jobs", {"supplier_code": "X"}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()
    response = upload(api, "hello", name="catalog.pdf")
    assert response.status_code == 400
    assert "unsupported extension" in response.json()["file"][0]


def test_bad_mapping_is_400(api):
    response = upload(api, CSV, mapping="{not json")
    assert response.status_code == 400 and "not valid JSON" in response.json()["mapping"][0]
    response = upload(api, CSV, mapping='{"EAN": "colour"}')
    assert response.status_code == 400 and "not a product field" in response.json()["mapping"][0]


def test_upload_over_the_limit_is_413_and_keeps_nothing(api, settings):
    settings.PIXEE_MAX_UPLOAD_MB = 0
    response = upload(api, CSV)
    assert response.status_code == 413
    assert not ImportJob.objects.exists()


def test_other_owners_jobs_are_404_and_staff_sees_all(api, other_api, staff_api):
    job_id = upload(api, CSV).json()["id"]
    assert other_api.get(f"/api/v1/imports/jobs/{job_id}").status_code == 404
    assert other_api.get(f"/api/v1/imports/jobs/{job_id}/logs").status_code == 404
    assert other_api.post(f"/api/v1/imports/jobs/{job_id}/cancel").status_code == 404
    assert other_api.get("/api/v1/imports/jobs").json()["meta"]["total"] == 0
    assert staff_api.get(f"/api/v1/imports/jobs/{job_id}").status_code == 200
    assert api.get(f"/api/v1/imports/jobs/{uuid.uuid4()}").status_code == 404


def test_job_list_is_newest_first_filtered_and_paginated(api):
    ids = [upload(api, CSV, supplier_code="A" if n % 2 else "B").json()["id"] for n in range(5)]
    body = api.get("/api/v1/imports/jobs?limit=2").json()
    assert [j["id"] for j in body["items"]] == ids[::-1][:2]
    assert body["meta"] == {
        "total": 5,
        "page": 1,
        "per_page": 2,
        "total_pages": 3,
        "has_next": True,
        "has_previous": False,
    }
    body = api.get("/api/v1/imports/jobs?supplier_code=A&status=pending").json()
    assert body["meta"]["total"] == 2
    assert api.get("/api/v1/imports/jobs?status=nope").status_code == 400


def test_transitions_not_allowed_are_409(api):
    job_id = upload(api, CSV).json()["id"]
    assert api.post(f"/api/v1/imports/jobs/{job_id}/confirm").status_code == 409
    response = api.post(f"/api/v1/imports/jobs/{job_id}/resume")
    assert response.status_code == 409
    assert response.json() == {"detail": "Cannot resume a job that is pending."}
    assert api.post(f"/api/v1/imports/jobs/{job_id}/cancel").json() == {"id": job_id, "status": "cancelled"}
    assert api.post(f"/api/v1/imports/jobs/{job_id}/pause").status_code == 409


def test_unknown_api_path_is_a_json_404(api):
    response = api.get("/api/v1/nothing/here")
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}


def test_catalog_products_are_readable_after_an_import(api, django_capture_on_commit_callbacks):
    job_id = upload(api, CSV, supplier_code="SUPPLIER_A").json()["id"]
    import_job_run(job_id=job_id)
    body = api.get("/api/v1/catalog/products?supplier_code=SUPPLIER_A").json()
    assert body["meta"]["total"] == 1
    product = body["items"][0]
    assert (product["ean"], product["name"], product["price"]) == (ean13(1), "Produit exemple", 29.99)
    assert api.get(f"/api/v1/catalog/products/{ean13(1)}").json()["name"] == "Produit exemple"
    assert api.get("/api/v1/catalog/products/0000000000000").status_code == 404


@pytest.mark.parametrize(
    "name, content, says",
    [
        ("catalog.xlsx", "ean,name\n4006381333931,A\n", "xlsx"),
        ("catalog.json", "<products><p><ean>1</ean></p></products>", "JSON"),
        ("catalog.csv", b"PK\x03\x04\x14\x00\x00\x00", "CSV"),
    ],
)
def test_content_that_does_not_match_the_extension_is_400(api, name, content, says):
    response = upload(api, content, name=name)
    assert response.status_code == 400
    message = response.json()["file"][0]
    assert says.lower() in message.lower(), message
    assert not ImportJob.objects.exists()


def test_the_webhook_secret_is_answered_once_and_only_with_a_webhook_url(api):
    body = upload(api, CSV, webhook_url="https://93.184.216.34/hook").json()
    assert set(body) == {"id", "status", "file_name", "file_type", "webhook_secret"}
    assert body["webhook_secret"] == ImportJob.objects.get(pk=body["id"]).webhook_secret
    assert "webhook_secret" not in api.get(f"/api/v1/imports/jobs/{body['id']}").json()
    assert "webhook_secret" not in upload(api, CSV).json()
