"""job_create / job_stop / job_retry: the edges a user can reach, and messages sent only on commit."""

import json

import pytest
from django.db import transaction

from apps.core.artifacts import artifact_put_bytes
from apps.core.errors import Conflict, UserError
from apps.core.jobs import job_execute
from apps.core.models import Job, JobStatus
from apps.core.services import job_create, job_retry, job_stop


@pytest.fixture
def owner(project):
    return project.memberships.get().user


@pytest.fixture
def sends(monkeypatch):
    from studio.celery import app

    messages = []
    monkeypatch.setattr(app, "send_task", lambda name, args, **options: messages.append((name, args, options)))
    return messages


@pytest.mark.parametrize("status", [JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.STOPPED])
def test_stopping_an_ended_job_is_a_conflict_with_a_clear_message(project, owner, status):
    job = Job.objects.create(project=project, owner=owner, kind="test.count", title="t", status=status)
    with pytest.raises(Conflict) as refused:
        job_stop(job=job, user=owner)
    assert refused.value.message == f"This job has already ended ({job.get_status_display()})."
    assert Job.objects.get(id=job.id).status == status


def test_a_pending_job_stopped_before_it_starts_never_runs(project, owner, sends, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_create(project=project, user=owner, kind="test.count", inputs={"n": 2, "delay": 0})
    job = job_stop(job=job, user=owner)
    assert job.status == JobStatus.STOPPED and job.message == "Stopped before it started" and job.ended_at
    job_execute(job_id=job.id)  # the message the broker already had arrives anyway
    job.refresh_from_db()
    assert job.status == JobStatus.STOPPED and job.attempt == 0 and job.outputs == {}


def test_stopping_a_running_job_twice_keeps_it_stopping(project, owner):
    job = Job.objects.create(project=project, owner=owner, kind="test.count", title="t", status=JobStatus.IN_PROGRESS)
    job_stop(job=job, user=owner)
    job = job_stop(job=job, user=owner)
    assert job.status == JobStatus.STOPPING and job.ended_at is None


@pytest.mark.parametrize("status", [JobStatus.PENDING, JobStatus.IN_PROGRESS, JobStatus.STOPPING, JobStatus.COMPLETED])
def test_only_failed_or_stopped_jobs_can_be_retried(project, owner, status):
    job = Job.objects.create(project=project, owner=owner, kind="test.count", title="t", status=status)
    with pytest.raises(Conflict) as refused:
        job_retry(job=job, user=owner)
    assert "Only failed or stopped jobs can be retried" in refused.value.message


def test_retrying_a_job_whose_kind_is_gone_says_so(project, owner):
    job = Job.objects.create(project=project, owner=owner, kind="retired.kind", title="t", status=JobStatus.FAILED)
    with pytest.raises(UserError) as refused:
        job_retry(job=job, user=owner)
    assert refused.value.message == "There is no job kind called 'retired.kind'."


def test_a_retried_job_resumes_from_its_last_checkpoint(project, owner, sends, django_capture_on_commit_callbacks):
    checkpoint = artifact_put_bytes(data=json.dumps({"next": 3}).encode(), project=project, name="c",
                                    media_type="application/octet-stream", kind="checkpoint")
    job = Job.objects.create(project=project, owner=owner, kind="test.count", title="t", status=JobStatus.FAILED,
                             inputs={"n": 5, "delay": 0}, checkpoint=checkpoint, attempt=3, error="worker died")
    with django_capture_on_commit_callbacks(execute=True):
        job_retry(job=job, user=owner)
    assert [args for _, args, _ in sends] == [[job.id]]
    job_execute(job_id=job.id)
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED and job.attempt == 1
    assert job.outputs == {"count": 5, "resumed_from": 3}


def test_a_job_is_sent_to_its_queue_only_when_the_transaction_commits(project, owner, sends,
                                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            job = job_create(project=project, user=owner, kind="test.count")
            assert sends == []  # still inside the transaction: nothing went out
    assert sends == [("jobs.run", [job.id], sends[0][2])]
    assert sends[0][2]["queue"] == "default"
    assert Job.objects.get(id=job.id).enqueued_at is not None


def test_a_job_created_in_a_transaction_that_rolls_back_is_never_sent(project, owner, sends,
                                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                job_create(project=project, user=owner, kind="test.count")
                raise RuntimeError("the request failed after saving the job")
    assert callbacks == [] and sends == []
    assert not Job.objects.exists()


def test_an_unknown_kind_is_refused_before_anything_is_saved(project, owner, sends):
    with pytest.raises(UserError, match="There is no job kind called 'nope'"):
        job_create(project=project, user=owner, kind="nope")
    assert not Job.objects.exists()
