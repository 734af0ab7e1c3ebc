"""`make run`'s embedded default end to end: SQLite, filesystem broker, web + worker + beat."""

import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.conftest import wait_for
from tests.factories import ean13

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow
# The embedded default's chunk (pixee/settings.py's SQLite default): pause and cancel's unit.
SQLITE_CHUNK = 2_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Embedded:
    base: str
    headers: dict
    var: Path
    log: Path

    def admin_session(self) -> requests.Session:
        """A browser-like session logged into the admin as the embedded default's admin user."""
        session = requests.Session()
        session.get(f"{self.base}/admin/login/", timeout=30)
        password = (self.var / "embedded-credentials").read_text().split("\n")[0]
        response = session.post(
            f"{self.base}/admin/login/?next=/admin/",
            data={
                "username": "admin",
                "password": password,
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
            },
            headers={"Referer": f"{self.base}/admin/login/"},
            timeout=30,
        )
        assert response.url.endswith("/admin/"), response.url
        return session


@pytest.fixture
def embedded(tmp_path):
    """``scripts/run-embedded`` as ``make run`` starts it, on its own var dir and a free port."""
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "DATABASE_URL",
            "CELERY_BROKER_URL",
            "MEDIA_ROOT",
            "PIXEE_SPILL_DIR",
            "PIXEE_IMPORT_CHUNK_SIZE",
        )
    }
    var = tmp_path / "var"
    env.update(PIXEE_VAR_DIR=str(var), PORT=str(port), BIN=str(ROOT / ".venv" / "bin"))
    log_path = tmp_path / "run.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [str(ROOT / "scripts" / "run-embedded")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        # The banner is printed once web, worker and beat answer.
        wait_for(
            lambda: "kept in" in log_path.read_text(), timeout=180, message="the embedded default's banner"
        )
        key = (var / "embedded-credentials").read_text().split("\n")[1]
        yield Embedded(f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {key}"}, var, log_path)
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=60)  # a loaded 2-core machine: warm shutdowns take a while
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
        log.close()
    # Ctrl-C stopped web, worker and beat: nothing of the process group is left.
    wait_for(lambda: not group_alive(process.pid), timeout=20, message="every process to stop")


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_make_run_serves_imports_the_spec_example_and_takes_a_change_back(embedded):
    api = f"{embedded.base}/api/v1"
    job_id = _import(
        embedded, f'EAN,Titre,Prix HT\n{ean13(1)},Produit exemple,"29,99"\n', supplier_code="SUPPLIER_A"
    )
    body = requests.get(f"{api}/imports/jobs/{job_id}", headers=embedded.headers, timeout=10).json()
    assert (body["products_created"], body["successful_rows"]) == (1, 1)
    product = requests.get(f"{api}/catalog/products/{ean13(1)}", headers=embedded.headers, timeout=10).json()
    assert product["price"] == 29.99
    assert (embedded.var / "pixee.sqlite3").exists()

    # A second file changes the price; its changes say so, and its revert takes it back (SQLite's
    # portable paths, as make run runs them).
    second = _import(embedded, f'EAN,Prix HT\n{ean13(1)},"31,50"\n')
    changes = requests.get(f"{api}/imports/jobs/{second}/changes", headers=embedded.headers, timeout=10)
    assert changes.status_code == 200, changes.text
    assert [(c["row_number"], c["action"], c["fields"]) for c in changes.json()["items"]] == [
        (2, "updated", {"price": {"before": "29.99", "after": "31.50"}})
    ]
    response = requests.post(f"{api}/imports/jobs/{second}/revert", headers=embedded.headers, timeout=10)
    assert response.status_code == 202, response.text

    def reverted():
        body = requests.get(f"{api}/imports/jobs/{second}", headers=embedded.headers, timeout=10).json()
        return body if body["reverted_at"] else None

    body = wait_for(reverted, timeout=90, message="the embedded worker to revert the job")
    assert (body["products_restored"], body["products_deleted"], body["products_skipped"]) == (1, 0, 0)
    product = requests.get(f"{api}/catalog/products/{ean13(1)}", headers=embedded.headers, timeout=10).json()
    assert product["price"] == 29.99


def _import(embedded, content: str, **data: str) -> str:
    """Upload ``content`` as a CSV to the embedded server; the job's id once it completed."""
    api = f"{embedded.base}/api/v1"
    response = requests.post(
        f"{api}/imports/jobs",
        headers=embedded.headers,
        files={"file": ("catalog.csv", content)},
        data=data,
        timeout=10,
    )
    assert response.status_code == 201, response.text
    job_id = response.json()["id"]

    def finished():
        body = requests.get(f"{api}/imports/jobs/{job_id}", headers=embedded.headers, timeout=10).json()
        return body if body["status"] in ("completed", "failed") else None

    body = wait_for(finished, timeout=90, message="the embedded worker to finish the job")
    assert body["status"] == "completed", body
    return job_id


