"""GET/PUT/DELETE /imports/suppliers/{supplier_code}/mapping, and uploads that use it."""

import pytest

from catalog.models import Product
from imports.services import import_job_run
from tests.factories import ean13

from .helpers import upload

pytestmark = pytest.mark.django_db
URL = "/api/v1/imports/suppliers/ACME/mapping"


def test_a_stored_mapping_is_used_by_uploads_for_that_supplier_without_one(api):
    assert api.put(URL, {"mapping": {"Artikel": "ean", "Text": "name"}}, format="json").status_code == 200
    assert api.get(URL).json()["mapping"] == {"Artikel": "ean", "Text": "name"}
    response = upload(api, f"Artikel,Text\n{ean13(1)},Stift\n", supplier_code="ACME")
    job = import_job_run(job_id=response.json()["id"])
    assert job.status == "completed", job.error_summary
    assert Product.objects.get(ean=ean13(1)).name == "Stift"
    assert api.get(f"/api/v1/imports/jobs/{job.pk}").json()["mapping_sources"] == {
        "Artikel": "supplier",
        "Text": "supplier",
    }


def test_an_explicit_mapping_wins_over_the_stored_one(api):
    api.put(URL, {"mapping": {"Artikel": "ean"}}, format="json")
    response = upload(api, f"Artikel,Code\nx,{ean13(2)}\n", supplier_code="ACME", mapping='{"Code": "ean"}')
    job = import_job_run(job_id=response.json()["id"])
    assert job.mapping_sources == {"Code": "explicit"}


def test_mappings_are_owner_scoped_validated_and_deleted(api, other_api):
    assert api.get(URL).status_code == 404
    bad = api.put(URL, {"mapping": {"Artikel": "colour"}}, format="json")
    assert bad.status_code == 400 and "is not a product field" in bad.json()["mapping"][0]
    api.put(URL, {"mapping": {"Artikel": "ean"}}, format="json")
    assert other_api.get(URL).status_code == 404
    assert other_api.delete(URL).status_code == 404
    assert api.delete(URL).status_code == 204
    assert api.get(URL).status_code == 404


def test_reanalyze_fixes_a_dry_runs_mapping_without_reuploading(api):
    response = upload(api, f"Artikel,Text\n{ean13(3)},Heft\n", dry_run="true", mapping='{"Text": "ean"}')
    job = import_job_run(job_id=response.json()["id"])
    assert (job.status, job.failed_rows) == ("ready", 1)
    url = f"/api/v1/imports/jobs/{job.pk}/reanalyze"
    answer = api.post(url, {"mapping": {"Artikel": "ean", "Text": "name"}}, format="json")
    assert answer.status_code == 202 and answer.json()["status"] == "pending"
    job = import_job_run(job_id=job.pk)
    assert (job.status, job.failed_rows, job.products_created) == ("ready", 0, 1)
    assert job.logs.filter(level="error").count() == 0  # the first analysis's row errors are gone
    api.post(f"/api/v1/imports/jobs/{job.pk}/confirm")
    job = import_job_run(job_id=job.pk)
    assert job.status == "completed" and Product.objects.get(ean=ean13(3)).name == "Heft"
    assert api.post(url, {"mapping": {"Artikel": "ean"}}, format="json").status_code == 409
