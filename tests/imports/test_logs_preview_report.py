"""Logs pagination, preview, the error report, and dry run counts (issue 4)."""

import csv
import io
from decimal import Decimal

import pytest

from catalog.models import Product
from imports import services
from imports.models import ImportJob
from tests.factories import ProductFactory, ean13

from .helpers import run_import, upload

pytestmark = pytest.mark.django_db


def bad_rows_csv(n: int) -> str:
    return "ean,name\n" + "".join(f"bad{i},Row {i}\n" for i in range(n))


def logs(api, job_id, query=""):
    return api.get(f"/api/v1/imports/jobs/{job_id}/logs{query}")


def test_logs_paginate_exactly_as_the_spec_meta(api):
    job = run_import(bad_rows_csv(7), user=api.user)
    body = logs(api, job.pk, "?level=error&limit=3").json()
    assert [i["row_number"] for i in body["items"]] == [2, 3, 4]
    assert body["meta"] == {
        "total": 7,
        "page": 1,
        "per_page": 3,
        "total_pages": 3,
        "has_next": True,
        "has_previous": False,
    }
    last = logs(api, job.pk, "?level=error&limit=3&skip=6").json()
    assert [i["row_number"] for i in last["items"]] == [8]
    assert last["meta"] == {
        "total": 7,
        "page": 3,
        "per_page": 3,
        "total_pages": 3,
        "has_next": False,
        "has_previous": True,
    }
    item = last["items"][0]
    assert set(item) == {"row_number", "level", "field", "message", "value", "timestamp"}
    assert (item["level"], item["field"], item["message"], item["value"]) == (
        "error",
        "ean",
        "EAN format invalid (expected 13 digits)",
        "bad6",
    )
    beyond = logs(api, job.pk, "?level=error&skip=50").json()
    assert beyond["items"] == [] and beyond["meta"]["has_previous"] is True


def test_logs_empty_and_invalid_parameters(api):
    job = run_import(f"ean,name\n{ean13(1)},Fine\n", user=api.user)
    body = logs(api, job.pk, "?level=error").json()
    assert body == {
        "items": [],
        "meta": {
            "total": 0,
            "page": 1,
            "per_page": 50,
            "total_pages": 0,
            "has_next": False,
            "has_previous": False,
        },
    }
    assert logs(api, job.pk, "?limit=201").status_code == 400
    assert logs(api, job.pk, "?limit=200").status_code == 200
    assert logs(api, job.pk, "?limit=0").status_code == 400
    assert logs(api, job.pk, "?skip=-1").status_code == 400
    response = logs(api, job.pk, "?level=fatal")
    assert response.status_code == 400 and "level" in response.json()


def test_milestones_are_info_logs_without_a_row(api):
    job = run_import(f"ean,name\n{ean13(1)},Fine\n", user=api.user)
    items = logs(api, job.pk, "?level=info").json()["items"]
    assert all(i["row_number"] is None for i in items)
    messages = [i["message"] for i in items]
    assert messages[0].startswith("Analysis started")
    assert messages[-1].startswith("Import completed: 1 created")


def test_preview_works_before_the_analysis(api):
    job_id = upload(
        api, f"EAN;Titre;Prix HT;Couleur\n{ean13(1)};Produit exemple;29,99;rouge\nbad;X;1\n{ean13(2)};B;2\n"
    ).json()["id"]
    body = api.get(f"/api/v1/imports/jobs/{job_id}/preview?limit=2").json()
    assert body["total_rows"] is None
    absent = dict.fromkeys(("brand", "category", "description", "stock", "image_url", "sku"))
    bad_ean = {
        "row_number": 3,
        "field": "ean",
        "message": "EAN format invalid (expected 13 digits)",
        "value": "bad",
    }
    assert body["preview"][0] == {
        "row_number": 2,
        "ean": ean13(1),
        "name": "Produit exemple",
        "price": 29.99,
        **absent,
        "attributes": {"Couleur": "rouge"},
        "errors": [],
    }
    # Parsed values only: the invalid EAN is null, the valid price is read; the row's errors.
    assert body["preview"][1] == {
        "row_number": 3,
        "ean": None,
        "name": "X",
        "price": 1.0,
        **absent,
        "attributes": None,
        "errors": [bad_ean],
    }
    assert body["validation_errors"] == [bad_ean]
    assert len(api.get(f"/api/v1/imports/jobs/{job_id}/preview").json()["preview"]) == 3
    assert api.get(f"/api/v1/imports/jobs/{job_id}/preview?limit=101").status_code == 400


