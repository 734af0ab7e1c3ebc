"""GET/PUT/DELETE /imports/suppliers/{supplier_code}/mapping, and uploads that use it."""

import pytest

from catalog.models import Product
from imports.models import ImportJob
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
    body = {"mapping": {"Artikel": "ean", "Text": "name"}, "on_invalid_value": "skip_value"}
    answer = api.post(url, body, format="json")
    assert answer.status_code == 202 and answer.json()["status"] == "pending"
    job = import_job_run(job_id=job.pk)
    assert (job.status, job.failed_rows, job.products_created) == ("ready", 0, 1)
    assert job.on_invalid_value == "skip_value"
    assert job.logs.filter(level="error").count() == 0  # the first analysis's row errors are gone
    api.post(f"/api/v1/imports/jobs/{job.pk}/confirm")
    job = import_job_run(job_id=job.pk)
    assert job.status == "completed" and Product.objects.get(ean=ean13(3)).name == "Heft"
    assert api.post(url, {"mapping": {"Artikel": "ean"}}, format="json").status_code == 409


def test_skip_value_keeps_the_row_without_its_unusable_value(api):
    text = f"ean,name,price,stock\n{ean13(4)},Gomme,abc,3\n{ean13(5)},Crayon,1.50,-2\nbad,Règle,2,1\n"
    response = upload(api, text, on_invalid_value="skip_value")
    job = import_job_run(job_id=response.json()["id"])
    assert (job.status, job.products_created, job.failed_rows) == ("completed", 2, 1)
    eraser, pencil = Product.objects.get(ean=ean13(4)), Product.objects.get(ean=ean13(5))
    assert (eraser.price, eraser.stock, pencil.stock) == (None, 3, None)
    warning = job.logs.get(level="warning", row_number=2)
    assert (warning.field, warning.value) == ("price", "abc")
    assert warning.message.endswith("; the row was kept without its price")
    assert job.logs.get(level="error").field == "ean"  # the key is never skipped


def test_skip_row_is_the_default(api):
    job = import_job_run(job_id=upload(api, f"ean,name,price\n{ean13(6)},Gomme,abc\n").json()["id"])
    assert (job.on_invalid_value, job.failed_rows, job.products_created) == ("skip_row", 1, 0)


# --- on_invalid_value stored with the supplier's mapping ---------------------------------------

BAD_PRICE = f"ean,name,price\n{ean13(7)},Gomme,abc\n"


def test_a_stored_on_invalid_value_is_used_by_uploads_that_give_none(api):
    body = {"mapping": {}, "on_invalid_value": "skip_value"}
    stored = api.put(URL, body, format="json").json()
    assert (stored["mapping"], stored["on_invalid_value"]) == ({}, "skip_value")
    assert api.get(URL).json()["on_invalid_value"] == "skip_value"
    # With a mapping of its own, the upload still takes the supplier's on_invalid_value.
    response = upload(api, BAD_PRICE, supplier_code="ACME", mapping='{"ean": "ean"}')
    job = import_job_run(job_id=response.json()["id"])
    assert (job.on_invalid_value, job.products_created, job.failed_rows) == ("skip_value", 1, 0)
    assert Product.objects.get(ean=ean13(7)).price is None
    assert api.get(f"/api/v1/imports/jobs/{job.pk}").json()["on_invalid_value"] == "skip_value"


def test_an_explicit_on_invalid_value_wins_over_the_stored_one(api):
    api.put(URL, {"mapping": {}, "on_invalid_value": "skip_value"}, format="json")
    response = upload(api, BAD_PRICE, supplier_code="ACME", on_invalid_value="skip_row")
    job = import_job_run(job_id=response.json()["id"])
    assert (job.on_invalid_value, job.products_created, job.failed_rows) == ("skip_row", 0, 1)


def test_on_invalid_value_defaults_to_skip_row_and_is_validated(api, other_api):
    assert (
        api.put(URL, {"mapping": {"Artikel": "ean"}}, format="json").json()["on_invalid_value"] == "skip_row"
    )
    bad = api.put(URL, {"mapping": {}, "on_invalid_value": "skip_cell"}, format="json")
    assert bad.status_code == 400 and "skip_cell" in bad.json()["on_invalid_value"][0]
    # Another owner's stored choice is not applied to this user's uploads.
    other_api.put(URL, {"mapping": {}, "on_invalid_value": "skip_value"}, format="json")
    job = import_job_run(job_id=upload(api, BAD_PRICE, supplier_code="ACME").json()["id"])
    assert (job.on_invalid_value, job.failed_rows) == ("skip_row", 1)


def test_a_dry_run_that_failed_on_max_errors_wrote_nothing_and_can_be_reanalyzed(api):
    text = f"ean,name\n{ean13(8)},Heft\n{ean13(9)},\n"  # the second row has no name
    response = upload(api, text, dry_run="true", max_errors="0")
    job = import_job_run(job_id=response.json()["id"])
    # The analysis counted what confirming would create before it failed.
    assert (job.status, job.products_created, job.failed_rows) == ("failed", 1, 1)
    url = f"/api/v1/imports/jobs/{job.pk}/reanalyze"
    assert api.post(url, {"mapping": {}, "on_invalid_value": "skip_value"}, format="json").status_code == 202
    job = import_job_run(job_id=job.pk)
    assert job.status == "failed"  # the missing name of a new product is never skipped
    assert api.post(url, {"mapping": {}}, format="json").status_code == 202


def test_a_job_that_failed_after_writing_cannot_be_reanalyzed(api):
    job = import_job_run(job_id=upload(api, f"ean,name\n{ean13(10)},Heft\n").json()["id"])
    ImportJob.objects.filter(pk=job.pk).update(status="failed")  # as if it failed after this chunk
    answer = api.post(f"/api/v1/imports/jobs/{job.pk}/reanalyze", {"mapping": {}}, format="json")
    assert answer.status_code == 409
    assert answer.json()["detail"] == "Cannot reanalyze a job that already wrote products."
