"""job_create, job_stop and job_retry at their edges: messages go out on commit only, and a request that
no longer makes sense gets a clear Conflict instead of a silent change."""

import pytest
from django.db import transaction
from django.utils import timezone

from apps.core.errors import Conflict, Forbidden, NotFound
from apps.core.jobs import job_enqueue
from apps.core.models import Job, JobStatus
from apps.core.roles import Role
from apps.core.services import job_create, job_retry, job_stop


def _job(project, owner, status: str, **fields) -> Job:
    return Job.objects.create(project=project, owner=owner, kind="test.count", title="Count", status=status,
                              enqueued_at=timezone.now(), **fields)


def test_a_job_is_sent_only_when_its_transaction_commits(project, owner, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = job_create(project=project, user=owner, kind="test.count")
        assert sent == [], "nothing reaches the broker before the job row is committed"
    assert len(callbacks) == 1
    assert sent == [("jobs.run", [job.id], "default")]
    assert Job.objects.get(id=job.id).enqueued_at is not None


def test_a_job_whose_transaction_rolls_back_is_never_sent(project, owner, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            job_create(project=project, user=owner, kind="test.count")
            raise RuntimeError("rolled back")
    assert callbacks == [] and sent == []
    assert not Job.objects.exists()


def test_enqueue_sends_to_the_queue_of_the_job(project, owner, sent, django_capture_on_commit_callbacks):
    job = _job(project, owner, JobStatus.PENDING, queue="training")
    with django_capture_on_commit_callbacks(execute=True):
        job_enqueue(job)
    assert sent == [("jobs.run", [job.id], "training")]


def test_an_unknown_job_kind_is_refused_with_a_message(project, owner):
    with pytest.raises(Exception) as caught:
        job_create(project=project, user=owner, kind="no.such.kind")
    assert caught.value.message == "There is no job kind called 'no.such.kind'."


@pytest.mark.parametrize("status", [JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.STOPPED])
def test_stopping_an_ended_job_is_a_conflict_that_says_why(project, owner, status):
    job = _job(project, owner, status, ended_at=timezone.now())
    with pytest.raises(Conflict) as caught:
        job_stop(job=job, user=owner)
    assert caught.value.message == f"This job has already ended ({Job(status=status).get_status_display()})."
    assert Job.objects.get(id=job.id).status == status


def test_stopping_a_pending_job_stops_it_at_once(project, owner):
    job = _job(project, owner, JobStatus.PENDING)
    job = job_stop(job=job, user=owner)
    assert job.status == JobStatus.STOPPED and job.ended_at is not None
    assert job.message == "Stopped before it started"


def test_stopping_a_running_job_asks_its_worker_to_stop(project, owner):
    job = _job(project, owner, JobStatus.IN_PROGRESS)
    job = job_stop(job=job, user=owner)
    assert job.status == JobStatus.STOPPING and job.ended_at is None
    assert job.stop_requested_by == owner
    assert job.logs.get().message == "Stop requested by owner."


def test_stopping_twice_keeps_the_job_stopping(project, owner):
    job = job_stop(job=_job(project, owner, JobStatus.IN_PROGRESS), user=owner)
    job = job_stop(job=job, user=owner)
    assert job.status == JobStatus.STOPPING


@pytest.mark.parametrize("status", [JobStatus.PENDING, JobStatus.IN_PROGRESS, JobStatus.STOPPING, JobStatus.COMPLETED])
def test_only_failed_or_stopped_jobs_can_be_retried(project, owner, status):
    job = _job(project, owner, status)
    with pytest.raises(Conflict) as caught:
        job_retry(job=job, user=owner)
    assert "Only failed or stopped jobs can be retried" in caught.value.message


def test_retrying_a_failed_job_queues_it_again_with_a_clean_slate_and_keeps_its_checkpoint(
    project, owner, sent, django_capture_on_commit_callbacks
):
    from apps.core.artifacts import artifact_put_bytes

    checkpoint = artifact_put_bytes(data=b'{"next": 4}', project=project, name="cp", media_type="application/json",
                                    kind="checkpoint")
    job = _job(project, owner, JobStatus.FAILED, attempt=3, error="It broke.", error_detail="Traceback ...",
               ended_at=timezone.now(), progress=40, checkpoint=checkpoint)
    with django_capture_on_commit_callbacks(execute=True):
        job = job_retry(job=job, user=owner)

    job.refresh_from_db()
    assert job.status == JobStatus.PENDING and job.attempt == 0 and job.progress == 0
    assert job.error == "" and job.error_detail == "" and job.ended_at is None
    assert job.checkpoint == checkpoint, "the retry resumes where the job got to"
    assert sent == [("jobs.run", [job.id], "default")]


@pytest.mark.parametrize("service", [job_stop, job_retry])
def test_a_role_without_run_jobs_cannot_stop_or_retry(project, owner, member, service):
    labeler = member(Role.LABELER)
    job = _job(project, owner, JobStatus.FAILED if service is job_retry else JobStatus.IN_PROGRESS)
    with pytest.raises(Forbidden):
        service(job=job, user=labeler)
    assert Job.objects.get(id=job.id).status == job.status


@pytest.mark.parametrize("service", [job_stop, job_retry])
def test_a_stranger_cannot_stop_or_retry(project, owner, make_user, service):
    job = _job(project, owner, JobStatus.FAILED if service is job_retry else JobStatus.IN_PROGRESS)
    with pytest.raises(NotFound):
        service(job=job, user=make_user("stranger"))
