from django.apps import AppConfig


class PixeeConfig(AppConfig):
    name = "pixee"
    verbose_name = "API access"

    def ready(self) -> None:
        from . import schema  # noqa: F401  (registers the OpenAPI auth extension)
