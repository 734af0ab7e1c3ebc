"""The spec's flow through a client openapi-python-client generated from the served schema.

Run by tests/api/test_generated_client.py with the throwaway environment's Python (httpx, attrs and
python-dateutil come with openapi-python-client), never imported by the test suite itself:
``python generated_client_flow.py CLIENT_PARENT BASE_URL API_KEY`` prints one JSON summary line.
"""

import importlib
import io
import json
import pkgutil
import sys
import time

sys.path.insert(0, sys.argv[1])
BASE_URL, API_KEY = sys.argv[2], sys.argv[3]

import pixee_client  # noqa: E402

# Every generated module imports (a NameError in one is the bug this guards against).
MODULES = [m.name for m in pkgutil.walk_packages(pixee_client.__path__, "pixee_client.")]
for name in MODULES:
    importlib.import_module(name)

from pixee_client import AuthenticatedClient  # noqa: E402
from pixee_client.api.imports import (  # noqa: E402
    imports_automations_create,
    imports_automations_delete,
    imports_automations_get,
    imports_automations_list,
    imports_automations_run,
    imports_automations_runs,
    imports_automations_update,
    imports_jobs_confirm,
    imports_jobs_create,
    imports_jobs_errors_csv,
    imports_jobs_get,
    imports_jobs_list,
    imports_jobs_logs,
    imports_jobs_preview,
)
from pixee_client.api.webhooks import (  # noqa: E402
    webhooks_create,
    webhooks_delete,
    webhooks_deliveries_list,
    webhooks_list,
    webhooks_update,
)
from pixee_client.models import (  # noqa: E402
    AutomationInputRequest,
    ImportJobCreateInputRequest,
    ImportsJobsLogsLevel,
    PatchedAutomationInputRequest,
    PatchedWebhookUpdateInputRequest,
    RunNowInputRequest,
    WebhookCreateInputRequest,
)
from pixee_client.types import File  # noqa: E402

client = AuthenticatedClient(base_url=BASE_URL, token=API_KEY, raise_on_unexpected_status=True)
CSV = (
    "Code;Titre;Tarif\n4006381333931;Produit exemple;29,99\n123ABC7890;Mauvais;1\n9780201379624;Livre;12,50\n"
)
summary: dict = {"modules": len(MODULES)}


def wait_status(job_id, *statuses):
    for _ in range(300):
        job = imports_jobs_get.sync(client=client, job_id=job_id)
        if job.status.value in statuses:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} never reached {statuses}: {job.status.value}")


# Upload with a mapping (the columns have no synonym: only the mapping can map them), as a dry run.
body = ImportJobCreateInputRequest.from_dict(
    {
        "file": b"",
        "supplier_code": "SUPPLIER_A",
        "dry_run": True,
        "mapping": {"Code": "ean", "Titre": "name", "Tarif": "price"},
    }
)
body.file = File(payload=io.BytesIO(CSV.encode()), file_name="catalog.csv", mime_type="text/csv")
created = imports_jobs_create.sync_detailed(client=client, body=body)
summary["upload_status"] = created.status_code
job_id = created.parsed.id
ready = wait_status(job_id, "ready", "failed")
summary["dry_run"] = [ready.status.value, ready.total_rows, ready.successful_rows, ready.failed_rows]
summary["mapping"] = ready.mapping.to_dict()

logs = imports_jobs_logs.sync(client=client, job_id=job_id, level=ImportsJobsLogsLevel("error"))
summary["error_logs"] = [(log.row_number, log.field, log.value) for log in logs.items]
summary["logs_meta"] = logs.meta.to_dict()

preview = imports_jobs_preview.sync(client=client, job_id=job_id, limit=5)
summary["preview"] = [row.to_dict() for row in preview.preview]

confirmed = imports_jobs_confirm.sync(client=client, job_id=job_id)
done = wait_status(job_id, "completed", "failed")
summary["confirm"] = [confirmed.id == job_id, done.status.value, done.products_created, done.failed_rows]
summary["jobs_listed"] = len(imports_jobs_list.sync(client=client).items)

report = imports_jobs_errors_csv.sync_detailed(client=client, job_id=job_id)
summary["errors_csv"] = [report.status_code, report.parsed.payload.read().decode("utf-8-sig").splitlines()[0]]

# Automations: create, read, update, run now, runs, delete.
automation = imports_automations_create.sync(
    client=client,
    body=AutomationInputRequest.from_dict(
        {
            "name": "Nightly",
            "schedule": "0 2 * * *",
            "supplier_code": "SUPPLIER_A",
            "file_source": {"type": "http", "url": "https://93.184.216.34/feed.csv"},
            "mapping": {"Code": "ean"},
            "is_active": False,
        }
    ),
)
fetched = imports_automations_get.sync(client=client, automation_id=automation.id)
updated = imports_automations_update.sync(
    client=client,
    automation_id=automation.id,
    body=PatchedAutomationInputRequest.from_dict({"name": "Daily"}),
)
run = imports_automations_run.sync_detailed(
    client=client, automation_id=automation.id, body=RunNowInputRequest(force=False)
)
runs = imports_automations_runs.sync(client=client, automation_id=automation.id)
summary["automation"] = [
    fetched.file_source.type_.value,
    fetched.mapping.to_dict(),
    updated.name,
    run.status_code,
    len(runs.items),
    len(imports_automations_list.sync(client=client).items),
    imports_automations_delete.sync_detailed(client=client, automation_id=automation.id).status_code,
]

# Webhooks: create (the secret once), update, list, deliveries, delete.
webhook = webhooks_create.sync(
    client=client,
    body=WebhookCreateInputRequest.from_dict(
        {"url": "https://93.184.216.34/hook", "events": ["import.completed"]}
    ),
)
changed = webhooks_update.sync(
    client=client,
    webhook_id=webhook.id,
    body=PatchedWebhookUpdateInputRequest.from_dict({"events": ["import.failed", "import.ready"]}),
)
summary["webhook"] = [
    bool(webhook.secret),
    sorted(e.value for e in changed.events),
    len(webhooks_list.sync(client=client).items),
    len(webhooks_deliveries_list.sync(client=client, webhook_id=webhook.id).items),
    webhooks_delete.sync_detailed(client=client, webhook_id=webhook.id).status_code,
]
print(json.dumps(summary, default=str))
