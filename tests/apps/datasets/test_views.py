"""The Data pages: list and upload form, the dataset page with live progress, table, summary, schema form,
downloads, and who may do what."""

import csv
import io

import pyarrow.parquet as pq
import pytest

from apps.core.models import JobStatus
from apps.core.roles import Role
from apps.datasets.models import Dataset


def test_the_list_page_shows_datasets_with_their_status_and_the_upload_form(client, project, owner, ready_dataset):
    client.force_login(owner)
    html = client.get(f"/p/{project.slug}/data/").content.decode()
    assert "people" in html and 'class="badge dataset-ready"' in html
    assert 'enctype="multipart/form-data"' in html and 'name="encoding"' in html and "Windows-1252" in html


def test_a_labeler_sees_the_list_without_the_upload_form_and_cannot_upload(client, project, labeler, upload_file):
    client.force_login(labeler)
    assert 'name="file"' not in client.get(f"/p/{project.slug}/data/").content.decode()
    response = client.post(f"/p/{project.slug}/data/upload/", {"file": upload_file()})
    assert response.status_code == 403 and not Dataset.objects.exists()


def test_an_analyst_uploads_and_lands_on_the_dataset_page_with_a_live_progress_bar(client, project, member,
                                                                                   upload_file):
    analyst = member(Role.ANALYST)
    client.force_login(analyst)
    response = client.post(f"/p/{project.slug}/data/upload/", {"file": upload_file(), "name": "people"})
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert 'hx-trigger="every 1s"' in html and "<progress" in html and "/jobs/" in html


def test_polling_stops_with_286_and_the_table_once_the_import_ended(client, project, owner, upload_file, run_job):
    client.force_login(owner)
    response = client.post(f"/p/{project.slug}/data/upload/", {"file": upload_file(), "name": "people"})
    dataset = Dataset.objects.get()
    live = f"/p/{project.slug}/data/{dataset.id}/live/"
    assert client.get(live).status_code == 200
    run_job(dataset.last_job)
    ended = client.get(live, HTTP_HX_REQUEST="true")
    assert ended.status_code == 286
    assert 'class="data-table"' in ended.content.decode() and "Ann" in ended.content.decode()
    assert "every 1s" not in client.get(response["Location"]).content.decode()


def test_a_duplicate_name_is_shown_inline_on_the_form(client, project, owner, ready_dataset, upload_file):
    client.force_login(owner)
    response = client.post(f"/p/{project.slug}/data/upload/", {"file": upload_file(), "name": "people"})
    assert response.status_code == 400
    assert "A dataset called &#x27;people&#x27; exists already" in response.content.decode()


def test_the_dataset_page_shows_facts_versions_summary_schema_and_nulls_distinctly(client, project, owner,
                                                                                  ready_dataset):
    client.force_login(owner)
    html = client.get(f"/p/{project.slug}/data/{ready_dataset.id}/").content.decode()
    assert "Imported from people.csv" in html and "v1" in html
    assert '<td class="null">null</td>' in html
    assert 'name="type_0"' in html and "Save types as a new version" in html
    assert "Top values" in html and "=SUM(A1)" in html
    assert "rows 1–4 of 4" in html


def test_clicking_a_header_sorts_the_table_through_htmx(client, project, owner, ready_dataset):
    client.force_login(owner)
    url = f"/p/{project.slug}/data/{ready_dataset.id}/table/"
    html = client.get(url, {"sort": "age", "desc": "1"}, HTTP_HX_REQUEST="true").content.decode()
    assert html.index(">Dan<") < html.index(">Ann<") < html.index(">Cho<")  # 41, 34, 29; missing last
    assert "▼" in html and 'hx-get="' in html
    ascending = client.get(url, {"sort": "age"}).content.decode()
    assert ascending.index(">Cho<") < ascending.index(">Ann<") < ascending.index(">Dan<")


