"""The embedded default's SQLite backend: the worker's writes let requests' go first."""

import os
import threading
import time

from django.db import OperationalError

from pixee import api
from pixee.sqlite import base


def test_background_write_waits_while_a_request_waits_for_the_lock(tmp_path):
    flags = tmp_path / "db.sqlite3-requests"
    flags.mkdir()
    flag = flags / "request"
    flag.touch()
    threading.Timer(0.3, flag.unlink).start()
    started = time.monotonic()
    base._wait_for_requests(flags)
    assert 0.25 < time.monotonic() - started < 2


def test_background_write_ignores_a_crashed_requests_flag_and_no_flags(tmp_path, monkeypatch):
    flags = tmp_path / "db.sqlite3-requests"
    started = time.monotonic()
    base._wait_for_requests(flags)  # no directory yet
    flags.mkdir()
    stale = flags / "crashed"
    stale.touch()
    old = time.time() - base.STALE_FLAG_SECONDS - 1
    os.utime(stale, (old, old))
    base._wait_for_requests(flags)
    assert time.monotonic() - started < 0.2


def test_background_write_takes_its_turn_after_the_longest_yield(tmp_path, monkeypatch):
    monkeypatch.setattr(base, "MAX_YIELD_SECONDS", 0.2)
    flags = tmp_path / "db.sqlite3-requests"
    flags.mkdir()
    (flags / "stuck").touch()
    started = time.monotonic()
    base._wait_for_requests(flags)
    assert 0.15 < time.monotonic() - started < 1


def test_a_locked_database_is_a_503_in_our_words_not_a_500():
    response = api.exception_handler(OperationalError("database is locked"), {})
    assert response is not None and response.status_code == 503
    assert response.data == {
        "detail": "The database is busy with another write; nothing was changed. Try again shortly."
    }
    assert response["Retry-After"] == "2"
    assert api.exception_handler(OperationalError("no such table: x"), {}) is None
