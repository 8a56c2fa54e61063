"""The connections page: create, edit with the password kept, delete, test; and the SQL tab of the Import page."""

import sqlite3

import pytest

from apps.core.models import Job
from apps.core.services import project_create
from apps.datasets.models import Connection, Dataset
from apps.datasets.secrets import password_decrypt
from apps.datasets.sources import connection_create


@pytest.fixture
def shop(project, owner, settings, tmp_path):
    settings.IMPORT_PATHS = [str(tmp_path)]
    with sqlite3.connect(tmp_path / "shop.db") as db:
        db.execute("CREATE TABLE t (a INTEGER)")
        db.execute("INSERT INTO t VALUES (1)")
    return connection_create(project=project, user=owner, name="shop", url=f"sqlite:///{tmp_path / 'shop.db'}",
                             password="s3cret-password")


def test_create_then_the_password_is_never_shown(client, owner, project):
    client.force_login(owner)
    response = client.post("/p/alpha/data/connections/", {"name": "dw", "url": "postgresql://r@db.example.org/dw",
                                                           "password": "hunter2-password"})
    assert response.status_code == 302
    connection = Connection.objects.get()
    page = client.get(f"/p/alpha/data/connections/{connection.id}/").content.decode()
    assert "hunter2" not in page and connection.password_encrypted not in page
    assert "A password is saved; leave empty to keep it." in page


def test_an_invalid_url_is_shown_inline(client, owner, project):
    client.force_login(owner)
    response = client.post("/p/alpha/data/connections/", {"name": "dw", "url": "mysql://r@h/dw"})
    assert response.status_code == 400 and "Unsupported database" in response.content.decode()


def test_editing_keeps_the_password_unless_a_new_one_is_typed(client, owner, shop):
    client.force_login(owner)
    response = client.post(f"/p/alpha/data/connections/{shop.id}/", {"name": "shop2", "url": shop.url, "password": ""})
    assert response.status_code == 302
    shop.refresh_from_db()
    assert shop.name == "shop2" and password_decrypt(shop.password_encrypted) == "s3cret-password"
    client.post(f"/p/alpha/data/connections/{shop.id}/", {"name": "shop2", "url": shop.url, "clear_password": "on"})
    shop.refresh_from_db()
    assert not shop.has_password


def test_test_connection_reports_success_and_failure(client, owner, shop, settings):
    client.force_login(owner)
    page = client.post(f"/p/alpha/data/connections/{shop.id}/test/").content.decode()
    assert "shop: Connected: SQLite file" in page
    settings.IMPORT_PATHS = []
    page = client.post(f"/p/alpha/data/connections/{shop.id}/test/").content.decode()
    assert 'role="alert"' in page and "turned off" in page


def test_delete(client, owner, shop):
    client.force_login(owner)
    assert client.post(f"/p/alpha/data/connections/{shop.id}/delete/").status_code == 302
    assert not Connection.objects.exists()


def test_another_projects_connection_is_404_and_a_labeler_gets_403(client, owner, shop, stranger, labeler):
    theirs = connection_create(project=project_create(name="Other", user=stranger), user=stranger, name="x",
                               url="postgresql://u@db.example.org/d")
    client.force_login(owner)
    assert client.get(f"/p/alpha/data/connections/{theirs.id}/").status_code == 404
    assert client.post(f"/p/alpha/data/connections/{theirs.id}/delete/").status_code == 404
    assert client.post(f"/p/alpha/data/connections/{theirs.id}/test/").status_code == 404
    client.force_login(labeler)
    assert client.get("/p/alpha/data/connections/").status_code == 403
    assert client.get("/p/alpha/data/import/").status_code == 403
    assert client.post("/p/alpha/data/import/sql/", {"connection": shop.id, "query": "SELECT 1"}).status_code == 403


def test_the_sql_tab_imports_and_shows_query_errors_inline(client, owner, shop, run_job):
    client.force_login(owner)
    page = client.get("/p/alpha/data/import/?source=sql").content.decode()
    assert ">shop</option>" in page and 'aria-current="page">SQL database' in page
    response = client.post("/p/alpha/data/import/sql/", {"connection": shop.id, "query": "DELETE FROM t"})
    assert response.status_code == 400 and "start the query with SELECT or WITH" in response.content.decode()
    response = client.post("/p/alpha/data/import/sql/", {"connection": shop.id, "query": "SELECT * FROM t",
                                                         "name": "t"})
    assert response.status_code == 302
    job = run_job(Dataset.objects.get(name="t").last_job)
    assert job.status == "Completed" and Job.objects.count() == 1


def test_the_upload_tab_shows_errors_on_the_import_page(client, owner, project):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(owner)
    response = client.post("/p/alpha/data/upload/", {"file": SimpleUploadedFile("x.docx", b"hi"), "from": "import",
                                                     "encoding": "utf-8", "header_row": 1})
    assert response.status_code == 400 and "Import data into Alpha" in response.content.decode()
