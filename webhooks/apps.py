from django.apps import AppConfig

from automations.signals import automation_failed
from imports.signals import import_job_reverted, import_job_status_changed


class WebhooksConfig(AppConfig):
    name = "webhooks"

    def ready(self) -> None:
        from pixee import retention as policy

        from . import retention

        policy.register(retention.purge)
        # The receivers write models, which are importable once the apps are loaded.
        from . import receivers

        import_job_status_changed.connect(receivers.on_import_job_status_changed, dispatch_uid="webhooks")
        import_job_reverted.connect(receivers.on_import_job_reverted, dispatch_uid="webhooks")
        automation_failed.connect(receivers.on_automation_failed, dispatch_uid="webhooks")
