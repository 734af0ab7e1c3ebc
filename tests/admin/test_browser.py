"""The admin in a real browser: an operator uploads, previews, confirms and controls imports.

The live server runs in a thread of this process, the Celery worker in its own process; both
use the test database, so these tests commit (transactional) and the worker sees their rows.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from catalog.models import Product
from imports.choices import ImportStatus
from imports.models import ImportJob

from ..factories import ImportJobFactory, ProductFactory, UserFactory, ean13
from .conftest import log_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CSV = (
    "EAN;Désignation;Prix HT;Marque;Stock\n"
    f"{ean13(11)};Chaise pliante;29,99;Acme;12\n"
    f"{ean13(12)};Table basse;149,00;Acme;3\n"
    f"{ean13(13)};Lampe de bureau;€19,90;Lumo;40\n"
    f"{ean13(14)};Tabouret;12,50;Acme;7\n"
    "123ABC;Étagère;59,00;Acme;2\n"
)


def expect_badge(badge, status: str, worker) -> None:
    """Wait for the job's page (it refreshes itself) to show ``status``; else fail with the worker's log."""
    try:
        expect(badge).to_have_text(status, timeout=60_000)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- worker log ---\n{worker.log.read_text()[-4000:]}") from None


@pytest.mark.worker
def test_operator_uploads_a_dry_run_previews_it_and_confirms_it(
    page, operator, celery_worker_process, tmp_path, shoot
):
    ProductFactory(ean=ean13(14), name="Tabouret", price="12.50", brand="Acme", stock=7, supplier_code="ACME")
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(CSV, encoding="utf-8")
    log_in(page, operator)
    expect(page.locator("#site-name")).to_have_text("Pixee Imports")
    shoot(page, "01-index")

    page.goto(reverse("admin:imports_importjob_add"))
    expect(page.locator("#id_dry_run")).to_be_checked()
    page.set_input_files("#id_file", catalog)
    page.fill("#id_supplier_code", "ACME")
    page.fill("#id_mapping", '{"Désignation": "title"}')
    page.click("input[name=_save]")
    expect(page.locator(".errorlist")).to_contain_text("is not a product field")
    shoot(page, "02-add-form-error")

    page.set_input_files("#id_file", catalog)  # a browser never re-sends a file input
    page.fill("#id_mapping", '{"Désignation": "name"}')
    shoot(page, "03-add-form")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("uploaded; the import is queued")

    badge = page.locator("#pixee-job .pixee-badge")
    expect_badge(badge, "Ready", celery_worker_process)  # the page refreshes itself
    counters = page.locator("#pixee-job .pixee-counters")
    expect(counters.locator('[data-field="total_rows"]')).to_have_text("5")
    expect(counters.locator('[data-field="products_created"]')).to_have_text("3")
    expect(counters.locator('[data-field="products_unchanged"]')).to_have_text("1")
    expect(counters.locator('[data-field="failed_rows"]')).to_have_text("1")
    expect(page.locator(".pixee-preview tbody tr")).to_have_count(5)
    expect(page.locator(".pixee-preview tbody tr").first).to_contain_text("Chaise pliante")
    expect(page.locator(".pixee-preview .pixee-problems")).to_contain_text("EAN format invalid")
    expect(page.locator(".pixee-logs")).to_contain_text("Dry run ready")
    expect(page.locator(".pixee-actions button")).to_have_text(["Confirm", "Cancel"])
    shoot(page, "04-job-ready")
    assert not Product.objects.filter(ean=ean13(11)).exists()  # a dry run writes nothing

    page.click("button.pixee-button--confirm")
    expect(page.locator(".messagelist")).to_contain_text("Dry run confirmed")
    expect_badge(badge, "Completed", celery_worker_process)
    expect(counters.locator('[data-field="products_created"]')).to_have_text("3")
    expect(counters.locator('[data-field="products_unchanged"]')).to_have_text("1")
    expect(counters.locator('[data-field="failed_rows"]')).to_have_text("1")
    expect(page.locator("#pixee-job .pixee-progress__label")).to_have_text("100%")
    expect(page.locator(".pixee-actions button")).to_have_count(0)
    expect(page.locator(".pixee-logs")).to_contain_text("Import completed")
    shoot(page, "05-job-completed")
    page.emulate_media(color_scheme="dark")  # the admin follows the system's theme
    shoot(page, "05-job-completed-dark")
    page.emulate_media(color_scheme="light")
    assert Product.objects.filter(supplier_code="ACME").count() == 4

    page.click(".pixee-logs .pixee-filter >> text=Error")
    expect(page.locator(".pixee-logs tbody tr")).to_have_count(1)
    expect(page.locator(".pixee-logs tbody")).to_contain_text("EAN format invalid")

    page.goto(reverse("admin:imports_importjob_changelist"))
    row = page.locator("#result_list tbody tr").first
    expect(row.locator(".pixee-badge")).to_have_text("Completed")
    expect(row.locator(".pixee-progress__label")).to_have_text("100%")
    shoot(page, "06-job-list")

    page.goto(reverse("admin:catalog_product_changelist") + "?q=Chaise")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list tbody tr")).to_contain_text("29.99")
    page.goto(reverse("admin:catalog_product_changelist"))
    shoot(page, "07-products")
    page.click(f"text={ean13(11)}")
    shoot(page, "08-product")


@pytest.mark.worker
def test_operator_fixes_a_failed_jobs_mapping_and_reanalyzes_it(
    page, operator, celery_worker_process, tmp_path, shoot
):
    # Half of Artikel's values are GTINs: too few to take it for the EAN column unasked.
    catalog = tmp_path / "lieferant.csv"
    catalog.write_text(f"Artikel;Text;Preis\n{ean13(21)};Heft;abc\nA-22;Stift;1,20\n", encoding="utf-8")
    log_in(page, operator)
    page.goto(reverse("admin:imports_importjob_add"))
    page.set_input_files("#id_file", catalog)
    page.click("input[name=_save]")
    badge = page.locator("#pixee-job .pixee-badge")
    expect_badge(badge, "Failed", celery_worker_process)
    expect(page.locator(".pixee-summary")).to_contain_text("No column maps to ean")

    page.click(".pixee-preview a.pixee-button--reanalyze")
    expect(page.locator(".pixee-columns")).to_contain_text("Artikel")
    page.fill("#id_mapping", '{"Artikel": "ean", "Text": "name", "Preis": "price"}')
    page.select_option("#id_on_invalid_value", "skip_value")
    shoot(page, "13-reanalyze-form")
    page.click("button.pixee-button--reanalyze")
    expect(page.locator(".messagelist")).to_contain_text("Re-analysis queued")
    expect_badge(badge, "Ready", celery_worker_process)  # the page refreshes itself
    counters = page.locator("#pixee-job .pixee-counters")
    expect(counters.locator('[data-field="products_created"]')).to_have_text("1")
    expect(counters.locator('[data-field="failed_rows"]')).to_have_text("1")  # A-22 is no EAN
    expect(page.locator(".pixee-preview tbody tr").first).to_contain_text("Heft")
    shoot(page, "14-reanalyzed-ready")
    job = ImportJob.objects.get()
    assert (job.on_invalid_value, job.mapping_sources["Artikel"]) == ("skip_value", "explicit")


def test_pause_resume_and_cancel_buttons_follow_the_job(page, operator, shoot):
    job = ImportJobFactory(
        file_name="big-catalog.csv",
        file_size=48_213_004,
        supplier_code="ACME",
        status=ImportStatus.PROCESSING,
        total_rows=250_000,
        processed_rows=100_000,
        products_created=81_000,
        products_updated=17_500,
        products_unchanged=1_200,
        failed_rows=300,
        created_by=operator,
    )
    for status, fields in [
        (ImportStatus.PENDING, {}),
        (ImportStatus.ANALYZING, {"analyzed_fraction": 0.4}),
        (
            ImportStatus.READY,
            {"dry_run": True, "total_rows": 1_200, "products_created": 1_150, "failed_rows": 50},
        ),
        (ImportStatus.PAUSED, {"total_rows": 9_000, "processed_rows": 3_000, "products_updated": 3_000}),
        (ImportStatus.FAILED, {"error_summary": "No column maps to ean."}),
    ]:
        ImportJobFactory(file_name=f"{status}.csv", status=status, **fields)
    log_in(page, operator)
    page.goto(reverse("admin:imports_importjob_changelist"))
    expect(page.locator("#result_list tbody tr")).to_have_count(6)
    for status in ("pending", "analyzing", "ready", "processing", "paused", "failed"):
        expect(page.locator(f"#result_list .pixee-badge--{status}")).to_have_count(1)
    shoot(page, "09-job-list-states")

    page.goto(reverse("admin:imports_importjob_change", args=[job.pk]))
    buttons = page.locator(".pixee-actions button")
    expect(buttons).to_have_text(["Pause", "Cancel"])
    expect(page.locator("#pixee-job .pixee-progress__label")).to_have_text("70%")
    expect(page.locator('#pixee-job [data-field="total_rows"]')).to_have_text("250,000")
    expect(page.locator(".pixee-live")).to_be_visible()
    shoot(page, "10-job-processing")

    page.click("button.pixee-button--pause")
    expect(page.locator("#pixee-job .pixee-badge")).to_have_text("Paused")
    expect(buttons).to_have_text(["Resume", "Cancel"])
    shoot(page, "11-job-paused")

    page.once("dialog", lambda dialog: dialog.dismiss())  # "Cancel this import?" → no
    page.click("button.pixee-button--cancel")
    expect(page.locator("#pixee-job .pixee-badge")).to_have_text("Paused")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button.pixee-button--cancel")
    expect(page.locator("#pixee-job .pixee-badge")).to_have_text("Cancelled")
    expect(buttons).to_have_count(0)
    shoot(page, "12-job-cancelled")
    job.refresh_from_db()
    assert job.status == ImportStatus.CANCELLED


def test_staff_creates_an_api_key_sees_it_once_and_revokes_it(page, operator, shoot):
    UserFactory(username="erp-sync")
    log_in(page, operator)
    page.goto(reverse("admin:pixee_apikey_add"))
    page.select_option("#id_user", label="erp-sync")
    page.fill("#id_name", "ERP nightly sync")
    shoot(page, "13-api-key-form")
    page.click("input[name=_save]")
    raw_key = page.locator("#raw-key").input_value()
    assert raw_key.startswith("pxk_")
    shoot(page, "14-api-key-created")

    page.click("text=Done")
    expect(page.locator("#result_list")).not_to_contain_text(raw_key)
    expect(page.locator("#result_list tbody tr")).to_contain_text("erp-sync")
    page.check("#result_list tbody input.action-select")
    page.select_option("select[name=action]", "revoke_selected")
    page.click("button[name=index]")
    expect(page.locator(".messagelist")).to_contain_text("Revoked 1 API key.")
    expect(page.locator("#result_list tbody tr .pixee-badge")).to_have_text("Revoked")
    shoot(page, "15-api-keys")
