"""The Celery application; tasks live in each app's ``tasks.py``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pixee.settings")
# polars' allocator (jemalloc) keeps freed pages for 10 s by default: a worker validating batch
# after batch then held 100 MiB more than it used. A quarter of a second costs no measurable
# speed; releasing at once (0) cost half the validation's time.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:250,muzzy_decay_ms:0")

app = Celery("pixee")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
