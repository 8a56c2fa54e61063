"""/api/v1/datasets/: one test per action, including a user of another project getting 404."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.core.models import Job, JobStatus
from apps.core.roles import Role
from apps.datasets.models import Dataset

from .conftest import PEOPLE_CSV


def test_list_shows_datasets_of_my_projects_filtered_by_project(api_client, owner, ready_dataset, stranger):
    api_client.force_authenticate(owner)
    body = api_client.get("/api/v1/datasets/", {"project": "alpha"}).json()
    assert [d["name"] for d in body["results"]] == ["people"]
    assert body["results"][0]["status"] == "ready" and body["results"][0]["current_version"]["row_count"] == 4
    api_client.force_authenticate(stranger)
    assert api_client.get("/api/v1/datasets/").json()["results"] == []


def test_create_uploads_a_file_and_returns_the_dataset_with_its_job(api_client, owner, project):
    api_client.force_authenticate(owner)
    response = api_client.post("/api/v1/datasets/", {
        "project": project.slug, "file": SimpleUploadedFile("people.csv", PEOPLE_CSV), "name": "people",
        "encoding": "utf-8", "header_row": 1,
    }, format="multipart")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "importing" and body["job"]["status"] == JobStatus.PENDING
    assert Job.objects.get(id=body["job"]["id"]).kind == "dataset.import"


def test_create_refuses_an_unknown_extension_with_the_error_format(api_client, owner, project):
    api_client.force_authenticate(owner)
    response = api_client.post("/api/v1/datasets/", {"project": project.slug,
                                                     "file": SimpleUploadedFile("x.xls", b"junk")}, format="multipart")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"file": [response.json()["error"]["message"]]}
    assert ".xlsx" in response.json()["error"]["message"]


def test_create_in_a_foreign_project_is_404_and_for_a_labeler_403(api_client, project, stranger, member):
    upload = {"project": project.slug, "file": SimpleUploadedFile("p.csv", PEOPLE_CSV)}
    api_client.force_authenticate(stranger)
    assert api_client.post("/api/v1/datasets/", upload, format="multipart").status_code == 404
    api_client.force_authenticate(member(Role.LABELER))
    upload["file"] = SimpleUploadedFile("p.csv", PEOPLE_CSV)
    assert api_client.post("/api/v1/datasets/", upload, format="multipart").status_code == 403
    assert not Dataset.objects.exists()


def test_retrieve_shows_status_and_failure_reason(api_client, owner, ready_dataset):
    api_client.force_authenticate(owner)
    body = api_client.get(f"/api/v1/datasets/{ready_dataset.id}/").json()
    assert body["name"] == "people" and body["error"] == "" and body["job"]["status"] == "Completed"


def test_versions_list_and_retrieve(api_client, owner, ready_dataset):
    api_client.force_authenticate(owner)
    versions = api_client.get(f"/api/v1/datasets/{ready_dataset.id}/versions/").json()
    assert [v["number"] for v in versions] == [1]
    one = api_client.get(f"/api/v1/datasets/{ready_dataset.id}/versions/1/").json()
    assert one["schema"][0] == {"name": "id", "type": "integer", "nullable": False}
    assert one["summary"][2]["name"] == "age" and one["sha256"] and one["source"]
    assert api_client.get(f"/api/v1/datasets/{ready_dataset.id}/versions/9/").status_code == 404


def test_rows_pages_and_sorts(api_client, owner, ready_dataset):
    api_client.force_authenticate(owner)
    body = api_client.get(f"/api/v1/datasets/{ready_dataset.id}/rows/",
                          {"sort": "score", "desc": "true", "page_size": 2}).json()
    assert body["total"] == 4 and body["pages"] == 2 and body["page"] == 1
    assert [row["values"][1] for row in body["rows"]] == ["=SUM(A1)", "Ann"]
    assert [row["number"] for row in body["rows"]] == [2, 1]
    page2 = api_client.get(f"/api/v1/datasets/{ready_dataset.id}/rows/",
                           {"sort": "score", "desc": "true", "page_size": 2, "page": 2}).json()
    assert page2["rows"][1]["values"][3] is None  # missing score sorts last
    bad = api_client.get(f"/api/v1/datasets/{ready_dataset.id}/rows/", {"sort": "nope"})
    assert bad.status_code == 400 and bad.json()["error"]["fields"] == {"sort": [bad.json()["error"]["message"]]}


def test_schema_change_returns_the_job_and_makes_version_2(api_client, owner, ready_dataset, run_job):
    api_client.force_authenticate(owner)
    response = api_client.post(f"/api/v1/datasets/{ready_dataset.id}/schema/", {"types": {"age": "float"}},
                               format="json")
    assert response.status_code == 202 and response.json()["kind"] == "dataset.cast"
    run_job(response.json()["id"])
    assert api_client.get(f"/api/v1/datasets/{ready_dataset.id}/").json()["current_version"]["number"] == 2
    bad = api_client.post(f"/api/v1/datasets/{ready_dataset.id}/schema/", {"types": {"age": "decimal"}},
                          format="json")
    assert bad.status_code == 400


def test_download_as_csv_and_parquet(api_client, owner, ready_dataset):
    api_client.force_authenticate(owner)
    response = api_client.get(f"/api/v1/datasets/{ready_dataset.id}/download/", {"format": "csv", "version": 1})
    assert response.status_code == 200 and response["X-Content-Type-Options"] == "nosniff"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[2][1] == "'=SUM(A1)"
    parquet = api_client.get(f"/api/v1/datasets/{ready_dataset.id}/download/", {"format": "parquet"})
    assert parquet.status_code == 200 and b"".join(parquet.streaming_content)[:4] == b"PAR1"
    assert api_client.get(f"/api/v1/datasets/{ready_dataset.id}/download/", {"format": "xml"}).status_code == 400


def test_destroy_deletes_the_dataset_and_a_labeler_may_not(api_client, owner, ready_dataset, member):
    api_client.force_authenticate(member(Role.LABELER))
    assert api_client.delete(f"/api/v1/datasets/{ready_dataset.id}/").status_code == 403
    api_client.force_authenticate(owner)
    assert api_client.delete(f"/api/v1/datasets/{ready_dataset.id}/").status_code == 204
    assert not Dataset.objects.exists()


@pytest.mark.parametrize(("method", "suffix"), [
    ("get", ""), ("get", "versions/"), ("get", "versions/1/"), ("get", "rows/"), ("get", "download/"),
    ("post", "schema/"), ("delete", ""),
])
def test_a_user_of_another_project_gets_404_on_every_action(api_client, stranger, ready_dataset, method, suffix):
    api_client.force_authenticate(stranger)
    response = getattr(api_client, method)(f"/api/v1/datasets/{ready_dataset.id}/{suffix}",
                                           {"types": {"age": "float"}} if method == "post" else None, format="json")
    assert response.status_code == 404
    assert Dataset.objects.filter(id=ready_dataset.id).exists()


def test_create_stops_a_file_over_the_upload_limit_with_a_message(api_client, owner, project, settings):
    settings.MAX_UPLOAD_BYTES = 1024
    api_client.force_authenticate(owner)
    response = api_client.post("/api/v1/datasets/", {
        "project": project.slug, "file": SimpleUploadedFile("big.csv", b"a,b\n" + b"1,2\n" * 2000),
    }, format="multipart")
    assert response.status_code == 400
    assert "upload limit" in response.json()["error"]["fields"]["file"][0]
    assert not Dataset.objects.exists()
