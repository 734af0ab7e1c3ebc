"""The job runner in this process, on the real database: counts, logs, failures."""

from decimal import Decimal

import pytest

from catalog.models import Product
from imports.models import ImportLog
from tests.factories import ProductFactory, ean13

from .helpers import run_import

pytestmark = pytest.mark.django_db


def test_csv_import_creates_products_and_counts_rows():
    job = run_import(
        "EAN;Désignation;Prix HT;Marque;Couleur\n"
        f"{ean13(1)};Stylo bleu;1,99;Stabilo;bleu\n"
        f"{ean13(2)};Cahier;€3,50;Clairefontaine;\n",
        supplier_code="SUPPLIER_A",
    )
    assert job.status == "completed", job.error_summary
    assert (job.total_rows, job.successful_rows, job.failed_rows) == (2, 2, 0)
    assert (job.products_created, job.products_updated, job.products_unchanged) == (2, 0, 0)
    assert job.mapping == {"EAN": "ean", "Désignation": "name", "Prix HT": "price", "Marque": "brand"}
    pen = Product.objects.get(ean=ean13(1))
    assert (pen.name, pen.price, pen.brand, pen.supplier_code) == (
        "Stylo bleu",
        Decimal("1.99"),
        "Stabilo",
        "SUPPLIER_A",
    )
    assert pen.attributes == {"Couleur": "bleu"}
    assert job.progress == 100 and job.processed_rows == 2


def test_bad_rows_are_logged_and_skipped_not_fatal():
    job = run_import(
        "ean,name,price\n"
        f"{ean13(1)},Good,1.00\n"
        "123ABC7890,Bad format,2.00\n"
        f"{ean13(2)[:-1]}9,Bad check digit,3.00\n"
        ",No EAN,4.00\n"
        f"{ean13(3)},Bad price,abc\n"
        f"{ean13(4)},Negative,-1\n"
    )
    assert job.status == "completed"
    assert (job.total_rows, job.successful_rows, job.failed_rows) == (6, 1, 5)
    errors = list(
        ImportLog.objects.filter(job=job, level="error")
        .order_by("row_number")
        .values_list("row_number", "field", "message", "value")
    )
    assert errors == [
        (3, "ean", "EAN format invalid (expected 13 digits)", "123ABC7890"),
        (4, "ean", "EAN check digit invalid", f"{ean13(2)[:-1]}9"),
        (5, "ean", "EAN missing", ""),
        (6, "price", "price unreadable (expected a number such as 29.99 or 29,99)", "abc"),
        (7, "price", "price must not be negative", "-1"),
    ]
    assert job.error_summary == (
        "5 rows failed: 1 EAN check digit invalid, 1 EAN format invalid, 1 EAN missing, "
        "1 price must not be negative, 1 price unreadable"
    )


def test_error_summary_counts_rows_then_causes():
    bad_check = f"{ean13(9)[:-1]}{(int(ean13(9)[-1]) + 1) % 10}"
    job = run_import(
        "ean,name,price\n"
        f"{bad_check},Both wrong,abc\n"
        f"{ean13(1)[:-1]}{(int(ean13(1)[-1]) + 1) % 10},Check digit,1.00\n"
        f"{ean13(2)},Price,abc\n"
        f"{ean13(3)},Fine,1.00\n"
    )
    assert job.failed_rows == 3
    assert (
        job.error_summary == "3 rows failed: 2 EAN check digit invalid, 2 price unreadable (1 row had both)"
    )


def test_duplicate_ean_first_occurrence_wins():
    job = run_import(f"ean,name\n{ean13(1)},First\n{ean13(2)},Other\n{ean13(1)},Second\n")
    assert (job.products_created, job.failed_rows) == (2, 1)
    assert Product.objects.get(ean=ean13(1)).name == "First"
    log = ImportLog.objects.get(job=job, level="error")
    assert (log.row_number, log.field, log.message) == (
        4,
        "ean",
        "duplicate EAN in file (first seen at row 2)",
    )


