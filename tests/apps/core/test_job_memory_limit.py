import resource

from apps.core.jobs import job_execute
from apps.core.models import Job, JobStatus
from apps.core.services import job_create


def test_a_job_that_needs_more_memory_than_its_limit_fails_with_a_clear_reason(project, django_capture_on_commit_callbacks):
    owner = project.memberships.get().user
    before = resource.getrlimit(resource.RLIMIT_DATA)
    job = job_create(project=project, user=owner, kind="test.hog", inputs={"blocks": 32})
    job_execute(job_id=job.id)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "more than its memory limit of 64 MB" in job.error
    assert resource.getrlimit(resource.RLIMIT_DATA) == before  # the worker process gets its limit back


def test_a_job_within_its_memory_limit_completes(project):
    owner = project.memberships.get().user
    job = job_create(project=project, user=owner, kind="test.hog", inputs={"blocks": 1})
    job_execute(job_id=job.id)
    assert Job.objects.get(id=job.id).status == JobStatus.COMPLETED
