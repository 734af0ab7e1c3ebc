"""`make run`'s embedded default end to end: SQLite, filesystem broker, web + worker + beat."""

import os
import signal
import socket
import subprocess
from pathlib import Path

import pytest
import requests

from tests.conftest import wait_for
from tests.factories import ean13

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_run_serves_and_imports_the_spec_example(tmp_path):
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "MEDIA_ROOT")
    }
    env.update(PIXEE_VAR_DIR=str(tmp_path / "var"), PORT=str(port), BIN=str(ROOT / ".venv" / "bin"))
    log = (tmp_path / "run.log").open("w")
    process = subprocess.Popen(
        [str(ROOT / "scripts" / "run-embedded")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        credentials = tmp_path / "var" / "embedded-credentials"
        wait_for(credentials.exists, timeout=120, message="the embedded bootstrap")
        key = credentials.read_text().split("\n")[1]
        headers = {"Authorization": f"Bearer {key}"}
        base = f"http://127.0.0.1:{port}/api/v1"

        def post():
            try:
                return requests.post(
                    f"{base}/imports/jobs",
                    headers=headers,
                    files={
                        "file": ("catalog.csv", f'EAN,Titre,Prix HT\n{ean13(1)},Produit exemple,"29,99"\n')
                    },
                    data={"supplier_code": "SUPPLIER_A"},
                    timeout=10,
                )
            except requests.ConnectionError:
                return None

        response = wait_for(post, timeout=60, message="the web server")
        assert response.status_code == 201, response.text
        job_id = response.json()["id"]

        def finished():
            body = requests.get(f"{base}/imports/jobs/{job_id}", headers=headers, timeout=10).json()
            return body if body["status"] in ("completed", "failed") else None

        body = wait_for(finished, timeout=90, message="the embedded worker to finish the job")
        assert body["status"] == "completed", body
        assert (body["products_created"], body["successful_rows"]) == (1, 1)
        product = requests.get(f"{base}/catalog/products/{ean13(1)}", headers=headers, timeout=10).json()
        assert product["price"] == 29.99
        assert (tmp_path / "var" / "pixee.sqlite3").exists()
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
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
