"""/api/v1/insights-reports/: one test per action, including another project's ids (404), a role that may not
run jobs (403) and a bad target (400)."""

from __future__ import annotations

from apps.core.models import Job, JobStatus
from apps.insights.models import InsightsReport

URL = "/api/v1/insights-reports/"


def test_list_shows_reports_of_my_projects_filtered_by_project_and_dataset(api_client, owner, done_report,
                                                                           stranger):
    api_client.force_authenticate(owner)
    body = api_client.get(URL, {"project": "alpha", "dataset": done_report.dataset_id}).json()
    assert [r["id"] for r in body["results"]] == [done_report.id]
    row = body["results"][0]
    assert row["status"] == "Completed" and row["target"] == "diagnosis" and row["version"] == 1
    assert row["summary"]["warnings"] >= 3 and "report" not in row
    assert api_client.get(URL, {"dataset": done_report.dataset_id + 1}).json()["results"] == []
    assert api_client.get(URL, {"dataset": "x"}).status_code == 400
    api_client.force_authenticate(stranger)
    assert api_client.get(URL).json()["results"] == []


def test_create_starts_a_job_on_the_current_version_and_answers_201(api_client, owner, dataset):
    api_client.force_authenticate(owner)
    response = api_client.post(URL, {"dataset": dataset.id, "target": "diagnosis"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    job = Job.objects.get(id=body["job"]["id"])
    assert job.kind == "insights.report" and body["status"] == JobStatus.PENDING and body["version"] == 1
    assert InsightsReport.objects.get(id=body["id"]).job == job


def test_create_takes_a_version_and_a_problem_type(api_client, owner, dataset):
    api_client.force_authenticate(owner)
    response = api_client.post(URL, {"dataset": dataset.id, "version": 1, "target": "diagnosis_code",
                                      "problem_type": "regression"}, format="json")
    assert response.status_code == 201 and response.json()["problem_type"] == "regression"
    missing = api_client.post(URL, {"dataset": dataset.id, "version": 3}, format="json")
    assert missing.status_code == 404 and "no version 3" in missing.json()["error"]["message"]


def test_create_with_a_bad_target_is_400_with_a_clear_message(api_client, owner, dataset):
    api_client.force_authenticate(owner)
    response = api_client.post(URL, {"dataset": dataset.id, "target": "price"}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"].startswith("There is no column called 'price' in version 1 of cells.")
    assert error["fields"] == {"target": [error["message"]]}
    bad_type = api_client.post(URL, {"dataset": dataset.id, "target": "size", "problem_type": "ranking"},
                               format="json")
    assert bad_type.status_code == 400 and "problem_type" in bad_type.json()["error"]["fields"]


def test_create_on_another_projects_dataset_is_404_and_for_a_labeler_403(api_client, dataset, stranger, labeler):
    api_client.force_authenticate(stranger)
    assert api_client.post(URL, {"dataset": dataset.id}, format="json").status_code == 404
    api_client.force_authenticate(labeler)
    response = api_client.post(URL, {"dataset": dataset.id}, format="json")
    assert response.status_code == 403 and "does not allow you to run jobs" in response.json()["error"]["message"]
    assert not InsightsReport.objects.exists()


def test_retrieve_gives_the_full_report_once_done(api_client, owner, done_report):
    api_client.force_authenticate(owner)
    body = api_client.get(f"{URL}{done_report.id}/").json()
    assert body["status"] == "Completed" and body["result_sha256"] == done_report.result.sha256
    report = body["report"]
    assert report["target"]["problem_type"] == "binary" and len(report["columns"]) == 7
    leak = [w for w in report["warnings"] if w["kind"] == "target_leakage"]
    assert leak and leak[0]["fix"]["transform"] == "drop_columns"


def test_retrieve_before_the_job_ran_has_no_report_yet(api_client, owner, dataset):
    from apps.insights.services import insights_report_start

    report = insights_report_start(dataset=dataset, user=owner)
    api_client.force_authenticate(owner)
    body = api_client.get(f"{URL}{report.id}/").json()
    assert body["status"] == "Pending" and body["report"] is None


def test_retrieve_of_another_projects_report_is_404(api_client, stranger, done_report):
    api_client.force_authenticate(stranger)
    assert api_client.get(f"{URL}{done_report.id}/").status_code == 404


def test_the_schema_documents_the_endpoint(api_client, owner):
    api_client.force_authenticate(owner)
    schema = api_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert {"get", "post"} <= set(schema["paths"]["/api/v1/insights-reports/"])
    assert {"InsightsReportCreateRequest", "InsightsReportDetail"} <= set(schema["components"]["schemas"])
