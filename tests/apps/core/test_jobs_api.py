"""/api/v1/jobs/: list with the shared filters, retrieve, logs, metrics, stop and retry, each behind roles."""

import pytest
from django.utils import timezone

from apps.core.models import Job, JobLog, JobMetric, JobStatus
from apps.core.roles import Role
from apps.core.services import project_create


@pytest.fixture
def owner(project):
    return project.memberships.get().user


def make_job(project, owner, *, status=JobStatus.PENDING, kind="test.count", title="A job", **fields):
    return Job.objects.create(project=project, owner=owner, kind=kind, title=title, status=status, **fields)


@pytest.fixture
def foreign_job(make_user):
    stranger = make_user("stranger")
    other = project_create(name="Beta", user=stranger)
    return make_job(other, stranger, title="Secret of Beta", status=JobStatus.IN_PROGRESS)


def test_list_returns_my_projects_jobs_only(api_client, project, owner, foreign_job):
    make_job(project, owner, title="Mine", status=JobStatus.COMPLETED, started_at=timezone.now(), ended_at=timezone.now())
    api_client.force_authenticate(owner)
    body = api_client.get("/api/v1/jobs/").json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["title"] == "Mine" and row["project"] == "alpha" and row["owner"] == "owner"
    assert row["status"] == "Completed" and row["duration_seconds"] >= 0


def test_list_filters_with_the_same_fields_as_the_page(api_client, project, owner, member):
    analyst = member(Role.ANALYST)
    make_job(project, owner, title="Broken", kind="test.fail", status=JobStatus.FAILED)
    make_job(project, analyst, title="Analyst's", status=JobStatus.COMPLETED)
    api_client.force_authenticate(owner)
    titles = lambda query: {row["title"] for row in api_client.get(f"/api/v1/jobs/?{query}").json()["results"]}  # noqa: E731
    assert titles("status=Failed") == {"Broken"}
    assert titles("kind=test.fail") == {"Broken"}
    assert titles("owner=analyst-user") == {"Analyst's"}
    assert titles("project=alpha&status=Completed") == {"Analyst's"}
    assert titles("title__startswith=B&id__gt=0") == {"Broken", "Analyst's"}  # not allowlisted: ignored


def test_list_refuses_an_invalid_filter_value_with_the_error_format(api_client, project, owner, foreign_job):
    api_client.force_authenticate(owner)
    response = api_client.get("/api/v1/jobs/?status=Exploded")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid" and "status" in response.json()["error"]["fields"]
    assert api_client.get("/api/v1/jobs/?project=beta").status_code == 400


def test_anonymous_gets_401_on_every_jobs_action(api_client, project, owner):
    job = make_job(project, owner)
    for method, url in [("get", "/api/v1/jobs/"), ("get", f"/api/v1/jobs/{job.id}/"),
                        ("get", f"/api/v1/jobs/{job.id}/logs/"), ("get", f"/api/v1/jobs/{job.id}/metrics/"),
                        ("post", f"/api/v1/jobs/{job.id}/stop/"), ("post", f"/api/v1/jobs/{job.id}/retry/")]:
        response = getattr(api_client, method)(url)
        assert response.status_code == 401, url
        assert response.json()["error"]["code"] == "not_authenticated"


def test_every_action_on_a_foreign_projects_job_answers_404(api_client, owner, foreign_job):
    api_client.force_authenticate(owner)
    for method, suffix in [("get", ""), ("get", "logs/"), ("get", "metrics/"), ("post", "stop/"), ("post", "retry/")]:
        response = getattr(api_client, method)(f"/api/v1/jobs/{foreign_job.id}/{suffix}")
        assert response.status_code == 404, suffix
        assert "Secret" not in response.content.decode()
    assert Job.objects.get(id=foreign_job.id).status == JobStatus.IN_PROGRESS


def test_retrieve_shows_the_traceback_only_to_site_admins(api_client, project, owner, make_user):
    job = make_job(project, owner, status=JobStatus.FAILED, error="It broke.", error_detail="Traceback: internals")
    api_client.force_authenticate(owner)
    body = api_client.get(f"/api/v1/jobs/{job.id}/").json()
    assert body["error"] == "It broke." and body["error_detail"] is None
    admin = make_user("root", superuser=True)
    project.memberships.create(user=admin, role=Role.LABELER)
    api_client.force_authenticate(admin)
    assert api_client.get(f"/api/v1/jobs/{job.id}/").json()["error_detail"] == "Traceback: internals"


