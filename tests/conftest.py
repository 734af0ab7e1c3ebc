"""Shared fixtures: API clients with real keys, sample files, and a real Celery worker process."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from .factories import ApiKeyFactory, UserFactory

# Fixtures shared across folders: the loopback SFTP, FTP and HTTP servers.
pytest_plugins = ["tests.automations.fixtures"]

ROOT = Path(__file__).resolve().parent.parent
FILES = Path(__file__).resolve().parent / "files"


@pytest.fixture(autouse=True, scope="session")
def _media_root(tmp_path_factory):
    """Uploads go to a temporary MEDIA_ROOT, and analyses keep their valid rows in a temporary
    PIXEE_SPILL_DIR, both shared with the worker process."""
    for setting in ("MEDIA_ROOT", "PIXEE_SPILL_DIR"):
        folder = tmp_path_factory.mktemp(setting.lower())
        setattr(settings, setting, folder)
        os.environ[setting] = str(folder)
    yield settings.MEDIA_ROOT


@pytest.fixture(autouse=True, scope="session")
def _encryption_keys():
    """pytest-django turns DEBUG off, so secrets at rest need a key; the worker gets the same one."""
    from cryptography.fernet import Fernet

    keys = settings.PIXEE_ENCRYPTION_KEYS or [Fernet.generate_key().decode()]
    settings.PIXEE_ENCRYPTION_KEYS = keys
    os.environ["PIXEE_ENCRYPTION_KEYS"] = ",".join(keys)
    yield keys


@pytest.fixture(autouse=True)
def _responses_match_schema(monkeypatch):
    """Every answer an API test receives is checked against the served OpenAPI schema.

    Django's test client is wrapped, so DRF's APIClient (a subclass) and the plain client are both.
    """
    from django.test import Client

    from .openapi import check_response

    original = Client.request

    def request(self, *args, **kwargs):
        response = original(self, *args, **kwargs)
        check_response(response)
        return response

    monkeypatch.setattr(Client, "request", request)


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True)


def _client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {ApiKeyFactory(user=user, name='test').raw_key}")
    client.user = user
    return client


@pytest.fixture
def api(user) -> APIClient:
    """An API client authenticated with a (non-staff) user's Bearer key."""
    return _client_for(user)


@pytest.fixture
def staff_api(staff_user) -> APIClient:
    return _client_for(staff_user)


@pytest.fixture
def other_api(db) -> APIClient:
    """Another non-staff user's client, for owner isolation."""
    return _client_for(UserFactory())


def _test_database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"] in ("pixee.sqlite", "django.db.backends.sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


class WorkerProcess:
    """A real ``celery worker`` process on the test database and the test broker."""

    def __init__(self, log: Path, *, concurrency: int = 2, **env: str):
        self.log = log
        full_env = {
            **os.environ,
            "DATABASE_URL": _test_database_url(),
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "PIXEE_IMPORT_CHUNK_SIZE": str(settings.PIXEE_IMPORT_CHUNK_SIZE),
            # End-to-end tests run their HTTP servers and webhook receivers on loopback; the SSRF
            # guard itself is tested in-process (tests/pixee/test_netguard.py, tests/webhooks/).
            "PIXEE_ALLOW_PRIVATE_NETWORK": "true",
            **env,
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "pixee",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                str(concurrency),
                "--without-gossip",
                "--without-mingle",
                "--hostname",
                f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
            ],
            cwd=ROOT,
            env=full_env,
            stdout=log.open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while "ready." not in log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"celery worker did not start:\n{log.read_text()}")
            time.sleep(0.2)

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once, as a crash or an OOM kill would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()


@pytest.fixture(scope="module")
def start_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """Start real worker processes (stopped at the end of the module): ``start_worker(**env)``
    (``concurrency=1`` for a single pool process).

    Tests that use them must commit their data: mark them ``django_db(transaction=True)``.
    """
    from pixee.celery import app

    with django_db_blocker.unblock():
        app.control.purge()
    workers: list[WorkerProcess] = []
    log_dir = tmp_path_factory.mktemp("workers")

    def start(*, concurrency: int = 2, **env: str) -> WorkerProcess:
        worker = WorkerProcess(log_dir / f"worker-{len(workers)}.log", concurrency=concurrency, **env)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture(scope="module")
def celery_worker_process(start_worker):
    """One real worker for the test module."""
    return start_worker()


@pytest.fixture
def start_beat(transactional_db, tmp_path):
    """``start_beat()`` starts ``celery -A pixee beat -S django`` on the test database.

    Beat reads its schedule from the database: tests that use it commit their data. It is
    stopped before the database is flushed.
    """
    processes: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        log = tmp_path / f"beat-{len(processes)}.log"
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "pixee",
                "beat",
                "-S",
                "django",
                "--loglevel",
                "INFO",
                "--pidfile=",
                "--max-interval",
                "5",
            ],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": _test_database_url()},
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        processes.append(process)
        wait_for(lambda: "beat: Starting" in log.read_text() or process.poll() is not None, timeout=60)
        assert process.poll() is None, log.read_text()
        process.log_path = log  # type: ignore[attr-defined]
        return process

    yield start
    for process in processes:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture
def beat(start_beat):
    """A real beat process for the test."""
    return start_beat()


def wait_for(predicate, *, timeout: float = 60, interval: float = 0.2, message: str = "condition"):
    """Poll ``predicate`` until it returns something truthy; fail with ``message`` on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


def holds_for(predicate, *, seconds: float, interval: float = 0.1, message: str = "condition"):
    """Check that ``predicate`` stays truthy for ``seconds``; fail at once, naming ``message``, if not.

    For what must not happen (a paused job writing): an observation window, not a synchronisation.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not predicate():
            raise AssertionError(f"{message} stopped holding before {seconds}s had passed")
        time.sleep(interval)


@pytest.fixture
def sample_file(tmp_path):
    """Copy a file from tests/files into a temp dir and return its path."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copy(FILES / name, target)
        return target

    return copy
