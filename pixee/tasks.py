"""Celery shims for the project-wide jobs."""

from celery import shared_task

from . import retention


@shared_task
def apply_retention_policy() -> dict[str, int]:
    return retention.retention_apply()