def test_logs_tail_and_follow_after_a_line_id(api_client, project, owner):
    job = make_job(project, owner)
    lines = JobLog.objects.bulk_create([JobLog(job=job, message=f"line {index}", level="INFO") for index in range(250)])
    ids = list(JobLog.objects.filter(job=job).values_list("id", flat=True))
    api_client.force_authenticate(owner)
    tail = api_client.get(f"/api/v1/jobs/{job.id}/logs/").json()
    assert len(tail["lines"]) == 200 and tail["lines"][-1]["message"] == "line 249"
    newer = api_client.get(f"/api/v1/jobs/{job.id}/logs/?after={ids[247]}").json()
    assert [line["message"] for line in newer["lines"]] == ["line 248", "line 249"]
    assert newer["last_id"] == ids[-1] and newer["more"] is False
    assert api_client.get(f"/api/v1/jobs/{job.id}/logs/?after={ids[-1]}").json()["lines"] == []
    assert len(lines) == 250
    assert api_client.get(f"/api/v1/jobs/{job.id}/logs/?after=x").status_code == 400


def test_metrics_returns_latest_values_and_every_point(api_client, project, owner):
    job = make_job(project, owner, metrics={"loss": 0.2})
    for step, value in enumerate([0.9, 0.4, 0.2]):
        JobMetric.objects.create(job=job, name="loss", value=value, step=step)
    api_client.force_authenticate(owner)
    body = api_client.get(f"/api/v1/jobs/{job.id}/metrics/").json()
    assert body["latest"] == {"loss": 0.2}
    assert body["series"][0]["name"] == "loss"
    assert [(point["step"], point["value"]) for point in body["series"][0]["points"]] == [(0, 0.9), (1, 0.4), (2, 0.2)]


def test_stop_requests_a_stop_of_a_running_job(api_client, project, member):
    analyst = member(Role.ANALYST)
    job = make_job(project, analyst, status=JobStatus.IN_PROGRESS)
    api_client.force_authenticate(analyst)
    response = api_client.post(f"/api/v1/jobs/{job.id}/stop/")
    assert response.status_code == 200 and response.json()["status"] == "Stopping"
    assert Job.objects.get(id=job.id).stop_requested_by == analyst


def test_stop_of_an_ended_job_is_a_409_with_a_clear_message(api_client, project, owner):
    job = make_job(project, owner, status=JobStatus.COMPLETED)
    api_client.force_authenticate(owner)
    response = api_client.post(f"/api/v1/jobs/{job.id}/stop/")
    assert response.status_code == 409
    assert response.json()["error"] == {"code": "conflict", "message": "This job has already ended (Completed).", "fields": {}}


def test_retry_queues_a_failed_job_again(api_client, project, owner, django_capture_on_commit_callbacks):
    job = make_job(project, owner, status=JobStatus.FAILED, error="boom", attempt=3)
    api_client.force_authenticate(owner)
    with django_capture_on_commit_callbacks() as callbacks:
        response = api_client.post(f"/api/v1/jobs/{job.id}/retry/")
    assert response.status_code == 200
    assert response.json()["status"] == "Pending" and response.json()["attempt"] == 0 and response.json()["error"] == ""
    assert len(callbacks) == 1


def test_retry_of_a_running_job_is_a_409(api_client, project, owner):
    job = make_job(project, owner, status=JobStatus.IN_PROGRESS)
    api_client.force_authenticate(owner)
    response = api_client.post(f"/api/v1/jobs/{job.id}/retry/")
    assert response.status_code == 409
    assert "Only failed or stopped jobs can be retried; this one is In progress." == response.json()["error"]["message"]


@pytest.mark.parametrize("action", ["stop", "retry"])
def test_a_role_without_run_jobs_gets_403_on_stop_and_retry(api_client, project, owner, member, action):
    labeler = member(Role.LABELER)
    job = make_job(project, owner, status=JobStatus.IN_PROGRESS if action == "stop" else JobStatus.FAILED)
    api_client.force_authenticate(labeler)
    assert api_client.get(f"/api/v1/jobs/{job.id}/").status_code == 200  # may look
    response = api_client.post(f"/api/v1/jobs/{job.id}/{action}/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert Job.objects.get(id=job.id).status == job.status


def test_token_authentication_reaches_the_jobs_api(api_client, project, owner):
    make_job(project, owner, title="Mine")
    api_client.force_authenticate(owner, token=object())
    assert api_client.get("/api/v1/jobs/").json()["count"] == 1
