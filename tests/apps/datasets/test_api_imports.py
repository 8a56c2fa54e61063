"""/api/v1/connections/ and the import endpoints: success, a stranger's ids (404), a role without "manage data"
(403), bad input (400 with a message)."""

import io
import sqlite3

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from apps.core.models import Job
from apps.core.services import project_create
from apps.datasets.models import Connection, Dataset
from apps.datasets.sources import connection_create

from .conftest import PEOPLE_CSV


@pytest.fixture
def files(settings, tmp_path):
    settings.IMPORT_PATHS = [str(tmp_path)]
    (tmp_path / "people.csv").write_bytes(PEOPLE_CSV)
    with sqlite3.connect(tmp_path / "shop.db") as db:
        db.execute("CREATE TABLE t (a INTEGER, b TEXT)")
        db.execute("INSERT INTO t VALUES (1, 'x'), (2, 'y')")
    return tmp_path


@pytest.fixture
def shop(project, owner, files):
    return connection_create(project=project, user=owner, name="shop", url=f"sqlite:///{files / 'shop.db'}",
                             password="s3cret-password")


@pytest.fixture
def foreign_connection(stranger):
    other = project_create(name="Other", user=stranger)
    return connection_create(project=other, user=stranger, name="theirs", url="postgresql://u@db.example.org/d")


# --- connections -----------------------------------------------------------------------------------------------

