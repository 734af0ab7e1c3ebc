"""One of every object the API serves, owned by a given user, and no broker behind the actions."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.utils import timezone

from automations import services as automation_services
from automations.models import Automation, AutomationRun
from imports.models import ImportJob
from tests.factories import AutomationRunFactory, WebhookEventFactory, ean13
from tests.imports.helpers import run_import
from webhooks import services as webhook_services
from webhooks.models import WebhookEvent, WebhookSubscription

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
    run = AutomationRunFactory(automation=automation, status="failed", finished_at=timezone.now(), error="x")
    webhook = webhook_services.webhook_subscription_create(user=user, url=PUBLIC, events=["import.completed"])
    delivery = WebhookEventFactory(
        type="import.completed", payload={}, subscription=webhook, url=PUBLIC, status="failed"
    )
    return Owned(job, automation, run, webhook, delivery)


@pytest.fixture
def no_broker(monkeypatch):
    # Actions enqueue tasks on commit; nothing may reach a broker from these tests.
    from automations import tasks as automation_tasks
    from imports import tasks as import_tasks
    from webhooks import tasks as webhook_tasks

    for module in (automation_tasks, import_tasks, webhook_tasks):
        for name in dir(module):
            task = getattr(module, name)
            if hasattr(task, "delay"):
                monkeypatch.setattr(task, "delay", lambda *a, **k: None)
