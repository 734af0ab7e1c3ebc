"""Django's SQLite backend, where a web request's write goes before the worker's next chunk.

SQLite has one writer at a time and its busy handler polls: a request waiting for the lock
wakes every 100 ms, while the worker, reading ahead, starts its next chunk's transaction
microseconds after committing the last. Requests (pause, cancel, an API key's ``last_used_at``)
then starved for the whole import and answered "database is locked". Here a foreground process
raises a flag (a file next to the database) while it waits for the lock; a background process
(Celery worker, beat) does not begin a write while a fresh flag is up. A request therefore waits
at most for the chunk in progress.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from contextlib import suppress
from pathlib import Path

from django.db.backends.sqlite3 import base

# Set by the Celery worker and beat (pixee/celery.py): their writes yield to requests'.
BACKGROUND = False
# A flag older than this is a crashed request's: ignored, so the worker never waits for good.
STALE_FLAG_SECONDS = 30.0
# A background write waits at most this long for requests, then takes its turn anyway.
MAX_YIELD_SECONDS = 5.0


class DatabaseWrapper(base.DatabaseWrapper):
    def _start_transaction_under_autocommit(self) -> None:
        if self.is_in_memory_db():
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
            return
        if BACKGROUND:
            _wait_for_requests(self._flag_dir())
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
            return
        flag = self._flag_dir() / f"{os.getpid()}-{threading.get_ident()}-{uuid.uuid4().hex}"
        flag.parent.mkdir(parents=True, exist_ok=True)
        flag.touch()
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        finally:
            # Holding the write lock now (or having failed): the worker may queue behind it.
            with suppress(FileNotFoundError):
                flag.unlink()

    def _flag_dir(self) -> Path:
        return Path(f"{self.settings_dict['NAME']}-requests")


def _wait_for_requests(flags: Path) -> None:
    deadline = time.monotonic() + MAX_YIELD_SECONDS
    while time.monotonic() < deadline:
        try:
            entries = list(os.scandir(flags))
        except FileNotFoundError:
            return
        now = time.time()
        fresh = False
        for entry in entries:
            with suppress(FileNotFoundError):
                if now - entry.stat().st_mtime < STALE_FLAG_SECONDS:
                    fresh = True
                    break
        if not fresh:
            return
        time.sleep(0.005)
