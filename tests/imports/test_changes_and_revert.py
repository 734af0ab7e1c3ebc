"""The story of issue 15: see what an import will change, confirm it, take it back.

Catalog at state S; a dry run of file F shows, per product, the before → after its confirmation
then applies; after confirming, revert brings the catalog back to S exactly (every column of
every product), except a product a later job changed, which is listed and left as that job left
it. Runs on both writers: PostgreSQL's SQL and the portable path the embedded SQLite uses.
"""

from decimal import Decimal

import pytest
from django.db import connection

from catalog import upsert
from catalog.models import Product, ProductChange
from imports import changes, revert, services
from imports.models import ImportJob, ImportLog
from tests.factories import ProductFactory, ean13

from .helpers import run_import, upload

pytestmark = pytest.mark.django_db

FILE_F = (
    "ean;name;price;stock;Couleur\n"
    f"{ean13(1)};Pen;29,99;;bleu\n"  # price changes, an attribute is added
    f"{ean13(2)};Same name;31.00;;\n"  # unchanged
    f"{ean13(3)};New product;5.00;7;\n"  # created
    f"{ean13(4)};Renamed;;;\n"  # name changes; later changed again by another job
    f"{ean13(5)};New too;1.00;;\n"  # created; later changed again by another job
    "123;Broken;abc;;\n"  # fails
)


@pytest.fixture(params=["postgres", "python"])
def writer(request, monkeypatch):
    if request.param == "postgres" and connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    if request.param == "python":
        monkeypatch.setattr(upsert, "product_writer", upsert.PythonProductWriter)
        monkeypatch.setattr("imports.runner.product_writer", upsert.PythonProductWriter)
        monkeypatch.setattr(revert, "_restore_set_based", revert._restore_one_by_one)
    return request.param


def _state_s():
    ProductFactory(ean=ean13(1), name="Pen", price=Decimal("31.00"), attributes={"size": "M"})
    ProductFactory(ean=ean13(2), name="Same name", price=Decimal("31.00"), supplier_code="SUP")
    ProductFactory(ean=ean13(4), name="Old name", price=Decimal("2.00"), stock=3)


def _catalog() -> dict[str, dict]:
    return {p["ean"]: p for p in Product.objects.order_by("ean").values()}


def _changes(api, job_id, **params) -> list[dict]:
    response = api.get(f"/api/v1/imports/jobs/{job_id}/changes", params)
    assert response.status_code == 200, response.content
    return response.json()["items"]


def test_dry_run_shows_what_confirming_does_and_revert_restores_the_catalog(api, writer):
    _state_s()
    state_s = _catalog()
    response = upload(api, FILE_F, dry_run="true", supplier_code="SUP")
    job_id = response.json()["id"]
    job = services.import_job_run(job_id=job_id)
    assert job.status == "ready"

    planned = _changes(api, job_id)
    assert [(c["row_number"], c["ean"], c["action"]) for c in planned] == [
        (2, ean13(1), "updated"),
        (3, ean13(2), "unchanged"),
        (4, ean13(3), "created"),
        (5, ean13(4), "updated"),
        (6, ean13(5), "created"),
        (7, None, "failed"),
    ]
    assert planned[0]["fields"] == {
        "price": {"before": "31.00", "after": "29.99"},
        "supplier_code": {"before": state_s[ean13(1)]["supplier_code"], "after": "SUP"},
        "attributes": {"before": {"size": "M"}, "after": {"size": "M", "Couleur": "bleu"}},
    }
    assert planned[3]["fields"]["name"] == {"before": "Old name", "after": "Renamed"}
    assert [c["row_number"] for c in _changes(api, job_id, action="created")] == [4, 6]
    assert _changes(api, job_id, action="updated", skip=1, limit=1)[0]["row_number"] == 5
    assert _catalog() == state_s  # a dry run writes nothing

    services.import_job_confirm(job=ImportJob.objects.get(pk=job_id))
    job = services.import_job_run(job_id=job_id)
    assert (job.products_created, job.products_updated, job.products_unchanged, job.failed_rows) == (
        2,
        2,
        1,
        1,
    )
    done = _changes(api, job_id)
    assert [(c["row_number"], c["action"], c["fields"]) for c in done] == [
        (c["row_number"], c["action"], c["fields"]) for c in planned
    ], "the confirmation did exactly what the dry run showed"

    # A later job changes one product this job updated and one it created.
    later = run_import(f"ean;name\n{ean13(4)};Changed later\n{ean13(5)};Also changed later\n")
    assert later.products_updated == 2
    after_later = _catalog()

    response = api.post(f"/api/v1/imports/jobs/{job_id}/revert")
    assert response.status_code == 202, response.content
    revert.run(job_id)
    job = ImportJob.objects.get(pk=job_id)
    assert job.reverted_at is not None
    assert (job.products_restored, job.products_deleted, job.products_skipped) == (1, 1, 2)

    expected = {**state_s, ean13(4): after_later[ean13(4)], ean13(5): after_later[ean13(5)]}
    assert _catalog() == expected  # every column of every product
    skipped = ImportLog.objects.filter(job_id=job_id, message__startswith="not reverted")
    assert sorted(skipped.values_list("value", flat=True)) == [ean13(4), ean13(5)]
    assert api.post(f"/api/v1/imports/jobs/{job_id}/revert").status_code == 409


