"""Idempotency-Key on POST /imports/jobs: Stripe's semantics."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from imports.models import ImportJob
from tests.factories import ean13

pytestmark = pytest.mark.django_db
CSV = f"ean,name\n{ean13(1)},A\n"


def upload(client, content: str, *, key: str | None = None, **fields):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    data = {"file": SimpleUploadedFile("catalog.csv", content.encode()), **fields}
    return client.post("/api/v1/imports/jobs", data, format="multipart", **headers)


def test_the_same_key_and_request_answer_the_same_job(api):
    first = upload(api, CSV, supplier_code="S", key="k-1")
    again = upload(api, CSV, supplier_code="S", key="k-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert ImportJob.objects.count() == 1


def test_the_same_key_with_another_request_is_422(api):
    assert upload(api, CSV, supplier_code="S", key="k-2").status_code == 201
    other_field = upload(api, CSV, supplier_code="T", key="k-2")
    other_file = upload(api, CSV + f"{ean13(2)},B\n", supplier_code="S", key="k-2")
    for response in (other_field, other_file):
        assert response.status_code == 422
        assert "already used with a different request" in response.json()["detail"]
    assert ImportJob.objects.count() == 1


def test_keys_are_per_user_and_a_rejected_request_does_not_use_its_key(api, other_api):
    assert upload(api, CSV, key="shared").status_code == 201
    assert upload(other_api, CSV, key="shared").status_code == 201
    assert upload(api, "", key="k-3").status_code == 400  # empty file
    assert upload(api, CSV, key="k-3").status_code == 201
    assert ImportJob.objects.count() == 3


def test_without_a_key_every_request_creates_a_job(api):
    upload(api, CSV)
    upload(api, CSV)
    assert ImportJob.objects.count() == 2
