import pytest
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from automations import services, tasks
from automations.choices import RunStatus
from automations.models import Automation, AutomationRun

from ..factories import UserFactory
from .conftest import SFTP_PASSWORD
from .servers import key_line, private_key_text

pytestmark = pytest.mark.django_db

ADD = "admin:automations_automation_add"
CHANGE = "admin:automations_automation_change"
LIST = "admin:automations_automation_changelist"
SECRET = "admin-pa55word-never-shown"


@pytest.fixture
def admin_client(client):
    admin = UserFactory(superuser=True, username="root", email="root@example.com")
    client.force_login(admin)
    client.user = admin
    return client


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.run_automation, "delay", lambda *a, **k: sent.append((a, k)))
    return sent


def _form(**changes):
    data = {
        "name": "Admin made",
        "supplier_code": "SUP_B",
        "schedule": "0 3 * * *",
        "timezone": "Europe/Paris",
        "is_active": "on",
        "mapping": '{"EAN": "ean"}',
        "source_type": "sftp",
        "host": "sftp.example.com",
        "port": "",
        "username": "bob",
        "path": "/out/products.csv",
        "url": "",
        "host_key": "",
        "headers": "{}",
        "new_password": "",
        "new_private_key": "",
        "new_authorization": "",
        "runs-TOTAL_FORMS": "0",
        "runs-INITIAL_FORMS": "0",
        "runs-MIN_NUM_FORMS": "0",
        "runs-MAX_NUM_FORMS": "0",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_admin_add_goes_through_the_service_and_creates_the_periodic_task(admin_client):
    response = admin_client.post(reverse(ADD), _form(new_password=SECRET))

    assert response.status_code == 302, response.content.decode()[:3000]
    automation = Automation.objects.get()
    stored = automation.source().settings
    assert (automation.created_by, stored.password, stored.port) == (admin_client.user, SECRET, 22)
    assert automation.mapping == {"EAN": "ean"}
    task = automation.periodic_task
    assert task.enabled and (task.crontab.hour, str(task.crontab.timezone)) == ("3", "Europe/Paris")


def test_admin_sets_on_invalid_value_and_offers_every_source_type(admin_client):
    page = admin_client.get(reverse(ADD)).content.decode()
    for option in ('value="sftp"', 'value="ftp"', 'value="ftps"', 'value="http"', 'value="skip_value"'):
        assert option in page

    response = admin_client.post(reverse(ADD), _form(new_password=SECRET, on_invalid_value="skip_value"))

    assert response.status_code == 302, response.content.decode()[:3000]
    assert Automation.objects.get().on_invalid_value == "skip_value"


def test_admin_search_finds_hosts_and_urls_inside_the_encrypted_settings(admin_client, make_automation):
    make_automation({"type": "http", "url": "https://feeds.example.com/a.csv"}, name="By URL")
    make_automation(
        {"type": "sftp", "host": "sftp.acme.example", "username": "u", "path": "/x.csv"}, name="By host"
    )

    def found(term):
        text = admin_client.get(reverse(LIST), {"q": term}).content.decode()
        return {name for name in ("By URL", "By host") if name in text}

    assert found("acme") == {"By host"}
    assert found("FEEDS.example") == {"By URL"}
    assert found("By") == {"By URL", "By host"}  # names, as before
    assert found("nowhere") == set()


def test_admin_shows_field_errors_from_the_service(admin_client):
    response = admin_client.post(
        reverse(ADD), _form(schedule="0 25 * * *", host="sftp://x", mapping='{"A": "b"}')
    )

    assert response.status_code == 200
    text = response.content.decode()
    assert "The hour field &#x27;25&#x27; is invalid (allowed values are 0-23)." in text
    assert "host is a host name or an IP address, without a scheme or a path." in text
    assert "is not a product field" in text
    assert not Automation.objects.exists()


def test_admin_never_shows_secrets_and_empty_means_unchanged(admin_client, make_automation):
    automation = make_automation(
        {"type": "sftp", "host": "sftp.example.com", "username": "bob", "path": "/x.csv", "password": SECRET}
    )
    url = reverse(CHANGE, args=[automation.pk])

    page = admin_client.get(url).content.decode()
    assert SECRET not in page
    assert "password: set" in page

    response = admin_client.post(url, _form(name="Renamed"))
    assert response.status_code == 302, response.content.decode()[:3000]
    automation.refresh_from_db()
    assert (automation.name, automation.source().settings.password) == ("Renamed", SECRET)

    admin_client.post(url, _form(new_password="changed"))
    automation.refresh_from_db()
    assert automation.source().settings.password == "changed"

    admin_client.post(url, _form(clear_secrets=["password"]))
    automation.refresh_from_db()
    assert automation.source().settings.password == ""
    assert SECRET not in admin_client.get(reverse(LIST)).content.decode()


def test_admin_list_shows_the_schedule_in_words_and_the_next_three_runs(admin_client, make_automation):
    make_automation({"type": "http", "url": "https://feeds.example.com/a.csv"}, schedule="30 6 * * 1-5")

    text = admin_client.get(reverse(LIST)).content.decode()

    assert "At 06:30, Monday through Friday" in text
    assert text.count(" 06:30 UTC") == 3


def test_admin_is_active_toggle_in_the_list_updates_the_periodic_task(admin_client, make_automation):
    automation = make_automation({"type": "http", "url": "https://feeds.example.com/a.csv"})
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "form-0-id": str(automation.pk),
        "_save": "Save",
    }  # is_active left unchecked: disable

    response = admin_client.post(reverse(LIST), data)

    assert response.status_code == 302
    assert PeriodicTask.objects.get(pk=automation.periodic_task_id).enabled is False
    admin_client.post(reverse(LIST), {"action": "enable", "_selected_action": [str(automation.pk)]})
    assert PeriodicTask.objects.get(pk=automation.periodic_task_id).enabled is True