def test_a_page_is_the_same_slice_of_the_listing_whatever_the_batches(api, monkeypatch):
    """Pages deep in the file skip whole batches by their counts: each page, under every action,
    at ready and once written, is the slice of the listing read in one batch."""
    _state_s()
    job_id = upload(api, FILE_F, dry_run="true", supplier_code="SUP").json()["id"]
    services.import_job_run(job_id=job_id)
    for phase in ("ready", "completed"):
        if phase == "completed":
            services.import_job_confirm(job=ImportJob.objects.get(pk=job_id))
            services.import_job_run(job_id=job_id)
        for action in (None, "created", "updated", "unchanged", "failed"):
            params = {"action": action} if action else {}
            whole = _changes(api, job_id, **params, limit=100)
            assert whole, (phase, action)
            with monkeypatch.context() as patch:
                patch.setattr(changes, "_BATCH_ROWS", 2)  # FILE_F's six rows in three batches
                for limit in (1, 2):
                    for skip in range(len(whole) + 1):
                        page = _changes(api, job_id, **params, skip=skip, limit=limit)
                        assert page == whole[skip : skip + limit], (phase, action, skip, limit)


def test_a_dry_runs_changes_follow_the_catalog_past_its_counts(api):
    """A dry run's counts are the catalog's at its analysis: a product created since turns a
    planned creation into an update, listed even past the counted updates."""
    _state_s()
    job_id = upload(api, FILE_F, dry_run="true", supplier_code="SUP").json()["id"]
    assert services.import_job_run(job_id=job_id).products_updated == 2
    ProductFactory(ean=ean13(3), name="Created meanwhile")
    assert [c["row_number"] for c in _changes(api, job_id, action="updated")] == [2, 4, 5]
    assert [c["row_number"] for c in _changes(api, job_id, action="updated", skip=2)] == [5]


def test_a_deep_page_works_out_only_the_rows_it_shows(api, monkeypatch):
    _state_s()
    job_id = upload(api, FILE_F, supplier_code="SUP").json()["id"]
    services.import_job_run(job_id=job_id)
    worked_out = []
    written = changes._written

    def recorded(job, valid, actions):
        worked_out.append(valid["row_number"].to_list())
        return written(job, valid, actions)

    monkeypatch.setattr(changes, "_BATCH_ROWS", 2)  # FILE_F's six rows in three batches
    monkeypatch.setattr(changes, "_written", recorded)
    assert [c["row_number"] for c in _changes(api, job_id, skip=4, limit=2)] == [6, 7]
    assert worked_out == [[6]]  # row 7 failed: its logs tell
    worked_out.clear()
    assert [c["row_number"] for c in _changes(api, job_id, action="created", skip=1)] == [6]
    assert worked_out == [[6]]


def test_only_completed_or_cancelled_jobs_can_be_reverted(api):
    job_id = upload(api, FILE_F, dry_run="true").json()["id"]
    services.import_job_run(job_id=job_id)
    response = api.post(f"/api/v1/imports/jobs/{job_id}/revert")
    assert response.status_code == 409
    assert "ready" in response.json()["detail"]


def test_changes_are_unknown_before_the_analysis(api):
    job_id = upload(api, FILE_F).json()["id"]  # pending: no worker in this test
    assert api.get(f"/api/v1/imports/jobs/{job_id}/changes").status_code == 409


def test_a_first_load_records_no_change_rows(writer):
    job = run_import(f"ean;name\n{ean13(1)};A\n{ean13(2)};B\n")
    assert job.products_created == 2
    assert not ProductChange.objects.exists()
    assert set(Product.objects.values_list("created_by_job", "last_job")) == {(job.pk, None)}


def test_a_revert_resumes_from_its_checkpoint(api, writer, settings):
    """A revert interrupted between chunks (its worker killed) finishes with the same result."""
    settings.PIXEE_IMPORT_CHUNK_SIZE = 2
    ProductFactory.create_batch(0)
    for n in range(1, 6):
        ProductFactory(ean=ean13(n), name=f"Before {n}")
    state_s = _catalog()
    rows = "".join(f"{ean13(n)};After {n}\n" for n in range(1, 9))
    job = run_import(f"ean;name\n{rows}")
    assert (job.products_updated, job.products_created) == (5, 3)
    services.import_job_revert(job=job)

    calls = []
    original = revert._restore

    def dies_after_one_chunk(job, changes):
        if calls:
            raise SystemExit("worker killed")
        calls.append(1)
        return original(job, changes)

    revert._restore = dies_after_one_chunk
    try:
        with pytest.raises(SystemExit):
            revert.run(job.pk)
    finally:
        revert._restore = original
    partial = ImportJob.objects.get(pk=job.pk)
    assert partial.products_restored == 2 and partial.reverted_at is None
    ImportJob.objects.filter(pk=job.pk).update(lease_token=None)  # the sweeper's part
    revert.run(job.pk)
    job.refresh_from_db()
    assert (job.products_restored, job.products_deleted, job.products_skipped) == (5, 3, 0)
    assert _catalog() == state_s
