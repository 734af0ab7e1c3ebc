"""The Celery application; tasks live in each app's ``tasks.py``."""

import os
from pathlib import Path
from typing import Any

from celery import Celery
from celery.signals import beat_init, worker_init, worker_process_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pixee.settings")
# polars' allocator (jemalloc) keeps freed pages for 10 s by default: a worker validating batch
# after batch then held 100 MiB more than it used. A quarter of a second costs no measurable
# speed; releasing at once (0) cost half the validation's time.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:250,muzzy_decay_ms:0")

app = Celery("pixee")
app.config_from_object("django.conf:settings", namespace="CELERY")
# The apps' tasks modules are registered once Django is set up (``PixeeConfig.ready``).


def enqueue_task(task_name: str, *args: Any, **kwargs: Any) -> None:
    """Send the task registered as ``task_name`` to a worker.

    Services name the tasks they send instead of importing them: a ``tasks.py`` imports the
    services it calls, and importing it back would make a cycle. Every process registers every
    task at start, so a wrong name fails here, and eager mode (tests) runs the task in place.
    """
    app.tasks[task_name].delay(*args, **kwargs)


@worker_init.connect
@worker_process_init.connect
@beat_init.connect
def _yield_sqlite_writes_to_requests(**_kwargs) -> None:
    # The embedded default: the worker's and beat's writes let web requests go first.
    from pixee.sqlite import base

    base.BACKGROUND = True


@worker_ready.connect
def _announce_worker_ready(**_kwargs) -> None:
    _touch_ready("worker")


@beat_init.connect
def _announce_beat_ready(**_kwargs) -> None:
    _touch_ready("beat")


def _touch_ready(name: str) -> None:
    # scripts/run-embedded prints the credentials once web, worker and beat all answer.
    if ready_dir := os.environ.get("PIXEE_READY_DIR"):
        Path(ready_dir, name).touch()
