"""A real HTTP receiver on loopback, Celery tasks run in-process (eagerly), and helpers."""

from __future__ import annotations

import http.server
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files import File
from django.utils import timezone

from imports import services as import_services
from tests.factories import ean13
from webhooks import services
from webhooks.models import WebhookEvent


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Records every POST; answers with ``statuses`` in turn, then ``default_status``."""

    port: int = 0
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    default_status: int = 200

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def to(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]


@pytest.fixture
def receiver():
    state = Receiver()
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                state.requests.append(Received(self.path, dict(self.headers.items()), body))
                code = state.statuses.pop(0) if state.statuses else state.default_status
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(f"answered {code}".encode())

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def eager_celery():
    """Tasks run where they are sent: the fast path and the sweeper deliver in place."""
    from pixee.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def loopback_allowed(settings, eager_celery):
    """Deliveries may reach the loopback receiver; retries follow without delay."""
    settings.PIXEE_ALLOW_PRIVATE_NETWORK = True
    settings.PIXEE_WEBHOOK_RETRY_DELAYS = [0, 0]
    return settings


def due_now(event) -> None:
    """End the delivery's wait now, as if its retry delay (or its attempt's lease) had passed."""
    WebhookEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def subscribe(user, url: str, events: list[str] | None = None):
    return services.webhook_subscription_create(user=user, url=url, events=events or ["import.completed"])


@pytest.fixture
def csv_upload(tmp_path):
    """A small valid CSV as an uploadable File."""
    opened = []

    def make(rows: int = 3) -> File:
        path = Path(tmp_path) / "catalog.csv"
        lines = ["ean,name,price"] + [f"{ean13(i)},Product {i},{i}.99" for i in range(1, rows + 1)]
        path.write_text("\n".join(lines) + "\n")
        handle = path.open("rb")
        opened.append(handle)
        return File(handle, name="catalog.csv")

    yield make
    for handle in opened:
        handle.close()


def run_import(user, upload: File, **kwargs):
    """Create a job and run its pipeline in this process, as the worker would."""
    job = import_services.import_job_create(user=user, file=upload, enqueue=False, **kwargs)
    return import_services.import_job_run(job_id=job.pk)
