"""Celery tasks for the job runtime. Thin: ids in, a service call, nothing returned."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from apps.core.artifacts import artifacts_sweep_incomplete
from apps.core.errors import TransientError
from apps.core.jobs import job_execute, job_give_up, jobs_reap


@shared_task(bind=True, name="jobs.run", acks_late=True, reject_on_worker_lost=True,
             max_retries=settings.JOB_TRANSIENT_RETRIES)
def run_job(self, job_id: int) -> None:
    try:
        job_execute(job_id=job_id)
    except TransientError as error:
        if self.request.retries >= self.max_retries:
            job_give_up(job_id=job_id, reason=str(error))
            return
        delay = settings.JOB_TRANSIENT_BACKOFF_SECONDS * 2**self.request.retries
        raise self.retry(exc=error, countdown=min(300, delay))


@shared_task(name="jobs.reap", acks_late=True)
def reap_jobs() -> dict[str, int]:
    counts = jobs_reap()
    counts["incomplete_artifact_files_removed"] = artifacts_sweep_incomplete()
    return counts
