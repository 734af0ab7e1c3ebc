import json

import pytest
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from automations import services, tasks
from automations.choices import RunStatus
from automations.models import Automation, AutomationRun

from .conftest import MAPPING
from .servers import closed_port, private_key_text

pytestmark = pytest.mark.django_db

URL = "/api/v1/imports/automations"
SPEC_BODY = {
    "name": "Daily Supplier A Import",
    "supplier_code": "SUPPLIER_A",
    "schedule": "0 2 * * *",
    "file_source": {
        "type": "sftp",
        "host": "sftp.supplier.com",
        "username": "user",
        "path": "/exports/products.csv",
    },
    "mapping": {"EAN": "ean", "Titre": "name", "Prix HT": "price"},
}
PASSWORD = "api-pa55word-never-shown"
TOKEN = "Bearer api-token-never-shown"


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    """Run now enqueues on commit; these tests only check what it would send."""
    sent = []
    monkeypatch.setattr(tasks.run_automation, "delay", lambda *a, **k: sent.append((a, k)))
    return sent


def _create(api, **changes):
    response = api.post(URL, {**SPEC_BODY, **changes}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_create_answers_the_spec_shape(api):
    response = api.post(URL, SPEC_BODY, format="json")

    assert response.status_code == 201
    body = response.json()
    assert {"id", "name", "schedule", "is_active", "created_at"} <= set(body)
    assert (body["name"], body["schedule"], body["is_active"]) == (
        "Daily Supplier A Import",
        "0 2 * * *",
        True,
    )
    assert body["created_at"].endswith("Z")
    automation = Automation.objects.get(pk=body["id"])
    assert automation.created_by == api.user
    assert (automation.supplier_code, automation.mapping, automation.source().settings.port) == (
        "SUPPLIER_A",
        MAPPING,
        22,
    )
    assert automation.timezone == "UTC"
    assert body["file_source"]["password_set"] is False
    assert body["schedule_description"] == "At 02:00"
    assert len(body["next_runs"]) == 3


def test_create_makes_an_enabled_periodic_task_with_the_schedule(api):
    body = _create(api, schedule="*/15 8-18 * * MON-FRI", timezone="Europe/Paris")

    task = Automation.objects.get(pk=body["id"]).periodic_task
    assert task.enabled is True
    assert task.task == "automations.tasks.run_automation"
    assert json.loads(task.args) == [body["id"]]
    crontab = task.crontab
    assert (
        crontab.minute,
        crontab.hour,
        crontab.day_of_month,
        crontab.month_of_year,
        crontab.day_of_week,
    ) == (
        "*/15",
        "8-18",
        "*",
        "*",
        "1-5",
    )
    assert str(crontab.timezone) == "Europe/Paris"


def test_secrets_are_write_only_in_every_response(api):
    key = private_key_text("ed25519")
    sftp = _create(api, file_source={**SPEC_BODY["file_source"], "password": PASSWORD, "private_key": key})
    http = _create(
        api, file_source={"type": "http", "url": "https://feeds.example.com/a.csv", "authorization": TOKEN}
    )
    responses = [
        json.dumps(sftp),
        json.dumps(http),
        api.get(URL).content.decode(),
        api.get(f"{URL}/{sftp['id']}").content.decode(),
        api.patch(f"{URL}/{sftp['id']}", {"name": "Renamed"}, format="json").content.decode(),
        api.patch(
            f"{URL}/{http['id']}", {"file_source": {"headers": {"X-A": "b"}}}, format="json"
        ).content.decode(),
        api.post(f"{URL}/{sftp['id']}/run", format="json").content.decode(),
        api.get(f"{URL}/{sftp['id']}/runs").content.decode(),
        api.get("/api/v1/schema/?format=json").content.decode(),
    ]

    for text in responses:
        assert PASSWORD not in text
        assert TOKEN not in text
        assert "PRIVATE KEY" not in text
    assert sftp["file_source"]["password_set"] is True
    assert sftp["file_source"]["private_key_set"] is True
    assert "password" not in sftp["file_source"]
    assert http["file_source"]["authorization_set"] is True


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ("0 25 * * *", "The hour field '25' is invalid (allowed values are 0-23)."),
        ("0 2 * *", "The cron expression has 4 field(s); expected five fields"),
        ("every day", "The cron expression has 2 field(s)"),
        ("61 * * * *", "The minute field '61' is invalid (allowed values are 0-59)."),
        ("0 2 31 2 *", "day_of_month '31' never occurs in month_of_year '2'"),
    ],
)
def test_invalid_cron_is_a_400_naming_the_fault(api, schedule, message):
    response = api.post(URL, {**SPEC_BODY, "schedule": schedule}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["schedule"]
    assert message in response.json()["schedule"][0]


@pytest.mark.parametrize("schedule", ["* * * * *", "*/5 * * * *", "0,10 * * * *", "2,58 23,0 * * *"])
def test_a_schedule_more_frequent_than_the_floor_is_400(api, schedule):
    response = api.post(URL, {**SPEC_BODY, "schedule": schedule}, format="json")
    assert response.status_code == 400, response.content
    assert "at most every 15 minutes" in response.json()["schedule"][0]
    assert not Automation.objects.exists()


def test_the_floor_comes_from_the_setting_and_applies_to_updates(api, settings):
    settings.PIXEE_AUTOMATION_MIN_INTERVAL_MINUTES = 60
    assert api.post(URL, {**SPEC_BODY, "schedule": "*/30 * * * *"}, format="json").status_code == 400
    body = _create(api, schedule="0 * * * *")
    response = api.patch(f"{URL}/{body['id']}", {"schedule": "*/20 * * * *"}, format="json")
    assert response.status_code == 400
    assert "at most every 60 minutes" in response.json()["schedule"][0]


def test_staff_may_schedule_below_the_floor(staff_api):
    response = staff_api.post(URL, {**SPEC_BODY, "schedule": "* * * * *"}, format="json")
    assert response.status_code == 201, response.content


def test_automations_per_user_are_capped(api, other_api, settings):
    settings.PIXEE_AUTOMATIONS_PER_USER = 2
    _create(api)
    _create(api)
    response = api.post(URL, SPEC_BODY, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["You already have 2 automations, the most allowed per user; delete one first."]
    }
    assert Automation.objects.filter(created_by=api.user).count() == 2
    assert other_api.post(URL, SPEC_BODY, format="json").status_code == 201


def test_invalid_file_source_mapping_and_timezone_are_400_with_field_errors(api):
    response = api.post(
        URL,
        {
            **SPEC_BODY,
            "timezone": "Mars/Olympus",
            "mapping": {"EAN": "barcode"},
            "file_source": {"type": "sftp", "host": "sftp://x", "url": "http://y", "passwd": "z"},
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"file_source": {"passwd": [response.json()["file_source"]["passwd"][0]]}}
    assert response.json()["file_source"]["passwd"][0].startswith("Unknown field; file_source accepts: type,")

    response = api.post(
        URL,
        {
            **SPEC_BODY,
            "timezone": "Mars/Olympus",
            "mapping": {"EAN": "barcode"},
            "file_source": {"type": "sftp", "host": "sftp://x", "url": "http://y"},
        },
        format="json",
    )

    errors = response.json()
    assert response.status_code == 400
    assert errors["timezone"] == [
        "'Mars/Olympus' is not an IANA time zone name (such as Europe/Paris or UTC)."
    ]
    assert errors["mapping"][0].startswith("mapping['EAN'] = 'barcode' is not a product field")
    assert errors["file_source"] == {
        "url": ["url does not apply to sftp sources."],
        "username": ["username is required for sftp sources."],
        "path": ["path is required for sftp sources."],
        "host": ["host is a host name or an IP address, without a scheme or a path."],
    }
    assert api.post(URL, {**SPEC_BODY, "file_source": {"type": "smb"}}, format="json").status_code == 400
    assert Automation.objects.count() == 0


def test_is_active_toggles_the_periodic_task(api):
    body = _create(api, is_active=False)
    task = PeriodicTask.objects.get(automation__pk=body["id"])
    assert body["is_active"] is False and task.enabled is False
    assert body["next_runs"] == []

    response = api.patch(f"{URL}/{body['id']}", {"is_active": True}, format="json")

    assert response.status_code == 200 and response.json()["is_active"] is True
    task.refresh_from_db()
    assert task.enabled is True
    api.patch(f"{URL}/{body['id']}", {"is_active": False}, format="json")
    task.refresh_from_db()
    assert task.enabled is False


def test_patch_schedule_updates_the_crontab(api):
    body = _create(api)
    task = PeriodicTask.objects.get(automation__pk=body["id"])

    response = api.patch(
        f"{URL}/{body['id']}", {"schedule": "30 6 * * 1", "timezone": "Europe/Paris"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["schedule"] == "30 6 * * 1"
    task.refresh_from_db()
    crontab = task.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_week, str(crontab.timezone)) == (
        "30",
        "6",
        "1",
        "Europe/Paris",
    )
    assert CrontabSchedule.objects.count() == 1  # updated in place, not one more
    assert api.patch(f"{URL}/{body['id']}", {"schedule": "* * *"}, format="json").status_code == 400
    task.refresh_from_db()
    assert task.crontab.minute == "30"


def test_patch_file_source_merges_and_keeps_secrets(api):
    body = _create(api, file_source={**SPEC_BODY["file_source"], "password": PASSWORD})
    url = f"{URL}/{body['id']}"

    api.patch(url, {"file_source": {"path": "/exports/other.csv"}}, format="json")
    automation = Automation.objects.get(pk=body["id"])
    stored = automation.source().settings
    assert (stored.path, stored.password, stored.host) == (
        "/exports/other.csv",
        PASSWORD,
        "sftp.supplier.com",
    )

    api.patch(url, {"file_source": {"password": ""}}, format="json")
    automation.refresh_from_db()
    assert automation.source().settings.password == ""

    response = api.patch(
        url, {"file_source": {"type": "http", "url": "https://x.example/feed.csv"}}, format="json"
    )
    assert response.status_code == 200, response.content
    automation.refresh_from_db()
    assert (automation.source_type, automation.source_config) == (
        "http",
        {
            "url": "https://x.example/feed.csv",
            "headers": {},
            "username": "",
            "password": "",
            "authorization": "",
        },
    )
    assert response.json()["file_source"] == {
        "type": "http",
        "username": "",
        "url": "https://x.example/feed.csv",
        "headers": {},
        "password_set": False,
        "authorization_set": False,
    }


def test_on_invalid_value_is_stored_shown_and_changed(api):
    body = _create(api)
    assert body["on_invalid_value"] == "skip_row"

    lenient = _create(api, on_invalid_value="skip_value")
    assert lenient["on_invalid_value"] == "skip_value"
    assert Automation.objects.get(pk=lenient["id"]).on_invalid_value == "skip_value"
    changed = api.patch(f"{URL}/{body['id']}", {"on_invalid_value": "skip_value"}, format="json")
    assert changed.json()["on_invalid_value"] == "skip_value"
    refused = api.patch(f"{URL}/{body['id']}", {"on_invalid_value": "skip_file"}, format="json")
    assert refused.status_code == 400 and list(refused.json()) == ["on_invalid_value"]


def test_delete_removes_the_periodic_task(api):
    body = _create(api)
    assert PeriodicTask.objects.filter(name=f"automation:{body['id']}").exists()

    response = api.delete(f"{URL}/{body['id']}")

    assert response.status_code == 204
    assert not Automation.objects.exists()
    assert not PeriodicTask.objects.filter(name=f"automation:{body['id']}").exists()
    assert not CrontabSchedule.objects.filter(minute="0", hour="2").exists()


def test_deleting_the_owner_removes_the_periodic_task_too(api):
    body = _create(api)

    api.user.delete()

    assert not PeriodicTask.objects.filter(name=f"automation:{body['id']}").exists()


def test_owners_see_only_their_automations(api, other_api, staff_api):
    mine = _create(api)
    theirs = _create(other_api, name="Theirs")

    assert [a["id"] for a in api.get(URL).json()["items"]] == [mine["id"]]
    for method, suffix in [("get", ""), ("patch", ""), ("delete", ""), ("post", "/run"), ("get", "/runs")]:
        response = getattr(api, method)(f"{URL}/{theirs['id']}{suffix}", {}, format="json")
        assert response.status_code == 404, (method, suffix)
    assert {a["id"] for a in staff_api.get(URL).json()["items"]} == {mine["id"], theirs["id"]}
    assert staff_api.get(f"{URL}/{theirs['id']}").status_code == 200
    assert Automation.objects.count() == 2


def test_unauthenticated_is_401(client):
    assert client.get(URL).status_code == 401


def test_run_now_answers_202_with_the_run_and_409_while_it_runs(
    api, _no_broker, django_capture_on_commit_callbacks
):
    body = _create(api)

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{URL}/{body['id']}/run", format="json")

    assert response.status_code == 202
    run = response.json()
    assert run["status"] == "running" and run["job_id"] is None and run["error"] is None
    assert _no_broker == [((body["id"],), {"run_id": run["id"], "force": False})]
    again = api.post(f"{URL}/{body['id']}/run", {"force": True}, format="json")
    assert again.status_code == 409
    assert again.json()["detail"].startswith("A run of this automation is in progress")


def test_runs_are_listed_newest_first_with_meta(api):
    body = _create(api, file_source={**SPEC_BODY["file_source"], "host": "127.0.0.1", "port": closed_port()})
    automation = Automation.objects.get(pk=body["id"])
    first = services.automation_run(automation_id=automation.pk)  # fails: nothing listens there
    second = services.automation_run(automation_id=automation.pk)

    response = api.get(f"{URL}/{body['id']}/runs", {"limit": 1})

    assert response.status_code == 200
    page = response.json()
    assert [r["id"] for r in page["items"]] == [str(second.pk)]
    assert page["meta"] == {
        "total": 2,
        "page": 1,
        "per_page": 1,
        "total_pages": 2,
        "has_next": True,
        "has_previous": False,
    }
    item = page["items"][0]
    assert {"id", "status", "job_id", "started_at", "finished_at", "error"} <= set(item)
    assert item["status"] == RunStatus.FAILED and item["error"]
    assert AutomationRun.objects.get(pk=first.pk).status == RunStatus.FAILED
    assert api.get(URL).json()["items"][0]["last_run_status"] == "failed"


def test_unpinned_sftp_can_be_saved_but_says_what_to_pin(api, sftp_server, sftp_source):
    body = _create(api, file_source={**sftp_source, "host_key": ""})

    run = services.automation_run(automation_id=body["id"])

    assert run.status == RunStatus.FAILED
    assert f"set host_key to {sftp_server.fingerprint}" in run.error
    pinned = api.patch(
        f"{URL}/{body['id']}", {"file_source": {"host_key": sftp_server.fingerprint}}, format="json"
    )
    assert pinned.json()["file_source"]["host_key"] == sftp_server.fingerprint
    assert services.automation_run(automation_id=body["id"]).status == RunStatus.COMPLETED


def test_automation_paths_are_in_the_openapi_schema(api):
    paths = api.get("/api/v1/schema/?format=json").json()["paths"]

    for path in [
        "/api/v1/imports/automations",
        "/api/v1/imports/automations/{automation_id}",
        "/api/v1/imports/automations/{automation_id}/run",
        "/api/v1/imports/automations/{automation_id}/runs",
    ]:
        assert any(p.rstrip("/") == path for p in paths), path


_HTTP = {"type": "http", "url": "https://x.example/a.csv"}


@pytest.mark.parametrize(
    "changes",
    [
        {"mapping": {"a\u0000b": "ean"}},
        {"mapping": []},
        {"file_source": {**_HTTP, "headers": {"X\u0000": "v"}}},
        {"file_source": {**_HTTP, "headers": {"X-A": "v\u0000"}}},
        {"file_source": {"type": "http", "url": "http://[::1"}},
        {"file_source": {"type": "http", "url": "http://x:99999/"}},
        {"file_source": {"type": "sftp", "host": "h\u00e9", "username": "u", "path": "/p"}},
        {
            "file_source": {
                "type": "sftp",
                "host": "h",
                "username": "u",
                "path": "/p",
                "host_key": "ssh-rsa AAAA",
            }
        },
        {"file_source": {"type": "ftp", "host": "h", "path": "/p", "tls": "maybe"}},
        {"file_source": "x"},
        {"timezone": "../../etc/passwd"},
        {"schedule": "0 0 * * \u0663"},  # an Arabic-Indic 3: a digit to Python, not to cron
        {"schedule": "0 0 L * *"},
        {"schedule": "0 0 * * 1#2"},
    ],
)
def test_hostile_input_is_a_400_never_a_500(api, changes):
    assert api.post(URL, {**SPEC_BODY, **changes}, format="json").status_code == 400
    body = _create(api)
    assert api.patch(f"{URL}/{body['id']}", changes, format="json").status_code == 400
