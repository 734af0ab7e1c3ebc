from django.apps import AppConfig

from .celery import app as celery_app


class PixeeConfig(AppConfig):
    name = "pixee"
    verbose_name = "API access"

    def ready(self) -> None:
        from . import schema  # noqa: F401  (registers the OpenAPI auth extension)

        # Every app's tasks.py, in every process (web, worker, beat, tests): services send tasks
        # by name (``pixee.celery.enqueue_task``), and the name must be known where it is sent.
        celery_app.autodiscover_tasks(force=True)
