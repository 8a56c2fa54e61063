"""A real Celery worker process (not eager mode) runs jobs end to end: progress, outputs, metrics, stop,
and the two kinds of failure a user can meet."""

import time

import pytest

from apps.core.models import Job, JobMetric, JobStatus
from apps.core.services import job_create, job_stop
from tests.conftest import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.worker]


def _status(job_id: int) -> str:
    return Job.objects.values_list("status", flat=True).get(id=job_id)


def test_a_job_runs_in_the_worker_reports_rising_progress_and_completes_with_outputs_and_metrics(
    celery_worker, project
):
    celery_worker()
    job = job_create(project=project, user=project.created_by, kind="test.count", inputs={"n": 12, "delay": 0.25})

    seen: list[float] = []
    deadline = time.monotonic() + 60
    while _status(job.id) != JobStatus.COMPLETED and time.monotonic() < deadline:
        progress = Job.objects.values_list("progress", flat=True).get(id=job.id)
        if not seen or progress != seen[-1]:
            seen.append(progress)
        time.sleep(0.05)

    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED, job.error
    assert seen == sorted(seen), "progress never goes backwards"
    assert len([value for value in seen if 0 < value < 100]) >= 2, f"progress seen while running: {seen}"
    assert job.progress == 100
    assert job.outputs == {"count": 12, "resumed_from": 0}
    assert job.metrics == {"value": 121.0}
    assert list(JobMetric.objects.filter(job=job).values_list("step", flat=True)) == list(range(12))
    assert job.attempt == 1
    assert job.started_at and job.ended_at and job.ended_at > job.started_at
    assert job.logs.filter(message="Completed.").exists()


def test_a_running_job_stopped_by_its_owner_ends_stopped_before_it_finishes(celery_worker, project):
    celery_worker()
    job = job_create(project=project, user=project.created_by, kind="test.count", inputs={"n": 200, "delay": 0.05})
    wait_for(lambda: Job.objects.filter(id=job.id, status=JobStatus.IN_PROGRESS, progress__gt=0).exists())

    job_stop(job=job, user=project.created_by)

    wait_for(lambda: _status(job.id) == JobStatus.STOPPED, timeout=20)
    job.refresh_from_db()
    assert job.progress < 100
    assert job.message == "Stopped"
    assert job.ended_at is not None and job.lease is None
    messages = list(job.logs.values_list("message", flat=True))
    assert "Stop requested by owner." in messages
    assert messages[-1] == "Stopped on request."


def test_a_job_that_raises_a_user_error_fails_with_that_message_and_no_traceback(celery_worker, project):
    celery_worker()
    job = job_create(project=project, user=project.created_by, kind="test.fail", inputs={"user_error": True})

    wait_for(lambda: _status(job.id) == JobStatus.FAILED)
    job.refresh_from_db()
    assert job.error == "The input has no column called 'price'."
    assert job.error_detail == ""
    assert job.attempt == 1


def test_an_unexpected_error_shows_a_generic_message_and_keeps_the_traceback_for_admins(celery_worker, project):
    celery_worker()
    job = job_create(project=project, user=project.created_by, kind="test.fail")

    wait_for(lambda: _status(job.id) == JobStatus.FAILED)
    job.refresh_from_db()
    assert job.error == "An unexpected error stopped this job (RuntimeError). An admin can see the details."
    assert "boom" not in job.error
    assert "Traceback (most recent call last)" in job.error_detail
    assert 'RuntimeError("boom")' in job.error_detail or "RuntimeError: boom" in job.error_detail