def test_admin_run_now_starts_a_run(
    admin_client, make_automation, _no_broker, django_capture_on_commit_callbacks
):
    automation = make_automation({"type": "http", "url": "https://feeds.example.com/a.csv"})

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse(LIST), {"action": "run_now", "_selected_action": [str(automation.pk)]}
        )

    assert response.status_code == 302
    run = AutomationRun.objects.get()
    assert run.status == RunStatus.RUNNING
    assert _no_broker == [((str(automation.pk),), {"run_id": str(run.pk), "force": False})]


def test_admin_pins_the_host_key_a_failed_run_reported(
    admin_client, make_automation, sftp_server, sftp_source
):
    automation = make_automation({**sftp_source, "host_key": ""})
    failed = services.automation_run(automation_id=automation.pk)
    assert failed.status == RunStatus.FAILED

    admin_client.post(
        reverse(LIST), {"action": "pin_reported_host_key", "_selected_action": [str(automation.pk)]}
    )

    automation.refresh_from_db()
    assert automation.source().settings.host_key == key_line(sftp_server.host_key)
    assert automation.source().settings.password == SFTP_PASSWORD
    assert services.automation_run(automation_id=automation.pk).status == RunStatus.COMPLETED


def test_admin_runs_inline_links_to_the_import_job(admin_client, make_automation, http_source):
    automation = make_automation(http_source)
    run = services.automation_run(automation_id=automation.pk)

    text = admin_client.get(reverse(CHANGE, args=[automation.pk])).content.decode()

    assert "products.csv" in text
    try:
        job_url = reverse("admin:imports_importjob_change", args=[run.job_id])
    except Exception:  # the imports admin is not registered on this branch
        return
    assert job_url in text


def test_admin_delete_removes_the_periodic_task(admin_client, make_automation):
    automation = make_automation({"type": "http", "url": "https://feeds.example.com/a.csv"})
    task_id = automation.periodic_task_id

    admin_client.post(reverse("admin:automations_automation_delete", args=[automation.pk]), {"post": "yes"})

    assert not Automation.objects.exists()
    assert not PeriodicTask.objects.filter(pk=task_id).exists()


def test_admin_never_echoes_a_private_key_into_a_refused_form(admin_client):
    key = private_key_text("ed25519")

    response = admin_client.post(reverse(ADD), _form(schedule="0 25 * * *", new_private_key=key))

    assert response.status_code == 200
    text = response.content.decode()
    assert key.splitlines()[1] not in text
    assert "Enter it again: secrets are never sent back to the page." in text


def test_admin_schedule_preview_describes_or_refuses(admin_client):
    url = reverse("admin:automations_automation_schedule_preview")

    ok = admin_client.get(url, {"schedule": "30 6 * * 1-5", "timezone": "UTC"})
    bad = admin_client.get(url, {"schedule": "0 25 * * *", "timezone": "UTC"})

    assert ok.status_code == 200
    assert ok.json()["description"] == "At 06:30, Monday through Friday"
    assert len(ok.json()["next_runs"]) == 3 and all(" 06:30 UTC" in r for r in ok.json()["next_runs"])
    assert bad.status_code == 400
    assert bad.json() == {"error": "The hour field '25' is invalid (allowed values are 0-23)."}


def test_admin_page_run_now_and_pin_buttons(
    admin_client, make_automation, sftp_server, sftp_source, _no_broker, django_capture_on_commit_callbacks
):
    automation = make_automation({**sftp_source, "host_key": ""})
    failed = services.automation_run(automation_id=automation.pk)
    page = reverse(CHANGE, args=[automation.pk])

    text = admin_client.get(page).content.decode()
    assert sftp_server.fingerprint in text and 'name="run"' in text

    pin = reverse("admin:automations_automation_pin_host_key", args=[automation.pk])
    assert admin_client.get(pin).status_code == 405
    response = admin_client.post(pin, {"run": str(failed.pk)})
    assert response.status_code == 302 and response["Location"] == page
    automation.refresh_from_db()
    assert automation.source().settings.host_key == key_line(sftp_server.host_key)
    assert 'name="run"' not in admin_client.get(page).content.decode()  # pinned: no button left

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:automations_automation_run", args=[automation.pk]))
    assert response.status_code == 302
    assert len(_no_broker) == 1 and automation.runs.filter(status=RunStatus.RUNNING).exists()
