"""The lease: once a worker is presumed dead and the job moved on, nothing that worker does can change it."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.jobs import DatabaseJobContext, LeaseLost, _claim, _finish, job_execute, job_kind, jobs_reap
from apps.core.models import Job, JobLog, JobMetric, JobStatus
from apps.core.services import job_create


@job_kind("test.overtaken", title="Finishes after another attempt took over")
def overtaken(job, ctx):
    # What the reaper and a second worker would do while this attempt hangs: take the job over.
    Job.objects.filter(id=job.id).update(lease="00000000-0000-4000-8000-00000000abcd", attempt=2, message="attempt 2 running")
    return {"from": "the zombie"}


@pytest.fixture
def owner(project):
    return project.memberships.get().user


def _take_over(job_id: int, settings) -> tuple[Job, object]:
    """Make the current attempt look dead, reap it, and claim the job for a new attempt."""
    settings.JOB_STALE_AFTER_SECONDS = 30
    Job.objects.filter(id=job_id).update(heartbeat_at=timezone.now() - timedelta(seconds=60))
    jobs_reap()
    claimed = _claim(job_id)
    assert claimed is not None
    return claimed


def test_a_zombie_attempts_finish_cannot_overwrite_the_new_attempt(project, owner, settings):
    job = job_create(project=project, user=owner, kind="test.count")
    first, zombie_lease = _claim(job.id)
    second, live_lease = _take_over(job.id, settings)
    assert second.attempt == 2 and live_lease != zombie_lease

    assert _finish(job.id, zombie_lease, status=JobStatus.COMPLETED, outputs={"count": 0}) is False
    job.refresh_from_db()
    assert job.status == JobStatus.IN_PROGRESS and str(job.lease) == str(live_lease) and job.outputs == {}
    assert _finish(job.id, live_lease, status=JobStatus.COMPLETED, outputs={"count": 10}) is True
    assert Job.objects.get(id=job.id).outputs == {"count": 10}


def test_every_report_of_a_zombie_attempt_raises_lease_lost_and_writes_nothing(project, owner, settings):
    job = job_create(project=project, user=owner, kind="test.count")
    first, zombie_lease = _claim(job.id)
    _take_over(job.id, settings)
    zombie = DatabaseJobContext(first, zombie_lease)
    zombie._progress_throttle.ready = lambda: True  # report every time, not twice a second
    zombie._stop_throttle.ready = lambda: True
    checkpoint_before = Job.objects.get(id=job.id).checkpoint_id
    for report in (lambda: zombie.progress(50, "zombie"), lambda: zombie.metric("loss", 1.0, step=1),
                   lambda: zombie.save_checkpoint(json.dumps({"next": 99}).encode()), zombie.should_stop):
        with pytest.raises(LeaseLost):
            report()
    job.refresh_from_db()
    assert job.progress == 0 and job.message != "zombie" and job.checkpoint_id == checkpoint_before
    assert not JobMetric.objects.filter(job=job).exists()
    with pytest.raises(LeaseLost):
        zombie.log("a line from beyond")
    assert not JobLog.objects.filter(job=job, message="a line from beyond").exists()


def test_a_handler_that_returns_after_losing_its_lease_does_not_complete_the_job(project, owner):
    job = job_create(project=project, user=owner, kind="test.overtaken")
    job_execute(job_id=job.id)
    job.refresh_from_db()
    assert job.status == JobStatus.IN_PROGRESS and job.attempt == 2 and job.message == "attempt 2 running"
    assert job.outputs == {} and job.ended_at is None
    assert not job.logs.filter(message="Completed.").exists()  # the live attempt's log tells no false story


def test_a_second_delivery_while_the_first_attempt_is_alive_is_skipped(project, owner):
    job = job_create(project=project, user=owner, kind="test.count")
    _, lease = _claim(job.id)
    assert _claim(job.id) is None
    job_execute(job_id=job.id)  # the duplicate delivery: does nothing
    job.refresh_from_db()
    assert job.attempt == 1 and str(job.lease) == str(lease) and job.status == JobStatus.IN_PROGRESS


def test_a_delivery_past_the_attempt_cap_fails_the_job_with_the_reason(project, owner):
    job = job_create(project=project, user=owner, kind="test.count")
    Job.objects.filter(id=job.id).update(attempt=3, max_attempts=3)
    job_execute(job_id=job.id)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "started 4 times" in job.error
