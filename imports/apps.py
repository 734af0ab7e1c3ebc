from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "imports"

    def ready(self) -> None:
        from pixee import retention as policy

        from . import retention

        policy.register(retention.purge)
