"""The jobs pages: list with shared filters, live detail, Stop and Retry, and who may see what."""

import re

import pytest
from django.utils import timezone

from apps.core.models import Job, JobLog, JobMetric, JobStatus
from apps.core.roles import Role
from apps.core.services import job_create, project_create


def make_job(project, owner, *, status=JobStatus.PENDING, kind="test.count", title="", **fields):
    job = Job.objects.create(project=project, owner=owner, kind=kind, title=title or f"{kind} job", status=status, **fields)
    return job


@pytest.fixture
def owner(project):
    return project.memberships.get().user


def test_the_job_list_shows_only_jobs_of_my_projects_with_their_status_badge(client, project, owner, make_user):
    stranger = make_user("stranger")
    other = project_create(name="Beta", user=stranger)
    make_job(project, owner, title="Mine", status=JobStatus.COMPLETED, started_at=timezone.now())
    make_job(other, stranger, title="Secret of Beta")
    client.force_login(owner)
    response = client.get("/jobs/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Mine" in page and "Secret of Beta" not in page
    assert 'class="badge status-Completed"' in page
    assert "Alpha" in page and "test.count" in page


@pytest.mark.parametrize(("query", "expected"), [
    ("status=Failed", {"Broken"}),
    ("kind=test.fail", {"Broken"}),
    ("owner=analyst-user", {"Analyst's"}),
    ("project=alpha", {"Broken", "Counting", "Analyst's"}),
    ("status=Completed&kind=test.fail", set()),
])
def test_the_job_list_filters_by_kind_status_owner_and_project(client, project, owner, member, query, expected):
    analyst = member(Role.ANALYST)
    make_job(project, owner, title="Broken", kind="test.fail", status=JobStatus.FAILED)
    make_job(project, owner, title="Counting", status=JobStatus.IN_PROGRESS)
    make_job(project, analyst, title="Analyst's", status=JobStatus.COMPLETED)
    client.force_login(owner)
    page = client.get(f"/jobs/?{query}").content.decode()
    shown = set(re.findall(r'/jobs/\d+/">([^<]+)</a>', page))
    assert {title.replace("'", "&#x27;") for title in expected} == shown


def test_a_filter_naming_a_foreign_project_is_refused_and_shows_nothing_of_it(client, project, owner, make_user):
    stranger = make_user("stranger")
    other = project_create(name="Beta", user=stranger)
    make_job(other, stranger, title="Secret of Beta")
    client.force_login(owner)
    page = client.get("/jobs/?project=beta").content.decode()
    assert "Secret of Beta" not in page
    assert "Select a valid choice" in page


def test_an_htmx_filter_request_gets_only_the_table(client, project, owner):
    make_job(project, owner, title="Counting")
    client.force_login(owner)
    response = client.get("/jobs/?status=Pending", headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "Counting" in body
    assert "<html" not in body and "<form" not in body


def test_the_job_list_pages_through_many_jobs(client, project, owner):
    for index in range(30):
        make_job(project, owner, title=f"Job number {index}")
    client.force_login(owner)
    first = client.get("/jobs/").content.decode()
    second = client.get("/jobs/?page=2").content.decode()
    assert "Page 1 of 2" in first and "Job number 29" in first and "Job number 0<" not in first
    assert "Job number 0<" in second


def test_anonymous_visitors_are_sent_to_login(client, project, owner):
    job = make_job(project, owner)
    for url in ("/jobs/", f"/jobs/{job.id}/", f"/jobs/{job.id}/live/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_job_of_a_project_i_cannot_see_answers_404(client, project, owner, make_user):
    job = make_job(project, owner, title="Private")
    client.force_login(make_user("stranger"))
    for url in (f"/jobs/{job.id}/", f"/jobs/{job.id}/live/"):
        response = client.get(url)
        assert response.status_code == 404
        assert b"Private" not in response.content
    assert client.post(f"/jobs/{job.id}/stop/").status_code == 404
    assert client.post(f"/jobs/{job.id}/retry/").status_code == 404


def test_the_detail_page_polls_a_running_job_and_shows_progress_attempts_and_log(client, project, owner):
    job = make_job(project, owner, status=JobStatus.IN_PROGRESS, progress=42.0, message="Step 4 of 10",
                   attempt=2, max_attempts=3, started_at=timezone.now())
    JobLog.objects.create(job=job, level="WARNING", message="Disk is nearly full")
    client.force_login(owner)
    page = client.get(f"/jobs/{job.id}/").content.decode()
    assert f'hx-get="/jobs/{job.id}/live/"' in page and 'hx-trigger="every 1s"' in page
    assert '<progress max="100" value="42">' in page
    assert "Step 4 of 10" in page and "attempt 2 of 3" in page
    assert '<div class="WARNING">' in page and "Disk is nearly full" in page
    assert ">Stop</button>" in page and ">Retry</button>" not in page
    assert "vendor/plotly.min.js" in page
    assert "<script>" not in page  # no inline scripts (CSP)


def test_the_live_partial_keeps_polling_while_active_and_answers_286_once_ended(client, project, owner):
    job = make_job(project, owner, status=JobStatus.IN_PROGRESS, progress=10.0)
    client.force_login(owner)
    running = client.get(f"/jobs/{job.id}/live/", headers={"HX-Request": "true"})
    assert running.status_code == 200 and b"<html" not in running.content
    Job.objects.filter(id=job.id).update(status=JobStatus.COMPLETED, progress=100.0, ended_at=timezone.now())
    ended = client.get(f"/jobs/{job.id}/live/", headers={"HX-Request": "true"})
    assert ended.status_code == 286
    assert b'value="100"' in ended.content
    assert b"every 1s" not in client.get(f"/jobs/{job.id}/").content


def test_the_log_tail_shows_the_last_200_lines(client, project, owner):
    job = make_job(project, owner, status=JobStatus.IN_PROGRESS)
    JobLog.objects.bulk_create([JobLog(job=job, message=f"line {index}.") for index in range(250)])
    client.force_login(owner)
    page = client.get(f"/jobs/{job.id}/live/").content.decode()
    assert "line 249." in page and "line 50." in page and "line 49." not in page
    assert "Showing the last 200 lines" in page


def test_metrics_show_latest_values_and_one_chart_per_metric(client, project, owner):
    job = make_job(project, owner, status=JobStatus.COMPLETED, metrics={"loss": 0.25, "accuracy": 0.9})
    for step, (loss, accuracy) in enumerate([(0.9, 0.5), (0.5, 0.8), (0.25, 0.9)]):
        JobMetric.objects.create(job=job, name="loss", value=loss, step=step)
        JobMetric.objects.create(job=job, name="accuracy", value=accuracy, step=step)
    client.force_login(owner)
    page = client.get(f"/jobs/{job.id}/").content.decode()
    assert "<td>loss</td><td class=\"num\">0.25</td>" in page
    charts = re.findall(r'data-plotly="([^"]+)"', page)
    assert len(charts) == 2
    for chart in charts:
        assert f'<script id="{chart}" type="application/json">' in page


def test_the_error_box_shows_the_message_to_everyone_and_the_traceback_only_to_site_admins(client, project, owner, make_user):
    job = make_job(project, owner, status=JobStatus.FAILED, error="The input has no column called 'price'.",
                   error_detail="Traceback (most recent call last): secret internals")
    client.force_login(owner)
    page = client.get(f"/jobs/{job.id}/").content.decode()
    assert "The input has no column called &#x27;price&#x27;." in page
    assert "secret internals" not in page
    assert ">Retry</button>" in page and ">Stop</button>" not in page
    admin = make_user("root", superuser=True)
    project.memberships.create(user=admin, role=Role.ANALYST)
    client.force_login(admin)
    assert "secret internals" in client.get(f"/jobs/{job.id}/").content.decode()


def test_outputs_that_name_an_artifact_link_to_its_download(client, project, owner):
    from apps.core.artifacts import artifact_put_bytes

    artifact = artifact_put_bytes(data=b"a,b\n1,2\n", project=project, name="clean.csv", media_type="text/csv", kind="dataset")
    job = make_job(project, owner, status=JobStatus.COMPLETED, outputs={"table": str(artifact.uuid), "rows": 1})
    client.force_login(owner)
    page = client.get(f"/jobs/{job.id}/").content.decode()
    assert f'href="/api/v1/artifacts/{artifact.uuid}/download/">clean.csv</a>' in page
    assert "<code>1</code>" in page
    live = client.get(f"/jobs/{job.id}/live/").content.decode()  # the polled part brings outputs in as the job ends
    assert f'href="/api/v1/artifacts/{artifact.uuid}/download/">clean.csv</a>' in live


def test_stop_button_stops_an_active_job(client, project, owner):
    job = make_job(project, owner, status=JobStatus.IN_PROGRESS)
    client.force_login(owner)
    response = client.post(f"/jobs/{job.id}/stop/", follow=True)
    job.refresh_from_db()
    assert job.status == JobStatus.STOPPING and job.stop_requested_by == owner
    assert "Stopping" in response.content.decode()


def test_stop_and_retry_need_the_run_jobs_activity(client, project, owner, member):
    labeler = member(Role.LABELER)
    running = make_job(project, owner, status=JobStatus.IN_PROGRESS)
    failed = make_job(project, owner, status=JobStatus.FAILED)
    client.force_login(labeler)
    page = client.get(f"/jobs/{running.id}/").content.decode()
    assert ">Stop</button>" not in page
    assert client.post(f"/jobs/{running.id}/stop/").status_code == 403
    assert client.post(f"/jobs/{failed.id}/retry/").status_code == 403
    assert Job.objects.get(id=running.id).status == JobStatus.IN_PROGRESS
    assert Job.objects.get(id=failed.id).status == JobStatus.FAILED


def test_retry_queues_a_failed_job_again(client, project, owner, django_capture_on_commit_callbacks):
    job = make_job(project, owner, status=JobStatus.FAILED, error="boom", attempt=3)
    client.force_login(owner)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(f"/jobs/{job.id}/retry/", follow=True)
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING and job.attempt == 0 and job.error == ""
    assert len(callbacks) == 1
    assert "was queued again" in response.content.decode()


def test_stopping_an_ended_job_shows_a_clear_message(client, project, owner):
    job = make_job(project, owner, status=JobStatus.COMPLETED)
    client.force_login(owner)
    response = client.post(f"/jobs/{job.id}/stop/")
    assert response.status_code == 409
    assert "This job has already ended (Completed)." in response.content.decode()


def test_stop_and_retry_refuse_get(client, project, owner):
    job = make_job(project, owner, status=JobStatus.IN_PROGRESS)
    client.force_login(owner)
    assert client.get(f"/jobs/{job.id}/stop/").status_code == 405
    assert Job.objects.get(id=job.id).status == JobStatus.IN_PROGRESS


def test_a_job_created_through_the_service_appears_with_its_kind_title(client, project, owner):
    job_create(project=project, user=owner, kind="test.count", inputs={"n": 3})
    client.force_login(owner)
    assert "Count with checkpoints" in client.get("/jobs/").content.decode()


def test_structured_inputs_show_as_json_and_short_durations_in_milliseconds(client, project):
    from datetime import timedelta

    from apps.core.models import JobStatus
    from apps.core.services import job_create
    from apps.core.templatetags.job_tags import duration

    owner = project.memberships.get().user
    job = job_create(project=project, user=owner, kind="test.count", inputs={"options": {"header": True, "delimiter": ","}})
    job.status = JobStatus.FAILED
    job.save()
    client.force_login(owner)
    page = client.get(f"/jobs/{job.id}/").content.decode()
    # Keys sorted, so the display is the same whatever order the database keeps them in.
    assert "{&quot;delimiter&quot;: &quot;,&quot;, &quot;header&quot;: true}" in page
    assert duration(timedelta(milliseconds=42)) == "42 ms"
    assert duration(timedelta(seconds=3.25)) == "3.2s"
