"""Celery shims: take an id, call one service."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_import_job(job_id: str) -> None:
    services.import_job_run(job_id=job_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def revert_import_job(job_id: str) -> None:
    services.import_job_revert_run(job_id=job_id)


@shared_task
def discard_import_data(job_id: str) -> None:
    services.import_job_discard_data(job_id=job_id)


@shared_task
def sweep_stalled_jobs() -> list[str]:
    # The same beat entry sweeps what interrupted uploads leave behind.
    services.upload_temp_files_sweep()
    return services.import_jobs_sweep()