def test_banner_comes_last_and_the_root_leads_to_the_admin(embedded):
    output = embedded.log.read_text()
    # The credentials follow the worker's and beat's start-up output instead of scrolling away.
    assert output.rindex("API key:") > output.rindex("ready.")
    assert str(embedded.var / "embedded-credentials") in output
    response = requests.get(f"{embedded.base}/", allow_redirects=False, timeout=10)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"


def _control(embedded, job_id: str, action: str) -> tuple[dict, float]:
    started = time.monotonic()
    response = requests.post(
        f"{embedded.base}/api/v1/imports/jobs/{job_id}/{action}", headers=embedded.headers, timeout=60
    )
    elapsed = time.monotonic() - started
    assert response.headers["Content-Type"].startswith("application/json"), response.text[:300]
    assert response.status_code == 200, response.text
    return response.json(), elapsed


def test_pause_resume_cancel_200k_rows_answer_json_within_one_chunk(embedded, tmp_path):
    """The issue's scenario: a 200 000-row import controlled through the API while it processes."""
    rows = 200_000
    csv_path = tmp_path / "big.csv"
    with csv_path.open("w") as f:
        f.write("EAN,Name,Price,Brand,Stock\n")
        for i in range(rows):
            f.write(f"{ean13(i)},Product {i},{i % 500}.99,Brand {i % 40},{i % 90}\n")
    api = f"{embedded.base}/api/v1"
    with csv_path.open("rb") as f:
        response = requests.post(
            f"{api}/imports/jobs",
            headers=embedded.headers,
            files={"file": ("big.csv", f)},
            data={"supplier_code": "BIG"},
            timeout=60,
        )
    assert response.status_code == 201, response.text
    job_id = response.json()["id"]
    polls: list[int] = []

    def get() -> dict:
        response = requests.get(f"{api}/imports/jobs/{job_id}", headers=embedded.headers, timeout=60)
        polls.append(response.status_code)
        assert response.headers["Content-Type"].startswith("application/json"), response.text[:300]
        assert response.status_code == 200, response.text
        return response.json()

    def at_rest() -> dict:
        # Settled: two reads a second apart agree.
        first = get()
        time.sleep(1)
        second = get()
        return second if second["processed_rows"] == first["processed_rows"] else {}

    latencies: dict[str, float] = {}

    def stop_within_one_chunk(action: str, status: str, after_rows: int) -> dict:
        wait_for(
            lambda: (b := get())["status"] == "processing" and b["processed_rows"] >= after_rows,
            timeout=240,
            interval=0.1,
            message=f"processing past {after_rows} rows before the {action}",
        )
        before = get()["processed_rows"]
        body, latencies[action] = _control(embedded, job_id, action)
        answered = get()["processed_rows"]
        assert body["status"] == status
        settled = wait_for(at_rest, timeout=30, message=f"the {action} to take effect")
        assert settled["status"] == status
        # The request waited for the chunk in flight, then no other chunk committed: what was
        # written when the answer came is what stays. (Between the read before and the request,
        # one chunk may have committed, and the chunk in flight then did.)
        assert settled["processed_rows"] == answered, (action, answered, settled["processed_rows"])
        assert answered - before <= 2 * SQLITE_CHUNK, (action, before, answered)
        return settled

    paused = stop_within_one_chunk("pause", "paused", 20_000)
    body, latencies["resume"] = _control(embedded, job_id, "resume")
    assert body["status"] == "processing"

    # The admin's Pause button, as a browser posts it: the page answers at once too.
    wait_for(lambda: get()["processed_rows"] >= paused["processed_rows"] + 10_000, timeout=240, interval=0.1)
    admin = embedded.admin_session()
    started = time.monotonic()
    response = admin.post(
        f"{embedded.base}/admin/imports/importjob/{job_id}/pause/",
        data={"csrfmiddlewaretoken": admin.cookies["csrftoken"]},
        headers={"Referer": f"{embedded.base}/admin/"},
        timeout=60,
    )
    latencies["admin pause"] = time.monotonic() - started
    assert response.status_code == 200 and "Import paused." in response.text, response.text[:500]
    assert get()["status"] == "paused"
    paused = wait_for(at_rest, timeout=30, message="the admin's pause to take effect")
    body, latencies["resume again"] = _control(embedded, job_id, "resume")
    assert body["status"] == "processing"
    cancelled = stop_within_one_chunk("cancel", "cancelled", paused["processed_rows"] + 20_000)
    assert cancelled["processed_rows"] < rows
    # Answered without waiting out the busy timeout behind the worker's writes.
    assert max(latencies.values()) < 5, latencies
    assert set(polls) == {200}
    print(json.dumps({"answer_seconds": latencies, "polls": len(polls)}))
