"""jobs_reap: no job stays InProgress or Stopping forever, and a job the broker never got is sent again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.jobs import jobs_reap
from apps.core.models import Job, JobLog, JobStatus


@pytest.fixture
def owner(project):
    return project.memberships.get().user


@pytest.fixture
def sent(monkeypatch):
    """Records what would go to the broker instead of sending it."""
    from studio.celery import app

    messages = []
    monkeypatch.setattr(app, "send_task", lambda name, args, **options: messages.append((name, args, options["queue"])))
    return messages


def make_job(project, owner, *, status, heartbeat_ago=None, created_ago=0, **fields):
    now = timezone.now()
    job = Job.objects.create(project=project, owner=owner, kind="test.count", title="Counting", status=status,
                             heartbeat_at=now - timedelta(seconds=heartbeat_ago) if heartbeat_ago is not None else None,
                             **fields)
    Job.objects.filter(id=job.id).update(created_at=now - timedelta(seconds=created_ago))
    return job


def test_a_stale_running_job_is_requeued_with_a_warning_and_sent_after_commit(
    project, owner, settings, sent, django_capture_on_commit_callbacks
):
    settings.JOB_STALE_AFTER_SECONDS = 30
    job = make_job(project, owner, status=JobStatus.IN_PROGRESS, heartbeat_ago=60, attempt=1, lease="8d0b7a0c-0000-4000-8000-000000000001",
                   enqueued_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        counts = jobs_reap()
    job.refresh_from_db()
    assert counts["requeued"] == 1
    assert job.status == JobStatus.PENDING and job.lease is None
    assert "re-queued (attempt 2 of 3)" in job.message
    assert JobLog.objects.filter(job=job, level="WARNING", message__contains="the worker stopped responding").exists()
    assert sent == [("jobs.run", [job.id], "default")]
    assert job.enqueued_at is not None


def test_a_stale_running_job_on_its_last_attempt_fails_with_the_reason(project, owner, settings, sent):
    settings.JOB_STALE_AFTER_SECONDS = 30
    job = make_job(project, owner, status=JobStatus.IN_PROGRESS, heartbeat_ago=60, attempt=3, max_attempts=3)
    counts = jobs_reap()
    job.refresh_from_db()
    assert counts["failed"] == 1 and counts["requeued"] == 0
    assert job.status == JobStatus.FAILED and job.ended_at is not None
    assert "started 3 times" in job.error and "press Retry" in job.error
    assert sent == []


def test_a_running_job_with_a_fresh_heartbeat_is_left_alone(project, owner, settings, sent):
    settings.JOB_STALE_AFTER_SECONDS = 30
    job = make_job(project, owner, status=JobStatus.IN_PROGRESS, heartbeat_ago=5, attempt=1, enqueued_at=timezone.now())
    assert jobs_reap() == {"requeued": 0, "failed": 0, "stopped": 0, "sent": 0}
    assert Job.objects.get(id=job.id).status == JobStatus.IN_PROGRESS


def test_a_stopping_job_whose_worker_vanished_ends_stopped(project, owner, settings):
    settings.JOB_STALE_AFTER_SECONDS = 30
    stale = make_job(project, owner, status=JobStatus.STOPPING, heartbeat_ago=60)
    fresh = make_job(project, owner, status=JobStatus.STOPPING, heartbeat_ago=1)
    assert jobs_reap()["stopped"] == 1
    stale.refresh_from_db()
    assert stale.status == JobStatus.STOPPED and stale.ended_at is not None
    assert "stopped responding" in stale.message
    assert Job.objects.get(id=fresh.id).status == JobStatus.STOPPING


def test_a_pending_job_the_broker_never_got_is_sent(project, owner, sent, django_capture_on_commit_callbacks):
    never_sent = make_job(project, owner, status=JobStatus.PENDING, created_ago=60)
    just_created = make_job(project, owner, status=JobStatus.PENDING, created_ago=0)
    already_sent = make_job(project, owner, status=JobStatus.PENDING, created_ago=60, enqueued_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs_reap()["sent"] == 1
    assert sent == [("jobs.run", [never_sent.id], "default")]
    assert Job.objects.get(id=never_sent.id).enqueued_at is not None
    assert Job.objects.get(id=just_created.id).enqueued_at is None
    assert already_sent.id not in [args[0] for _, args, _ in sent]


def test_a_broker_that_is_down_leaves_the_job_pending_for_the_next_reap(project, owner, monkeypatch,
                                                                       django_capture_on_commit_callbacks):
    from studio.celery import app

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(app, "send_task", refuse)
    job = make_job(project, owner, status=JobStatus.PENDING, created_ago=60)
    with django_capture_on_commit_callbacks(execute=True):
        jobs_reap()
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING and job.enqueued_at is None