def test_update_unchanged_and_nameless_rows():
    ProductFactory(ean=ean13(1), name="Known", price=Decimal("5.00"))
    ProductFactory(ean=ean13(2), name="Same", price=Decimal("1.00"), supplier_code="SUP")
    job = run_import(
        "ean,name,price\n"
        f"{ean13(1)},,6.00\n"  # known EAN without name: updates the price
        f"{ean13(2)},Same,1.00\n"  # nothing changes
        f"{ean13(3)},,7.00\n",  # unknown EAN without name: cannot create
        supplier_code="SUP",
    )
    assert (job.products_created, job.products_updated, job.products_unchanged, job.failed_rows) == (
        0,
        1,
        1,
        1,
    )
    assert job.successful_rows + job.failed_rows == job.total_rows == 3
    assert Product.objects.get(ean=ean13(1)).price == Decimal("6.00")
    log = ImportLog.objects.get(job=job, level="error")
    assert (log.row_number, log.field) == (4, "name")


def test_normalisations_are_warnings():
    job = run_import("ean,name\n012345678905,UPC product\n")
    assert job.products_created == 1
    warning = ImportLog.objects.get(job=job, level="warning")
    assert (warning.row_number, warning.field, warning.value) == (2, "ean", "012345678905")
    assert "UPC-A" in warning.message
    assert Product.objects.filter(ean="0012345678905").exists()


def test_file_without_an_ean_column_fails_and_names_the_columns():
    job = run_import("Title,Price\nA,1\n")
    assert job.status == "failed"
    assert "No column maps to ean" in job.error_summary
    assert "Title, Price" in job.error_summary
    assert not Product.objects.exists()


def test_explicit_mapping_wins_over_synonyms():
    job = run_import(
        f"Code,Titre,Nom\n{ean13(1)},Shown,Ignored\n", mapping={"Code": "ean", "Titre": "name", "Nom": ""}
    )
    assert job.status == "completed"
    product = Product.objects.get(ean=ean13(1))
    assert product.name == "Shown"
    assert product.attributes == {}
    assert job.mapping == {"Code": "ean", "Titre": "name", "Nom": ""}


def test_unreadable_file_fails_the_job_with_a_sentence_and_changes_nothing():
    job = run_import(b'ean,name\n4006381333931,"unterminated\n')
    assert job.status == "failed"
    assert "quoted field is never closed" in job.error_summary
    assert not Product.objects.exists()


def test_max_errors_fails_before_anything_is_written():
    job = run_import(f"ean,name\n{ean13(1)},Good\nbad,Bad\nworse,Bad\n", max_errors=1)
    assert job.status == "failed"
    assert "2 rows are invalid, more than max_errors (1)" in job.error_summary
    assert not Product.objects.exists()


def test_chunked_run_gives_the_same_result_as_one_chunk(settings):
    rows = "".join(f"{ean13(n)},Product {n},{n}.50\n" for n in range(23))
    settings.PIXEE_IMPORT_CHUNK_SIZE = 5
    job = run_import("ean,name,price\n" + rows + f"{ean13(3)},Duplicate,1\n")
    assert (job.total_rows, job.products_created, job.failed_rows) == (24, 23, 1)
    assert Product.objects.count() == 23


def test_chunked_reimport_counts_are_exact_whichever_way_each_chunk_is_written(settings):
    settings.PIXEE_IMPORT_CHUNK_SIZE = 5
    rows = [f"{ean13(n)},Product {n},{n}.50" for n in range(20)]
    run_import("ean,name,price\n" + "\n".join(rows) + "\n")
    # Unchanged chunks first (the writer then compares before writing), then changed and new rows.
    again = (
        rows[:12]
        + [f"{ean13(n)},Product {n},{n}.75" for n in range(12, 16)]
        + [f"{ean13(n)},Product {n},1" for n in range(20, 26)]
    )
    job = run_import("ean,name,price\n" + "\n".join(again) + "\n")
    assert (job.products_created, job.products_updated, job.products_unchanged) == (6, 4, 12)
    assert Product.objects.get(ean=ean13(13)).price == Decimal("13.75")
    assert Product.objects.count() == 26


def test_dry_run_stops_at_ready_and_writes_nothing():
    ProductFactory(ean=ean13(1), name="Old")
    job = run_import(f"ean,name\n{ean13(1)},New\n{ean13(2)},Created\nbad,Row\n", dry_run=True)
    assert job.status == "ready"
    assert (job.products_created, job.products_updated, job.products_unchanged, job.failed_rows) == (
        1,
        1,
        0,
        1,
    )
    assert Product.objects.get(ean=ean13(1)).name == "Old"
    assert Product.objects.count() == 1
