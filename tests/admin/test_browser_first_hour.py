"""A newcomer's first hour in the browser: the docs offline, the root, and the admin's details.

The live server runs in a thread of this process (no worker needed: the jobs here are made by the
services or stay queued).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from automations import services as automation_services
from automations.models import Automation, AutomationRun
from imports.choices import ImportStatus
from imports.models import ImportJob

from ..automations.fixtures import CSV, MAPPING
from ..factories import ImportJobFactory, ean13
from .conftest import log_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def record_requests(page) -> tuple[list[str], set[str]]:
    """Every request the page makes, and those the page's own policy stopped in the browser."""
    urls: list[str] = []
    stopped: set[str] = set()
    page.on("request", lambda request: urls.append(request.url))
    page.on("requestfailed", lambda request: request.failure == "csp" and stopped.add(request.url))
    return urls, stopped


@pytest.mark.parametrize(
    ("path", "ready"), [("/api/v1/docs/", ".swagger-ui .info .title"), ("/api/v1/redoc/", "h1")]
)
def test_api_docs_render_with_no_request_leaving_the_machine(page, live_server, shoot, path, ready):
    urls, stopped = record_requests(page)
    page.goto(path)
    expect(page.locator(ready).first).to_contain_text("Pixee Imports API", timeout=20_000)
    page.wait_for_load_state("networkidle")
    shoot(page, "40-swagger" if "docs" in path else "41-redoc")
    assert urls, "the page made no request at all"
    # ReDoc's "by Redocly" logo comes from a CDN: our Content-Security-Policy stops it unsent.
    outside = [
        url for url in urls if not url.startswith((live_server.url, "data:", "blob:")) and url not in stopped
    ]
    assert outside == []
    assert any("drf_spectacular_sidecar" in url for url in urls)


def test_root_leads_to_the_admin_and_the_index_hides_beat_models(page, operator, shoot):
    page.goto("/")
    page.wait_for_url("**/admin/login/?next=/admin/")
    log_in(page, operator)
    content = page.locator("#content-main")
    expect(content).to_contain_text("Automations")
    expect(content).not_to_contain_text("Periodic tasks")
    expect(content).not_to_contain_text("Crontabs")
    shoot(page, "42-index-without-beat")


def test_admin_upload_form_starts_empty_and_the_upload_is_in_recent_actions(page, operator, tmp_path, shoot):
    catalog = tmp_path / "catalogue.csv"
    catalog.write_text(f"EAN;Titre\n{ean13(1)};Chaise\n", encoding="utf-8")
    log_in(page, operator)
    page.goto(reverse("admin:imports_importjob_add"))
    expect(page.locator("#id_mapping")).to_have_value("")
    page.set_input_files("#id_file", catalog)
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("uploaded; the import is queued")
    expect(page.locator(".field-origin")).to_contain_text("Admin upload, by operator")
    page.goto(reverse("admin:index"))
    expect(page.locator("#recent-actions-module")).to_contain_text("catalogue.csv")
    shoot(page, "43-recent-actions")
    assert LogEntry.objects.filter(object_repr__contains="catalogue.csv").count() == 1


def test_cancelled_job_page_says_its_products_stay_with_seconds_duration_and_no_report(page, operator, shoot):
    started = timezone.now().replace(microsecond=0) - timedelta(minutes=3, seconds=7)
    job = ImportJobFactory(
        file_name="big.csv",
        status=ImportStatus.CANCELLED,
        created_by=operator,
        started_at=started,
        completed_at=started + timedelta(minutes=2, seconds=5),
        products_created=4_000,
        products_updated=20,
        processed_rows=4_020,
        failed_rows=3,
    )
    log_in(page, operator)
    page.goto(reverse("admin:imports_importjob_change", args=[job.pk]))
    expect(page.locator("#pixee-job .pixee-note")).to_contain_text(
        "the 4,020 products it created or updated before the cancel stay in the catalog"
    )
    expect(page.get_by_text("Rejected rows (errors.csv)")).to_have_count(0)
    expect(page.locator(".field-started .readonly")).to_have_text(f"{started:%Y-%m-%d %H:%M:%S} UTC")
    expect(page.locator(".field-duration .readonly")).to_have_text("2 min 05 s")
    expect(page.locator(".field-origin .readonly")).to_have_text("API, by operator")
    shoot(page, "44-cancelled-job")


def test_automation_form_defaults_to_utc_and_tests_the_connection_before_saving(
    page, operator, settings, http_server, shoot
):
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = True  # the test server is on loopback
    log_in(page, operator)
    page.goto(reverse("admin:automations_automation_add"))
    expect(page.locator("#id_timezone")).to_have_value("UTC")
    page.fill("#id_name", "Supplier feed")
    page.fill("#id_schedule", "0 2 * * *")
    page.select_option("#id_source_type", "http")
    page.fill("#id_url", http_server.url("/exports/products.csv"))
    http_server.last_modified = "Mon, 30 Nov 2026 06:15:00 GMT"
    result = page.locator("#pixee-test-result")
    page.click("#pixee-test-connection")
    expect(result).to_have_text(
        f"Connected; the file is there: {len(CSV)} bytes, modified 2026-11-30 06:15. Nothing was imported."
    )
    shoot(page, "45-automation-test-ok")
    page.fill("#id_url", http_server.url("/exports/missing.csv"))
    page.click("#pixee-test-connection")
    expect(result).to_contain_text("There is no file at http://127.0.0.1:")
    expect(result).to_have_class("pixee-test-result pixee-test-result--error")
    shoot(page, "46-automation-test-error")
    assert not Automation.objects.exists() and not AutomationRun.objects.exists()
    assert not ImportJob.objects.exists()


def test_a_job_an_automation_created_names_it_as_its_source(page, operator, settings, http_server, shoot):
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = True
    automation = automation_services.automation_create(
        user=operator,
        name="Nightly Acme feed",
        schedule="0 2 * * *",
        file_source={"type": "http", "url": http_server.url("/exports/products.csv")},
        mapping=MAPPING,
    )
    run = automation_services.automation_run(automation_id=automation.pk)
    log_in(page, operator)
    page.goto(reverse("admin:imports_importjob_change", args=[run.job_id]))
    expect(page.locator(".field-origin .readonly")).to_have_text(
        "Automation “Nightly Acme feed”, by operator"
    )
    shoot(page, "47-job-from-automation")