def test_the_pager_moves_through_pages_and_page_size(client, project, owner, ready_dataset):
    client.force_login(owner)
    url = f"/p/{project.slug}/data/{ready_dataset.id}/table/"
    html = client.get(url, {"page": 2, "page_size": 25}).content.decode()
    assert "Page 1 of 1" in html  # past the end shows the last page
    bad = client.get(url, {"page": "x"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 400 and "whole number" in bad.content.decode()


def test_a_schema_change_from_the_page_starts_a_cast_job_and_makes_version_2(client, project, owner, ready_dataset,
                                                                            run_job):
    client.force_login(owner)
    form = {f"type_{i}": c["type"] for i, c in enumerate(ready_dataset.current_version.schema)}
    form["type_0"] = "float"
    response = client.post(f"/p/{project.slug}/data/{ready_dataset.id}/schema/", form)
    assert response.status_code == 302
    ready_dataset.refresh_from_db()
    assert run_job(ready_dataset.last_job).status == JobStatus.COMPLETED
    html = client.get(response["Location"]).content.decode()
    assert "Changed types: id integer → float" in html and "v2" in html


def test_a_failed_cast_shows_its_examples_on_the_dataset_page(client, project, owner, ready_dataset, run_job):
    client.force_login(owner)
    form = {f"type_{i}": c["type"] for i, c in enumerate(ready_dataset.current_version.schema)}
    form["type_1"] = "float"
    client.post(f"/p/{project.slug}/data/{ready_dataset.id}/schema/", form)
    ready_dataset.refresh_from_db()
    run_job(ready_dataset.last_job)
    html = client.get(f"/p/{project.slug}/data/{ready_dataset.id}/").content.decode()
    assert "Column &#x27;name&#x27; cannot become float" in html and "The dataset is unchanged" in html


def test_an_unchanged_schema_form_shows_the_error_inline(client, project, owner, ready_dataset):
    client.force_login(owner)
    form = {f"type_{i}": c["type"] for i, c in enumerate(ready_dataset.current_version.schema)}
    response = client.post(f"/p/{project.slug}/data/{ready_dataset.id}/schema/", form)
    assert response.status_code == 400 and "No column type was changed" in response.content.decode()


def test_the_csv_download_neutralises_formulas_and_is_an_attachment(client, project, owner, ready_dataset):
    client.force_login(owner)
    response = client.get(f"/p/{project.slug}/data/{ready_dataset.id}/versions/1/download/", {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="people-v1.csv"'
    assert response["X-Content-Type-Options"] == "nosniff"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["id", "name", "age", "score", "member", "joined"]
    assert rows[2][1] == "'=SUM(A1)" and rows[1][1] == "Ann" and len(rows) == 5


def test_the_parquet_download_is_the_version_file(client, project, owner, ready_dataset):
    client.force_login(owner)
    response = client.get(f"/p/{project.slug}/data/{ready_dataset.id}/versions/1/download/", {"format": "parquet"})
    table = pq.read_table(io.BytesIO(b"".join(response.streaming_content)))
    assert table.num_rows == 4 and response["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in response["Content-Disposition"]


def test_deleting_from_the_page_returns_to_the_list(client, project, owner, ready_dataset):
    client.force_login(owner)
    response = client.post(f"/p/{project.slug}/data/{ready_dataset.id}/delete/")
    assert response.status_code == 302 and response["Location"] == f"/p/{project.slug}/data/"
    assert not Dataset.objects.exists()


@pytest.mark.parametrize("suffix", ["", "table/", "live/", "versions/1/download/?format=csv"])
def test_a_stranger_gets_404_for_every_page_of_a_dataset(client, project, stranger, ready_dataset, suffix):
    client.force_login(stranger)
    assert client.get(f"/p/{project.slug}/data/{ready_dataset.id}/{suffix}").status_code == 404


def test_a_dataset_of_another_project_is_404_even_under_my_project(client, stranger, ready_dataset):
    client.force_login(stranger)
    assert client.get(f"/p/elsewhere/data/{ready_dataset.id}/").status_code == 404
