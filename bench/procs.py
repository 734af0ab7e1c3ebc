"""The processes a benchmark drives: the web server (gunicorn) and a real Celery worker.

Both run as in production, in their own process groups, on the bench database and broker; the
worker's memory is read from /proc (Linux), its pool children included, since they run the jobs.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Process:
    """A child process started in its own session, so stopping it stops its children too."""

    def __init__(self, args: list[str], *, env: dict[str, str], log: Path, ready: str | None = None):
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        self._out = log.open("w")
        self.process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True
        )
        if ready:
            self._wait_for_log(ready)

    @property
    def pid(self) -> int:
        return self.process.pid

    def _wait_for_log(self, text: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.log.name}: did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            # Our own process group only (start_new_session): the worker's pool children go with it.
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._out.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_web(env: dict[str, str], log: Path) -> tuple[Process, str]:
    port = free_port()
    process = Process(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "pixee.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--timeout",
            "600",
        ],
        env=env,
        log=log,
        ready="Booting worker",
    )
    return process, f"http://127.0.0.1:{port}"


def start_worker(env: dict[str, str], log: Path, concurrency: int = 2) -> Process:
    """A fresh worker, so its pool children's peak memory belongs to this measurement alone."""
    return Process(
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
            f"bench-{os.getpid()}-{time.monotonic_ns()}@%h",
        ],
        env=env,
        log=log,
        ready=" ready.",
    )


def _children(pid: int) -> list[int]:
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        return [int(c) for t in tasks for c in (t / "children").read_text().split()]
    except OSError:
        return []


def _status_kib(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class MemorySampler:
    """Peak resident memory of a process tree: polled VmRSS, and each process's own VmHWM.

    VmHWM (the kernel's high-water mark) catches peaks between two polls; polling catches pool
    children that a worker replaced in the meantime.
    """

    def __init__(self, pid: int, interval: float = 0.1):
        self.pid = pid
        self.interval = interval
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _sample(self) -> None:
        for pid in (self.pid, *_children(self.pid)):
            peak = max(_status_kib(pid, "VmRSS"), _status_kib(pid, "VmHWM"))
            if peak:
                self.peaks[pid] = max(self.peaks.get(pid, 0), peak)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    @property
    def parent_mib(self) -> float:
        return self.peaks.get(self.pid, 0) / 1024

    @property
    def child_mib(self) -> float:
        """The largest pool child: the process that ran the import."""
        return max((kib for pid, kib in self.peaks.items() if pid != self.pid), default=0) / 1024
