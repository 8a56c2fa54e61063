"""What happens to jobs when workers die, the broker hiccups or a message is not what it should be.
Every test runs real `celery worker` processes against the test database and broker."""

import pytest
from django.db import transaction
from django.utils import timezone

from apps.core.jobs import jobs_reap
from apps.core.models import Job, JobMetric, JobStatus
from apps.core.services import job_create
from studio.celery import app
from tests.conftest import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.worker]

STALE_AFTER = 4  # the same as the test workers' STUDIO_JOB_STALE_AFTER_SECONDS


@pytest.fixture
def fast_reaper(settings):
    settings.JOB_STALE_AFTER_SECONDS = STALE_AFTER


def _job(job_id: int) -> Job:
    return Job.objects.get(id=job_id)


def _reap_until(predicate, timeout: float = 40.0):
    """Run the reaper the way beat would (often) until predicate() holds."""
    return wait_for(lambda: (jobs_reap(), predicate())[1], timeout=timeout, interval=0.5)


def _queue_length(name: str = "default") -> int:
    with app.connection_for_write() as connection:
        return connection.default_channel.client.llen(name)


def test_a_job_whose_whole_worker_is_killed_resumes_from_its_checkpoint_on_a_new_worker(
    celery_worker, project, fast_reaper
):
    first = celery_worker()
    job = job_create(project=project, user=project.created_by, kind="test.count", inputs={"n": 20, "delay": 0.2})
    wait_for(lambda: _job(job.id).progress >= 25)

    first.kill()  # SIGKILL to the main process and its pool child at once: nothing is acknowledged or cleaned up
    assert _job(job.id).status == JobStatus.IN_PROGRESS
    celery_worker()

    _reap_until(lambda: _job(job.id).attempt == 2)
    wait_for(lambda: _job(job.id).status == JobStatus.COMPLETED, timeout=30)
    job.refresh_from_db()
    assert job.attempt == 2
    assert job.outputs["count"] == 20
    assert 5 <= job.outputs["resumed_from"] < 20
    steps = set(JobMetric.objects.filter(job=job).values_list("step", flat=True))
    assert steps == set(range(20)), "every step ran, none was lost with the dead worker"
    messages = list(job.logs.values_list("message", flat=True))
    assert any(message.startswith("No heartbeat since") for message in messages)
    assert f"Resuming from step {job.outputs['resumed_from']}." in messages


def test_a_job_whose_worker_dies_on_every_attempt_ends_failed_with_the_reason_after_three_attempts(
    celery_worker, project, fast_reaper
):
    celery_worker()
    job = job_create(project=project, user=project.created_by, kind="test.die")

    _reap_until(lambda: _job(job.id).status == JobStatus.FAILED, timeout=60)
    job.refresh_from_db()
    assert job.attempt == 3 == job.max_attempts
    assert "was started 3 times" in job.error
    assert "stopped responding" in job.error
    assert job.ended_at is not None and job.lease is None
    assert job.logs.filter(message="About to be killed.").count() == 3


def test_a_temporary_error_is_retried_with_backoff_and_the_job_then_completes(celery_worker, project):
    celery_worker(STUDIO_JOB_TRANSIENT_RETRIES="3", STUDIO_JOB_TRANSIENT_BACKOFF_SECONDS="1")
    started = timezone.now()
    job = job_create(project=project, user=project.created_by, kind="test.flaky", inputs={"fail_times": 2})

    wait_for(lambda: _job(job.id).status == JobStatus.COMPLETED, timeout=40)
    job.refresh_from_db()
    assert job.outputs == {"tries": 3}
    assert job.attempt == 1, "a temporary problem does not use up the job's attempts"
    assert (job.ended_at - started).total_seconds() >= 1 + 2, "the retries waited 1 s, then 2 s"


def test_a_temporary_error_that_outlasts_every_retry_fails_the_job_with_a_clear_message(celery_worker, project):
    celery_worker(STUDIO_JOB_TRANSIENT_RETRIES="2", STUDIO_JOB_TRANSIENT_BACKOFF_SECONDS="1")
    job = job_create(project=project, user=project.created_by, kind="test.flaky", inputs={"fail_times": 99})

    wait_for(lambda: _job(job.id).status == JobStatus.FAILED, timeout=40)
    job.refresh_from_db()
    assert job.error == (
        "A temporary problem lasted through every retry, so the job stopped: "
        "the feature store was unreachable (try 3)"
    )
    assert job.ended_at is not None


def test_a_job_created_in_a_transaction_that_rolls_back_sends_no_message(celery_worker, project):
    assert _queue_length() == 0
    with pytest.raises(RuntimeError), transaction.atomic():
        job_create(project=project, user=project.created_by, kind="test.count")
        raise RuntimeError("the request failed after the job was saved")

    assert _queue_length() == 0
    assert not Job.objects.exists()
    job_create(project=project, user=project.created_by, kind="test.count")
    assert _queue_length() == 1, "a committed job does reach the broker"


def test_the_worker_refuses_a_pickled_message(celery_worker, project):
    worker = celery_worker()
    smuggled = Job.objects.create(project=project, owner=project.created_by, kind="test.count", title="smuggled",
                                  inputs={"n": 1, "delay": 0}, enqueued_at=timezone.now())
    app.send_task("jobs.run", args=[smuggled.id], queue="default", serializer="pickle")
    honest = job_create(project=project, user=project.created_by, kind="test.count", inputs={"n": 1, "delay": 0})

    wait_for(lambda: _job(honest.id).status == JobStatus.COMPLETED)
    smuggled.refresh_from_db()
    assert smuggled.status == JobStatus.PENDING and smuggled.attempt == 0, "the pickled message never ran"
    log = worker.log_path.read_text()
    assert "Refusing to deserialize untrusted content of type pickle" in log
