"""Automations and webhooks in a real browser: toggle, run now, secrets, cron errors, host keys.

The file servers run on loopback in this process; the Celery worker (its own process, private
networks allowed) fetches from them, as it would from a supplier's server.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from playwright.sync_api import expect

from automations import services
from automations.choices import RunStatus
from automations.models import Automation
from imports.choices import ImportStatus
from imports.models import ImportJob
from webhooks import services as webhook_services

from ..automations.fixtures import MAPPING, SFTP_PASSWORD, SFTP_USER
from ..automations.servers import key_line, private_key_text
from ..conftest import wait_for
from ..factories import WebhookAttemptFactory, WebhookEventFactory
from .conftest import log_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LIST = "admin:automations_automation_changelist"
ADD = "admin:automations_automation_add"
CHANGE = "admin:automations_automation_change"
SECRET_PASSWORD = "key-passphrase-never-in-html"


def automation(user, file_source: dict, **overrides) -> Automation:
    values = {
        "user": user,
        "name": "Supplier A nightly",
        "supplier_code": "SUPPLIER_A",
        "schedule": "0 2 * * *",
        "timezone_name": "Europe/Paris",
        "file_source": file_source,
        "mapping": MAPPING,
    }
    values.update(overrides)
    return services.automation_create(**values)


def worker_log(worker) -> str:
    return worker.log.read_text()[-4000:]


def row_of(page, name: str):
    return page.locator("#result_list tbody tr", has_text=name)


def run_action(page, name: str, action: str) -> None:
    """Tick the automation's row in the list, choose ``action`` and press Go."""
    row_of(page, name).locator("input.action-select").check()
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")


def save_list(page) -> None:
    """Save the list's is_active boxes and wait for the page that answers: the ticked box and the
    previous save's message would otherwise satisfy the assertions on the old page."""
    with page.expect_navigation():
        page.click("input[name=_save]")


def runs_inline(page):
    return page.locator("#runs-group tbody tr.has_original, #runs-group tbody tr.form-row")


def test_operator_toggles_an_automation_and_its_beat_task_follows(page, operator, shoot):
    nightly = automation(operator, {"type": "http", "url": "https://feeds.example.com/a.csv"})
    automation(
        operator,
        {"type": "http", "url": "https://feeds.example.com/b.csv"},
        name="Supplier B weekdays",
        schedule="30 6 * * 1-5",
    )
    log_in(page, operator)
    page.goto(reverse(LIST))
    row = row_of(page, "Supplier A nightly")
    toggle = row.locator("input[name$=is_active]")
    expect(toggle).to_be_checked()
    expect(row).to_contain_text("At 02:00")
    shoot(page, "20-automations")

    toggle.uncheck()
    save_list(page)
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    expect(toggle).not_to_be_checked()
    expect(row).to_contain_text("(inactive)")
    expect(row_of(page, "Supplier B weekdays").locator("input[name$=is_active]")).to_be_checked()
    assert PeriodicTask.objects.get(pk=nightly.periodic_task_id).enabled is False
    shoot(page, "21-automations-toggled-off")

    toggle.check()
    save_list(page)
    expect(toggle).to_be_checked()
    expect(row).not_to_contain_text("(inactive)")
    assert PeriodicTask.objects.get(pk=nightly.periodic_task_id).enabled is True