def test_create_keeps_the_password_write_only(api_client, owner, project):
    api_client.force_authenticate(owner)
    response = api_client.post("/api/v1/connections/", {"project": "alpha", "name": "warehouse",
                                                        "url": "postgresql://reader@db.example.org:5432/dw",
                                                        "password": "hunter2-password"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["has_password"] is True and "password" not in body and "hunter2" not in response.content.decode()
    assert "hunter2" not in Connection.objects.get().password_encrypted


def test_create_refuses_a_password_in_the_url_and_a_foreign_project(api_client, owner, stranger, labeler):
    api_client.force_authenticate(owner)
    response = api_client.post("/api/v1/connections/", {"project": "alpha", "name": "w",
                                                        "url": "postgresql://u:pw@db.example.org/dw"})
    assert response.status_code == 400 and "password field" in response.json()["error"]["message"]
    assert response.json()["error"]["fields"] == {"url": [response.json()["error"]["message"]]}
    api_client.force_authenticate(stranger)
    body = {"project": "alpha", "name": "w", "url": "postgresql://u@db.example.org/dw"}
    assert api_client.post("/api/v1/connections/", body).status_code == 404
    api_client.force_authenticate(labeler)
    assert api_client.post("/api/v1/connections/", body).status_code == 403
    assert not Connection.objects.exists()


def test_list_retrieve_update_delete(api_client, owner, shop, labeler, foreign_connection):
    api_client.force_authenticate(owner)
    listed = api_client.get("/api/v1/connections/").json()["results"]
    assert [c["name"] for c in listed] == ["shop"] and "password" not in listed[0]
    assert api_client.get(f"/api/v1/connections/{shop.id}/").json()["url"].startswith("sqlite:///")
    response = api_client.patch(f"/api/v1/connections/{shop.id}/", {"name": "shop2"})
    assert response.status_code == 200 and response.json()["has_password"] is True
    assert api_client.put(f"/api/v1/connections/{shop.id}/", {"name": "shop3", "url": shop.url}).status_code == 200
    shop.refresh_from_db()
    assert shop.name == "shop3" and shop.has_password
    assert api_client.get(f"/api/v1/connections/{foreign_connection.id}/").status_code == 404
    assert api_client.delete(f"/api/v1/connections/{foreign_connection.id}/").status_code == 404
    api_client.force_authenticate(labeler)
    assert api_client.get("/api/v1/connections/").json()["results"] == []
    assert api_client.get(f"/api/v1/connections/{shop.id}/").status_code == 403
    assert api_client.delete(f"/api/v1/connections/{shop.id}/").status_code == 403
    api_client.force_authenticate(owner)
    assert api_client.delete(f"/api/v1/connections/{shop.id}/").status_code == 204
    assert Connection.objects.filter(id=foreign_connection.id).exists()


def test_test_reports_success_or_the_reason(api_client, owner, shop, labeler, foreign_connection, settings):
    api_client.force_authenticate(owner)
    body = api_client.post(f"/api/v1/connections/{shop.id}/test/").json()
    assert body["ok"] is True and "SQLite file" in body["message"]
    settings.IMPORT_PATHS = []
    response = api_client.post(f"/api/v1/connections/{shop.id}/test/")
    assert response.status_code == 400 and "turned off" in response.json()["message"]
    assert api_client.post(f"/api/v1/connections/{foreign_connection.id}/test/").status_code == 404
    api_client.force_authenticate(labeler)
    assert api_client.post(f"/api/v1/connections/{shop.id}/test/").status_code == 403


# --- imports ---------------------------------------------------------------------------------------------------

def test_import_sql(api_client, owner, shop, labeler, stranger, foreign_connection):
    api_client.force_authenticate(owner)
    response = api_client.post("/api/v1/datasets/import-sql/", {"project": "alpha", "connection": shop.id,
                                                                "query": "SELECT * FROM t", "name": "t"})
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["dataset"]["name"] == "t" and body["dataset"]["status"] == "importing"
    assert Job.objects.get(id=body["job"]["id"]).kind == "dataset.import_sql"
    bad = api_client.post("/api/v1/datasets/import-sql/", {"project": "alpha", "connection": shop.id,
                                                           "query": "DROP TABLE t", "name": "u"})
    assert bad.status_code == 400 and "SELECT or WITH" in bad.json()["error"]["fields"]["query"][0]
    assert api_client.post("/api/v1/datasets/import-sql/", {"project": "alpha", "name": "v"}).status_code == 400
    foreign = {"project": "alpha", "connection": foreign_connection.id, "query": "SELECT 1", "name": "w"}
    assert api_client.post("/api/v1/datasets/import-sql/", foreign).status_code == 404
    api_client.force_authenticate(stranger)
    assert api_client.post("/api/v1/datasets/import-sql/", {**foreign, "connection": shop.id}).status_code == 404
    api_client.force_authenticate(labeler)
    assert api_client.post("/api/v1/datasets/import-sql/", {**foreign, "connection": shop.id}).status_code == 403
    assert list(Dataset.objects.values_list("name", flat=True)) == ["t"]


def test_import_path(api_client, owner, files, labeler, stranger):
    api_client.force_authenticate(owner)
    response = api_client.post("/api/v1/datasets/import-path/", {"project": "alpha", "path": "people.csv"})
    assert response.status_code == 202 and response.json()["dataset"]["name"] == "people"
    bad = api_client.post("/api/v1/datasets/import-path/", {"project": "alpha", "path": "../etc/passwd"})
    assert bad.status_code == 400 and bad.json()["error"]["fields"]["path"]
    api_client.force_authenticate(stranger)
    assert api_client.post("/api/v1/datasets/import-path/", {"project": "alpha", "path": "people.csv",
                                                             "name": "b"}).status_code == 404
    api_client.force_authenticate(labeler)
    assert api_client.post("/api/v1/datasets/import-path/", {"project": "alpha", "path": "people.csv",
                                                             "name": "b"}).status_code == 403


def test_import_s3(api_client, owner, labeler, stranger, settings, monkeypatch):
    settings.IMPORT_S3_ENABLED = True
    client = boto3.client("s3", region_name="us-east-1", endpoint_url="http://s3.test", aws_access_key_id="k",
                          aws_secret_access_key="k")
    monkeypatch.setattr("apps.datasets.sources.s3_client", lambda: client)
    with Stubber(client) as stubber:
        stubber.add_response("head_object", {"ContentLength": len(PEOPLE_CSV)}, {"Bucket": "lake", "Key": "p.csv"})
        stubber.add_response("get_object", {"Body": StreamingBody(io.BytesIO(PEOPLE_CSV), len(PEOPLE_CSV))},
                             {"Bucket": "lake", "Key": "p.csv"})
        api_client.force_authenticate(owner)
        response = api_client.post("/api/v1/datasets/import-s3/", {"project": "alpha", "uri": "s3://lake/p.csv"})
        assert response.status_code == 202, response.json()
        bad = api_client.post("/api/v1/datasets/import-s3/", {"project": "alpha", "uri": "https://lake/p.csv"})
        assert bad.status_code == 400 and "s3://bucket" in bad.json()["error"]["message"]
        api_client.force_authenticate(stranger)
        assert api_client.post("/api/v1/datasets/import-s3/", {"project": "alpha", "uri": "s3://lake/p.csv"}
                               ).status_code == 404
        api_client.force_authenticate(labeler)
        assert api_client.post("/api/v1/datasets/import-s3/", {"project": "alpha", "uri": "s3://lake/p.csv"}
                               ).status_code == 403


def test_import_version(api_client, owner, ready_dataset, labeler, stranger):
    api_client.force_authenticate(owner)
    body = {"project": "alpha", "dataset": ready_dataset.id, "version": 1, "columns": ["id", "age"], "name": "ages"}
    response = api_client.post("/api/v1/datasets/import-version/", body, format="json")
    assert response.status_code == 202 and response.json()["job"]["status"] == "Pending"
    bad = api_client.post("/api/v1/datasets/import-version/", {**body, "version": 9, "name": "x"}, format="json")
    assert bad.status_code == 404 and "no version 9" in bad.json()["error"]["message"]
    bad = api_client.post("/api/v1/datasets/import-version/", {**body, "columns": ["zzz"], "name": "x"},
                          format="json")
    assert bad.status_code == 400 and "zzz" in bad.json()["error"]["message"]
    api_client.force_authenticate(stranger)
    theirs = project_create(name="Theirs", user=stranger)
    response = api_client.post("/api/v1/datasets/import-version/", {**body, "project": theirs.slug, "name": "x"},
                               format="json")
    assert response.status_code == 404  # another project's dataset cannot be copied out
    api_client.force_authenticate(labeler)
    assert api_client.post("/api/v1/datasets/import-version/", {**body, "name": "x"},
                           format="json").status_code == 403