def test_preview_after_analysis_has_total_rows(api):
    job = run_import(f"ean,name\n{ean13(1)},A\n{ean13(2)},B\n", user=api.user)
    assert api.get(f"/api/v1/imports/jobs/{job.pk}/preview?limit=1").json()["total_rows"] == 2


def test_error_report_has_the_rejected_rows_as_in_the_file_and_is_formula_safe(api):
    job = run_import(
        "ean,name,price\n"
        f"{ean13(1)},Good,1\n"
        '=HYPERLINK("http://x"),@SUM(A1),-3\n'
        f"{ean13(2)},Dup one,2\n"
        f"{ean13(2)},+cmd,2\n",
        user=api.user,
    )
    response = api.get(f"/api/v1/imports/jobs/{job.pk}/errors.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["ean", "name", "price", "row_number", "field", "message"]
    assert rows[1] == [
        '\'=HYPERLINK("http://x")',
        "'@SUM(A1)",
        "'-3",
        "3",
        "ean; price",
        "EAN format invalid (expected 13 digits); price must not be negative",
    ]
    assert rows[2] == [ean13(2), "'+cmd", "2", "5", "ean", "duplicate EAN in file (first seen at row 4)"]
    assert len(rows) == 3
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_error_report_of_a_cancelled_job_is_409(api):
    job_id = upload(api, bad_rows_csv(1)).json()["id"]
    api.post(f"/api/v1/imports/jobs/{job_id}/cancel")
    services.import_job_discard_data(job_id=job_id)
    assert api.get(f"/api/v1/imports/jobs/{job_id}/errors.csv").status_code == 409
    assert api.get(f"/api/v1/imports/jobs/{job_id}/preview").status_code == 409


def test_dry_run_counts_equal_the_confirmed_import(api):
    ProductFactory(ean=ean13(1), name="Changes", price=Decimal("1.00"), supplier_code="SUP")
    ProductFactory(ean=ean13(2), name="Same", price=Decimal("2.00"), supplier_code="SUP")
    content = (
        "ean,name,price\n"
        f"{ean13(1)},Changes,1.50\n"  # updated
        f"{ean13(2)},Same,2.00\n"  # unchanged
        f"{ean13(3)},New,3.00\n"  # created
        f"{ean13(4)},,4.00\n"  # cannot create without a name
        "bad,Invalid,5\n"  # invalid
        f"{ean13(3)},Again,3\n"  # duplicate
    )
    job = run_import(content, user=api.user, dry_run=True, supplier_code="SUP")
    assert job.status == "ready"
    predicted = (job.products_created, job.products_updated, job.products_unchanged, job.failed_rows)
    assert predicted == (1, 1, 1, 3)
    assert Product.objects.get(ean=ean13(1)).price == Decimal("1.00")
    assert api.post(f"/api/v1/imports/jobs/{job.pk}/confirm").json()["status"] == "processing"
    job = services.import_job_run(job_id=job.pk)
    assert job.status == "completed"
    assert (job.products_created, job.products_updated, job.products_unchanged, job.failed_rows) == predicted
    assert Product.objects.get(ean=ean13(1)).price == Decimal("1.50")
    messages = list(job.logs.filter(level="info").values_list("message", flat=True))
    assert any(m.startswith("Dry run ready") for m in messages)
    assert "Dry run confirmed: processing started." in messages


def test_pausing_a_finished_job_is_409(api):
    job = run_import(f"ean,name\n{ean13(1)},A\n", user=api.user)
    response = api.post(f"/api/v1/imports/jobs/{job.pk}/pause")
    assert response.status_code == 409
    assert response.json() == {"detail": "Cannot pause a job that is completed."}
    assert ImportJob.objects.get(pk=job.pk).status == "completed"


def test_previews_and_error_reports_are_throttled_per_user(api, other_api, monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import ScopedRateThrottle

    cache.clear()
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"file_reads": "3/minute"})
    job = run_import(bad_rows_csv(2), user=api.user)
    base = f"/api/v1/imports/jobs/{job.pk}"
    codes = [api.get(f"{base}/preview").status_code for _ in range(2)]
    codes.append(api.get(f"{base}/errors.csv").status_code)
    codes.append(api.get(f"{base}/errors.csv").status_code)
    assert codes == [200, 200, 200, 429]
    assert api.get(f"{base}/preview").json()["detail"].startswith("Request was throttled")
    assert api.get(base).status_code == 200  # the job itself is not a file read
    other = run_import(bad_rows_csv(1), user=other_api.user)
    assert other_api.get(f"/api/v1/imports/jobs/{other.pk}/preview").status_code == 200