@pytest.mark.worker
def test_run_now_fetches_over_http_and_links_to_the_completed_job(
    page, operator, http_server, celery_worker_process, shoot
):
    nightly = automation(operator, {"type": "http", "url": http_server.url("/exports/products.csv")})
    log_in(page, operator)
    page.goto(reverse(LIST))
    run_action(page, "Supplier A nightly", "run_now")
    expect(page.locator(".messagelist")).to_contain_text("Supplier A nightly: run started.")
    try:
        wait_for(
            lambda: nightly.runs.exclude(status=RunStatus.RUNNING).exists(),
            message="the run to finish",
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- worker log ---\n{worker_log(celery_worker_process)}") from None
    page.reload()
    row = row_of(page, "Supplier A nightly")
    expect(row.locator("td.field-last_run .pixee-badge")).to_have_text("Completed")
    shoot(page, "22-automations-run")

    row.locator("a", has_text="Supplier A nightly").click()
    expect(page.locator("#pixee-automation .pixee-last-run .pixee-badge").first).to_have_text("Completed")
    runs = runs_inline(page)
    expect(runs).to_have_count(1)
    expect(runs.first.locator("td.field-status_badge")).to_have_text("Completed")
    expect(runs.first).to_contain_text("Run now")
    assert http_server.requests, "the worker never fetched the file"
    shoot(page, "23-automation-runs")
    page.emulate_media(color_scheme="dark")  # the admin follows the system's theme
    shoot(page, "23-automation-runs-dark")
    page.emulate_media(color_scheme="light")

    runs.first.locator("td.field-import_job a", has_text="products.csv").click()
    badge = page.locator("#pixee-job .pixee-badge")
    try:
        expect(badge).to_have_text("Completed", timeout=60_000)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- worker log ---\n{worker_log(celery_worker_process)}") from None
    expect(page.locator('#pixee-job [data-field="products_created"]')).to_have_text("2")
    shoot(page, "24-automation-job")
    job = ImportJob.objects.get()
    assert (job.status, job.supplier_code) == (ImportStatus.COMPLETED, "SUPPLIER_A")


def test_add_form_masks_secrets_explains_the_schedule_and_refuses_a_bad_one(page, operator, shoot):
    private_key = private_key_text("ed25519", passphrase=SECRET_PASSWORD)
    key_body = private_key.splitlines()[1]  # a line of the key's base64, as unique as the key
    log_in(page, operator)
    page.goto(reverse(ADD))
    expect(page.locator(".field-stored_secrets, .field-created_by, #runs-group")).to_have_count(0)
    page.fill("#id_name", "Supplier C feed")
    page.fill("#id_supplier_code", "SUPPLIER_C")
    page.select_option("#id_timezone", "Europe/Paris")
    page.fill("#id_mapping", '{"EAN": "ean", "Titre": "name"}')
    page.select_option("#id_source_type", "sftp")
    expect(page.locator(".field-url")).to_be_hidden()  # HTTP's fields go away for SFTP
    expect(page.locator(".field-new_authorization")).to_be_hidden()
    page.fill("#id_host", "sftp.supplier-c.example.com")
    page.fill("#id_username", "pixee")
    page.fill("#id_path", "/out/catalog.csv")
    page.fill("#id_new_password", SECRET_PASSWORD)
    page.fill("#id_new_private_key", private_key)
    preview = page.locator("#id_schedule_preview")
    page.fill("#id_schedule", "30 6 * * 1-5")
    expect(preview).to_contain_text("At 06:30, Monday through Friday")
    expect(preview).to_contain_text("06:30 CE")  # CET or CEST: the automation's time zone
    page.fill("#id_schedule", "0 25 * * *")
    expect(preview).to_have_text("The hour field '25' is invalid (allowed values are 0-23).")
    shoot(page, "25-automation-add")
    page.click("input[name=_save]")

    server_error = page.locator(".field-schedule .errorlist")
    expect(server_error).to_have_text("The hour field '25' is invalid (allowed values are 0-23).")
    expect(preview).to_be_empty()  # the server's message is there: no second copy
    for field in ("new_password", "new_private_key"):
        expect(page.locator(f"#id_{field}")).to_have_value("")
        expect(page.locator(f".field-{field} .errorlist")).to_have_text(
            "Enter it again: secrets are never sent back to the page."
        )
    content = page.content()
    assert SECRET_PASSWORD not in content and key_body not in content
    assert not Automation.objects.exists()
    shoot(page, "26-automation-add-error")

    page.fill("#id_schedule", "30 6 * * 1-5")
    expect(preview).to_contain_text("At 06:30, Monday through Friday")
    expect(server_error).to_be_hidden()  # about a value no longer in the box
    page.fill("#id_new_password", SECRET_PASSWORD)  # a browser never re-sends what it was not shown
    page.fill("#id_new_private_key", private_key)
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    created = Automation.objects.get()
    stored = created.source().settings
    assert (stored.password, stored.private_key) == (SECRET_PASSWORD, private_key.strip())
    assert PeriodicTask.objects.get(pk=created.periodic_task_id).crontab.hour == "6"

    page.goto(reverse(CHANGE, args=[created.pk]))
    panel = page.locator("#pixee-automation")
    expect(panel).to_contain_text("At 06:30, Monday through Friday (Europe/Paris)")
    expect(panel.locator(".pixee-facts")).to_contain_text("06:30 CE")
    expect(page.locator(".field-stored_secrets")).to_contain_text("password: set")
    expect(page.locator(".field-stored_secrets")).to_contain_text("private key: set")
    expect(page.locator(".field-stored_secrets")).to_contain_text("authorization: not set")
    expect(page.locator("#id_new_password")).to_have_value("")
    expect(page.locator("#id_new_private_key")).to_have_value("")
    content = page.content()
    assert SECRET_PASSWORD not in content and key_body not in content
    shoot(page, "27-automation-change")

    page.fill("#id_name", "Supplier C feed (renamed)")  # secrets left empty: kept
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    created.refresh_from_db()
    assert (created.name, created.source().settings.password) == (
        "Supplier C feed (renamed)",
        SECRET_PASSWORD,
    )
    assert SECRET_PASSWORD not in page.content()


@pytest.mark.worker
def test_a_failed_sftp_run_reports_the_host_key_and_the_operator_pins_it(
    page, operator, sftp_server, celery_worker_process, shoot
):
    source = {
        "type": "sftp",
        "host": "127.0.0.1",
        "port": sftp_server.port,
        "username": SFTP_USER,
        "password": SFTP_PASSWORD,
        "path": "/exports/products.csv",
    }
    nightly = automation(operator, source, name="Supplier S sftp")
    log_in(page, operator)
    page.goto(reverse(CHANGE, args=[nightly.pk]))
    panel = page.locator("#pixee-automation")
    expect(panel.locator(".pixee-last-run")).to_contain_text("never")
    expect(panel.locator("button.pixee-button--pin")).to_have_count(0)

    page.click("button.pixee-button--run")
    expect(page.locator(".messagelist")).to_contain_text("Supplier S sftp: run started.")
    try:
        wait_for(lambda: nightly.runs.filter(status=RunStatus.FAILED).exists(), message="the run to fail")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- worker log ---\n{worker_log(celery_worker_process)}") from None
    page.reload()
    expect(panel.locator(".pixee-last-run .pixee-badge")).to_have_text("Failed")
    expect(panel.locator(".pixee-summary")).to_contain_text("no host_key is pinned")
    expect(panel.locator(".pixee-warning")).to_contain_text(sftp_server.fingerprint)
    runs = runs_inline(page)
    expect(runs.first.locator(".pixee-badge")).to_have_text("Failed")
    expect(runs.first).to_contain_text(sftp_server.fingerprint)
    assert SFTP_PASSWORD not in page.content()
    shoot(page, "28-automation-host-key-failed")

    page.click("button.pixee-button--pin")
    expect(page.locator(".messagelist")).to_contain_text("Supplier S sftp: host key pinned (ssh-ed25519).")
    expect(page.locator("#id_host_key")).to_have_value(key_line(sftp_server.host_key))
    expect(panel.locator("button.pixee-button--pin")).to_have_count(0)
    nightly.refresh_from_db()
    stored = nightly.source().settings
    assert (stored.host_key, stored.password) == (key_line(sftp_server.host_key), SFTP_PASSWORD)

    page.click("button.pixee-button--run")
    expect(page.locator(".messagelist")).to_contain_text("run started")
    try:
        wait_for(lambda: nightly.runs.filter(status=RunStatus.COMPLETED).exists(), message="the pinned run")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- worker log ---\n{worker_log(celery_worker_process)}") from None
    page.reload()
    expect(panel.locator(".pixee-last-run .pixee-badge").first).to_have_text("Completed")
    expect(runs).to_have_count(2)
    expect(panel.locator(".pixee-warning")).to_have_count(0)
    shoot(page, "29-automation-host-key-pinned")
    # The import the pinned run started finishes too (and the worker is idle before the flush).
    wait_for(
        lambda: ImportJob.objects.filter(status=ImportStatus.COMPLETED, supplier_code="SUPPLIER_A").exists(),
        message="the pinned run's import",
    )


def test_webhooks_admin_lists_subscriptions_and_deliveries(page, operator, shoot):
    subscription = webhook_services.webhook_subscription_create(
        user=operator,
        url="https://erp.example.com/hooks/pixee",
        events=["import.completed", "import.failed", "automation.failed"],
    )
    webhook_services.webhook_subscription_create(
        user=operator, url="https://ops.example.com/alerts", events=["automation.failed"], is_active=False
    )
    delivered = WebhookEventFactory(
        type="import.completed",
        payload={"id": "x", "type": "import.completed"},
        subscription=subscription,
        url=subscription.url,
        status="delivered",
        attempt_count=1,
        delivered_at=timezone.now(),
    )
    WebhookAttemptFactory(event=delivered, number=1, status_code=200, duration_ms=84, response_body="ok")
    failed = WebhookEventFactory(
        type="import.failed",
        payload={"id": "y", "type": "import.failed"},
        subscription=subscription,
        url=subscription.url,
        status="failed",
        attempt_count=2,
    )
    WebhookAttemptFactory(
        event=failed, number=1, status_code=502, duration_ms=312, error="The endpoint answered HTTP 502"
    )
    WebhookAttemptFactory(
        event=failed, number=2, status_code=None, duration_ms=10_000, error="Timed out after 10 s"
    )
    log_in(page, operator)

    page.goto(reverse("admin:webhooks_webhooksubscription_changelist"))
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    assert subscription.secret not in page.content()
    shoot(page, "30-webhooks")
    page.goto(reverse("admin:webhooks_webhooksubscription_change", args=[subscription.pk]))
    assert subscription.secret not in page.content()
    shoot(page, "31-webhook")

    page.goto(reverse("admin:webhooks_webhookevent_changelist"))
    expect(page.locator("#result_list .pixee-badge")).to_have_text(["Failed", "Delivered"])
    shoot(page, "32-webhook-deliveries")
    page.goto(reverse("admin:webhooks_webhookevent_change", args=[failed.pk]))
    expect(page.locator("#attempts-group")).to_contain_text("The endpoint answered HTTP 502")
    shoot(page, "33-webhook-delivery")
