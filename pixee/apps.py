from django.apps import AppConfig


class PixeeConfig(AppConfig):
    name = "pixee"
    verbose_name = "API access"
