"""How fast the embedded default (`make run`) answers while it imports: a small bench of its own.

Starts scripts/run-embedded on a temporary var dir and a free port, imports BENCH_CONTROL_ROWS
rows (default 200,000) once undisturbed (the embedded import rate), then again while pausing,
resuming and cancelling it through the API and polling its status every 0.1 s. Reports each
answer's latency, how many rows the job processed until a pause or cancel was answered (the chunk
in flight) and after (none), and the polls' latencies; writes var/bench/control-latency.json.

    .venv/bin/python -m bench.control      (make bench runs it after the PostgreSQL rounds)
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from .data import bench_file  # the bench's deterministic catalog
from .procs import free_port

ROOT = Path(__file__).resolve().parent.parent
_BENCH_SETTINGS = (
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "MEDIA_ROOT",
    "DEBUG",
    "SECRET_KEY",
    "PIXEE_ENCRYPTION_KEYS",
    "PIXEE_UPLOAD_THROTTLE",
    "DJANGO_SETTINGS_MODULE",
)


def main() -> int:
    rows = int(os.environ.get("BENCH_CONTROL_ROWS", "200000"))
    csv_path = bench_file("csv", rows, ROOT / "var" / "bench")
    with tempfile.TemporaryDirectory(prefix="pixee-control-") as tmp:
        port = free_port()
        # As `make run` runs it: none of the bench's production-like settings (make bench's
        # DEBUG=false made the embedded server's admin answer 500 without collected static files).
        env = {k: v for k, v in os.environ.items() if k not in _BENCH_SETTINGS}
        env.update(PIXEE_VAR_DIR=f"{tmp}/var", PORT=str(port), BIN=str(ROOT / ".venv" / "bin"))
        log = Path(tmp, "run.log")
        with log.open("w") as out:
            process = subprocess.Popen(
                [str(ROOT / "scripts" / "run-embedded")], cwd=ROOT, env=env, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        try:
            # As long as scripts/run-embedded itself waits for web, worker and beat to answer.
            deadline = time.monotonic() + 300
            while "kept in" not in log.read_text():
                if time.monotonic() > deadline or process.poll() is not None:
                    tail = "\n".join(log.read_text().splitlines()[-20:])
                    raise SystemExit(f"the embedded default did not start; the end of its output:\n{tail}")
                time.sleep(0.25)
            key = Path(tmp, "var", "embedded-credentials").read_text().split("\n")[1]
            client = Client(f"http://127.0.0.1:{port}/api/v1", key)
            results = {
                "rows": rows,
                "undisturbed": client.undisturbed(csv_path),
                **client.controlled(csv_path, rows),
            }
        finally:
            os.killpg(process.pid, signal.SIGINT)
            process.wait(timeout=60)
    target = ROOT / "var" / "bench" / "control-latency.json"
    target.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0


FINISHED = ("completed", "failed", "cancelled")


class Client:
    def __init__(self, base: str, key: str):
        self.base = base
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {key}"
        self.polls: list[float] = []
        self.errors: list[str] = []

    def upload(self, path: Path) -> str:
        with path.open("rb") as f:
            response = self.session.post(
                f"{self.base}/imports/jobs", files={"file": (path.name, f)}, data={"supplier_code": "BENCH"}
            )
        response.raise_for_status()
        return response.json()["id"]

    def get(self, job_id: str) -> dict:
        started = time.monotonic()
        response = self.session.get(f"{self.base}/imports/jobs/{job_id}")
        self.polls.append(time.monotonic() - started)
        if response.status_code != 200 or not response.headers["Content-Type"].startswith("application/json"):
            self.errors.append(f"GET {response.status_code}")
            return {}
        return response.json()

    def wait(self, job_id: str, predicate, timeout: float = 600) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = self.get(job_id)
            if body and predicate(body):
                return body
            if body.get("status") in FINISHED:
                raise SystemExit(f"job {job_id} ended {body['status']} before the bench could act on it")
            time.sleep(0.1)
        raise SystemExit(f"job {job_id} timed out")

    def control(self, job_id: str, action: str, *, settle: bool = True) -> dict:
        before = self.get(job_id)["processed_rows"]
        started = time.monotonic()
        response = self.session.post(f"{self.base}/imports/jobs/{job_id}/{action}")
        answered = time.monotonic() - started
        ok = response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
        answer = {"answer_seconds": round(answered, 3), "answer_status": response.status_code, "json": ok}
        if not settle:
            return answer
        answered_rows = self.get(job_id)["processed_rows"]
        settled = self.get(job_id)
        while True:  # rows still written after the answer: the chunk in flight
            time.sleep(1)
            again = self.get(job_id)
            if again["processed_rows"] == settled["processed_rows"]:
                break
            settled = again
        return {
            **answer,
            # Rows written between the read before the request and its answer (the chunk in
            # flight, and one more if it committed in between), then after the answer (0: none).
            "rows_until_answer": answered_rows - before,
            "rows_after_answer": settled["processed_rows"] - answered_rows,
        }

    def undisturbed(self, path: Path) -> dict:
        started = time.monotonic()
        job_id = self.upload(path)
        body = self.wait(job_id, lambda b: b["status"] in FINISHED)
        seconds = time.monotonic() - started
        return {
            "status": body["status"],
            "seconds": round(seconds, 2),
            "rows_per_second": round(body["total_rows"] / seconds),
        }

    def controlled(self, path: Path, rows: int) -> dict:
        self.polls.clear()
        job_id = self.upload(path)
        # Pause a tenth of the way in and cancel at three tenths, whatever BENCH_CONTROL_ROWS is.
        processing = lambda b: b["status"] == "processing" and b["processed_rows"] >= rows // 10  # noqa: E731
        self.wait(job_id, processing)
        pause = self.control(job_id, "pause")
        resume = self.control(job_id, "resume", settle=False)
        self.wait(job_id, lambda b: b["processed_rows"] >= rows * 3 // 10)
        cancel = self.control(job_id, "cancel")
        polls = sorted(self.polls)
        return {
            "pause": pause,
            "resume": resume,
            "cancel": cancel,
            "polls": {
                "count": len(polls),
                "median_seconds": round(statistics.median(polls), 4),
                "p95_seconds": round(polls[int(len(polls) * 0.95)], 4),
                "max_seconds": round(polls[-1], 4),
                "errors": self.errors,
            },
        }


if __name__ == "__main__":
    sys.exit(main())
