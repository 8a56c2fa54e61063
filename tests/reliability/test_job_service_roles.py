"""job_stop and job_retry check the run-jobs role themselves, so every caller (page, API, command) is covered."""

import pytest
from django.utils import timezone

from apps.core.errors import Forbidden, NotFound
from apps.core.models import Job, JobStatus
from apps.core.roles import Role
from apps.core.services import job_retry, job_stop

CASES = [(job_stop, JobStatus.IN_PROGRESS), (job_retry, JobStatus.FAILED)]


def _job(project, status: str) -> Job:
    return Job.objects.create(project=project, owner=project.created_by, kind="test.count", title="Count",
                              status=status, enqueued_at=timezone.now())


@pytest.mark.parametrize(("service", "status"), CASES)
def test_a_member_whose_role_cannot_run_jobs_is_refused_and_nothing_changes(project, member, service, status):
    job = _job(project, status)
    with pytest.raises(Forbidden) as caught:
        service(job=job, user=member(Role.LABELER))
    assert caught.value.message == "Your role in Alpha (Labeler) does not allow you to run jobs."
    assert Job.objects.get(id=job.id).status == status


@pytest.mark.parametrize(("service", "status"), CASES)
def test_someone_outside_the_project_is_told_it_does_not_exist(project, make_user, service, status):
    job = _job(project, status)
    with pytest.raises(NotFound):
        service(job=job, user=make_user("stranger"))
    assert Job.objects.get(id=job.id).status == status


@pytest.mark.parametrize(("service", "status"), CASES)
def test_an_analyst_may_stop_and_retry(project, member, service, status):
    job = service(job=_job(project, status), user=member(Role.ANALYST))
    assert job.status != status
