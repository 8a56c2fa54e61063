import pytest

from apps.core.errors import TransientError
from apps.core.jobs import job_execute
from apps.core.models import JobStatus
from apps.core.services import job_create


def test_a_stop_requested_before_a_temporary_error_ends_the_job_stopped_not_requeued(project):
    owner = project.memberships.get().user
    job = job_create(project=project, user=owner, kind="test.stopped_then_transient")
    job_execute(job_id=job.id)  # no TransientError escapes: nothing will retry it
    job.refresh_from_db()
    assert job.status == JobStatus.STOPPED
    assert job.lease is None


def test_a_temporary_error_without_a_stop_hands_the_job_back_for_a_retry(project):
    owner = project.memberships.get().user
    job = job_create(project=project, user=owner, kind="test.count", inputs={"n": 1, "delay": 0})
    from apps.core.models import Job

    def explode(*args, **kwargs):
        raise TransientError("broker hiccup")

    from apps.core import jobs

    kind = jobs.JOB_KINDS["test.count"]
    jobs.JOB_KINDS["test.count"] = jobs.JobKind(kind.name, kind.title, kind.queue, explode, None, "")
    try:
        with pytest.raises(TransientError):
            job_execute(job_id=job.id)
    finally:
        jobs.JOB_KINDS["test.count"] = kind
    job = Job.objects.get(id=job.id)
    assert job.status == JobStatus.PENDING
    assert job.attempt == 0
    assert "temporary problem" in job.message
