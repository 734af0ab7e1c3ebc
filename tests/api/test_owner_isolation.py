"""Owner isolation over every object endpoint: another non-staff key gets 404 and changes nothing,
lists are filtered, a staff key sees and acts on everything.

The table below must name every operation of the OpenAPI schema that takes an object id, so an
endpoint added without its isolation check fails ``test_every_object_endpoint_is_covered``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from django.utils import timezone

from automations import services as automation_services
from automations.models import Automation, AutomationRun
from imports.models import ImportJob
from tests.factories import ean13
from tests.imports.helpers import run_import
from webhooks import services as webhook_services
from webhooks.models import WebhookEvent, WebhookSubscription

pytestmark = pytest.mark.django_db

PUBLIC = "https://93.184.216.34/hook"  # an address literal: no DNS needed


@dataclass
class Owned:
    job: ImportJob
    automation: Automation
    run: AutomationRun
    webhook: WebhookSubscription
    delivery: WebhookEvent

    def ids(self) -> dict[str, str]:
        return {
            "job_id": str(self.job.pk),
            "automation_id": str(self.automation.pk),
            "webhook_id": str(self.webhook.pk),
            "delivery_id": str(self.delivery.pk),
        }

    def snapshot(self) -> tuple:
        """Everything a write through one of the endpoints could change."""
        return (
            tuple(ImportJob.objects.filter(pk=self.job.pk).values_list("status", "file")),
            tuple(
                Automation.objects.filter(pk=self.automation.pk).values_list("name", "is_active", "schedule")
            ),
            AutomationRun.objects.filter(automation=self.automation).count(),
            tuple(WebhookSubscription.objects.filter(pk=self.webhook.pk).values_list("events", "is_active")),
            tuple(WebhookEvent.objects.filter(pk=self.delivery.pk).values_list("status", "attempt_count")),
        )


def make_owned(user) -> Owned:
    job = run_import(f"ean,name\n{ean13(1)},A\nbad,B\n", user=user)
    automation = automation_services.automation_create(
        user=user,
        name="Nightly",
        schedule="0 2 * * *",
        file_source={"type": "http", "url": "https://93.184.216.34/feed.csv"},
    )
    run = AutomationRun.objects.create(
        automation=automation, status="failed", finished_at=timezone.now(), error="x"
    )
    webhook = webhook_services.webhook_subscription_create(user=user, url=PUBLIC, events=["import.completed"])
    delivery = WebhookEvent.objects.create(
        type="import.completed", payload={}, subscription=webhook, url=PUBLIC, status="failed"
    )
    return Owned(job, automation, run, webhook, delivery)


@pytest.fixture
def owned(api) -> Owned:
    return make_owned(api.user)


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    # Actions enqueue tasks on commit; nothing may reach a broker from these tests.
    from automations import tasks as automation_tasks
    from imports import tasks as import_tasks
    from webhooks import tasks as webhook_tasks

    for module in (automation_tasks, import_tasks, webhook_tasks):
        for name in dir(module):
            task = getattr(module, name)
            if hasattr(task, "delay"):
                monkeypatch.setattr(task, "delay", lambda *a, **k: None)


# (method, path as the schema writes it, body): every operation on an owned object.
J = "/api/v1/imports/jobs/{job_id}"
A = "/api/v1/imports/automations/{automation_id}"
W = "/api/v1/webhooks/{webhook_id}"
ENDPOINTS = [
    ("GET", J, None),
    ("GET", J + "/logs", None),
    ("GET", J + "/preview", None),
    ("GET", J + "/errors.csv", None),
    ("POST", J + "/pause", None),
    ("POST", J + "/resume", None),
    ("POST", J + "/confirm", None),
    ("POST", J + "/cancel", None),
    ("GET", A, None),
    ("PATCH", A, {"name": "Renamed", "is_active": False}),
    ("POST", A + "/run", {}),
    ("GET", A + "/runs", None),
    ("DELETE", A, None),
    ("GET", W, None),
    ("PATCH", W, {"events": ["import.failed"]}),
    ("GET", W + "/deliveries", None),
    ("GET", W + "/deliveries/{delivery_id}", None),
    ("POST", W + "/deliveries/{delivery_id}/redeliver", None),
    ("DELETE", W, None),
]


def call(client, method: str, path: str, body, ids: dict[str, str]):
    payload = json.dumps(body) if body is not None else ""
    return client.generic(method, path.format(**ids), payload, content_type="application/json")


@pytest.mark.parametrize("method, path, body", ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS])
def test_another_owner_gets_404_and_changes_nothing_while_staff_may_act(
    api, other_api, staff_api, owned, method, path, body
):
    before = owned.snapshot()
    response = call(other_api, method, path, body, owned.ids())
    assert response.status_code == 404, (response.status_code, response.content)
    assert response.json() == {"detail": "Not found."}  # the answer for an id that does not exist
    assert owned.snapshot() == before

    # 409: the action exists but the object's state refuses it (pausing a completed job).
    assert call(api, method, path, body, owned.ids()).status_code in (200, 202, 204, 409)
    theirs = make_owned(other_api.user)
    response = call(staff_api, method, path, body, theirs.ids())
    assert response.status_code in (200, 202, 204, 409), (response.status_code, response.content)


LISTS = {
    "/api/v1/imports/jobs": lambda o: o.job,
    "/api/v1/imports/automations": lambda o: o.automation,
    "/api/v1/webhooks": lambda o: o.webhook,
    "/api/v1/imports/automations/{automation_id}/runs": lambda o: o.run,
    "/api/v1/webhooks/{webhook_id}/deliveries": lambda o: o.delivery,
}


@pytest.mark.parametrize("path", LISTS)
def test_lists_hold_only_the_callers_objects_and_staff_sees_all(api, other_api, staff_api, owned, path):
    theirs = make_owned(other_api.user)
    pick = LISTS[path]

    def listed(client, objects: Owned) -> set[str]:
        response = client.get(path.format(**objects.ids()))
        assert response.status_code == 200, response.content
        return {item["id"] for item in response.json()["items"]}

    assert listed(api, owned) == {str(pick(owned).pk)}
    assert listed(other_api, theirs) == {str(pick(theirs).pk)}
    if "{" in path:
        # A list under another owner's object: 404, not an empty page.
        assert other_api.get(path.format(**owned.ids())).status_code == 404
        assert listed(staff_api, owned) == {str(pick(owned).pk)}
    else:
        assert listed(staff_api, owned) == {str(pick(owned).pk), str(pick(theirs).pk)}


def test_a_delivery_is_found_only_under_its_own_webhook(api, other_api, owned):
    theirs = make_owned(other_api.user)
    # My webhook's path with their delivery id: the pair must match, not only the webhook.
    response = api.get(f"/api/v1/webhooks/{owned.webhook.pk}/deliveries/{theirs.delivery.pk}")
    assert response.status_code == 404
    response = api.post(f"/api/v1/webhooks/{owned.webhook.pk}/deliveries/{theirs.delivery.pk}/redeliver")
    assert response.status_code == 404


def test_every_object_endpoint_is_covered(api):
    from tests.api.test_schema_fuzz import operations

    covered = {(m, p) for m, p, _ in ENDPOINTS}
    with_ids = {
        (o.method.upper(), o.path)
        for o in operations()
        if "{" in o.path and not o.path.startswith("/api/v1/catalog/")  # the catalog is shared
    }
    assert with_ids == covered, with_ids ^ covered
