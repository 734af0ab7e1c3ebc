from django.apps import AppConfig
from django.db.models.signals import post_delete


class AutomationsConfig(AppConfig):
    name = "automations"

    def ready(self) -> None:
        from pixee import retention as policy

        from . import retention

        policy.register(retention.purge)
        from . import services
        from .models import Automation

        def remove_schedule(sender, instance: Automation, **kwargs) -> None:
            services.automation_schedule_remove(periodic_task_id=instance.periodic_task_id)

        # Every deletion path (API, admin, the owner's deletion cascading) takes the schedule along.
        post_delete.connect(
            remove_schedule, sender=Automation, dispatch_uid="automations.remove_schedule", weak=False
        )
