"""Automations in the admin: the automation admin (automation.py) and what it is made of."""

from django.contrib import admin
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

from .automation import AutomationAdmin

__all__ = ["AutomationAdmin"]

# django-celery-beat's models: each automation owns its periodic task and crontab, kept in step by
# the services; editing them by hand would break a schedule, so they stay off the admin.
for _beat_model in (PeriodicTask, IntervalSchedule, CrontabSchedule, SolarSchedule, ClockedSchedule):
    if admin.site.is_registered(_beat_model):
        admin.site.unregister(_beat_model)
