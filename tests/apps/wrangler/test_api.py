"""/api/v1/transforms/ and /api/v1/flows/: the same set and services as the builder, the studio's error format."""

from __future__ import annotations

import pytest

from apps.core.jobs import job_execute
from apps.wrangler.models import Flow
from apps.wrangler.selectors import transform_families
from engine.wrangler import transform_list

from .conftest import CAST, DROP, RENAME


@pytest.fixture
def api(api_client, owner):
    api_client.force_authenticate(owner)
    return api_client


def _create(api, dataset, steps=(), **extra):
    return api.post("/api/v1/flows/", {"dataset": dataset.id, "name": "clean", "steps": list(steps), **extra},
                    format="json")


def test_transforms_lists_every_registered_transform_as_the_builder_does(api, settings):
    settings.CUSTOM_CODE_STEPS = True
    assert [item["name"] for item in api.get("/api/v1/transforms/").json()] == [
        spec.name for spec in transform_list()]
    settings.CUSTOM_CODE_STEPS = False  # the default: custom code steps are not offered
    body = api.get("/api/v1/transforms/").json()
    assert [item["name"] for item in body] == [spec.name for spec in transform_list() if spec.name != "custom_pandas"]
    shown = [spec.name for _, specs in transform_families() for spec in specs]
    assert sorted(shown) == sorted(item["name"] for item in body)
    cast = next(item for item in body if item["name"] == "cast_column")
    assert cast["family"] == "Columns" and cast["stateful"] is False and cast["row_local"] is True
    assert {"name": "to", "kind": "choice"}.items() <= cast["params"][1].items()


def test_a_flow_is_created_read_updated_and_deleted(api, dataset):
    response = _create(api, dataset, [RENAME, CAST])
    assert response.status_code == 201, response.json()
    flow = response.json()
    assert flow["dataset"] == dataset.id and flow["version"] is None and flow["follow_latest"] is True
    assert [step["transform"] for step in flow["steps"]] == ["rename_columns", "cast_column"]
    assert all(step["id"] for step in flow["steps"])
    assert api.get(f"/api/v1/flows/{flow['id']}/").json()["name"] == "clean"
    changed = api.patch(f"/api/v1/flows/{flow['id']}/", {"steps": [DROP], "version": 1}, format="json")
    assert changed.status_code == 200 and changed.json()["steps"][0]["transform"] == "drop_columns"
    assert changed.json()["version"] == 1 and changed.json()["follow_latest"] is False
    assert len(Flow.objects.get(id=flow["id"]).undo_stack) == 1
    assert api.delete(f"/api/v1/flows/{flow['id']}/").status_code == 204
    assert not Flow.objects.exists()


@pytest.mark.parametrize("steps, field, message", [
    ([{"transform": "explode", "params": {}}], "steps", "There is no transform called 'explode'"),
    ([{"transform": "cast_column", "params": {"column": "visits", "to": 7}}], "steps", "'to' must be one of"),
    ([{"transform": "duplicate_column", "params": {"column": ["a"], "new_name": "b"}}], "steps",
     "'column' must be one column name"),
    ([{"transform": "drop_columns", "params": ["notes"]}], "steps", "'params' must be an object"),
])
def test_bad_steps_are_refused_with_a_clear_message(api, dataset, steps, field, message):
    response = _create(api, dataset, steps)
    assert response.status_code == 400
    error = response.json()["error"]
    assert message in error["message"] and field in error["fields"]
    assert not Flow.objects.exists()


def test_the_preview_reports_each_step_and_a_column_renamed_upstream(api, dataset):
    flow = _create(api, dataset, [{"transform": "drop_columns", "params": {"columns": ["age"]}}]).json()
    ok = api.post(f"/api/v1/flows/{flow['id']}/preview/", {"page_size": 5}, format="json").json()
    assert ok["ok"] and ok["output_rows"] == 300 and len(ok["rows"]) == 5 and ok["source_rows"] == 300
    assert [column["name"] for column in ok["columns"]] == ["customer_id", "visits", "score", "city", "notes"]
    steps = [{"transform": "rename_columns", "params": {"mapping": {"age": "years"}}},
             {"transform": "drop_columns", "params": {"columns": ["age"]}}]
    assert api.patch(f"/api/v1/flows/{flow['id']}/", {"steps": steps}, format="json").status_code == 200
    broken = api.post(f"/api/v1/flows/{flow['id']}/preview/", {}, format="json").json()
    assert broken["ok"] is False and broken["reports"][0]["ok"]
    assert broken["reports"][1]["error_param"] == "columns" and "'age' is not in the data" in broken["reports"][1]["error"]
    refused = api.post(f"/api/v1/flows/{flow['id']}/apply/", {}, format="json")
    assert refused.status_code == 400 and "Fix step 2 (drop_columns)" in refused.json()["error"]["message"]
    assert Flow.objects.get(id=flow["id"]).steps[0]["transform"] == "rename_columns"  # not corrupted


def test_apply_answers_202_with_the_job_then_export_and_fitted_download(api, dataset):
    flow = _create(api, dataset, [RENAME, CAST, DROP]).json()
    assert api.get(f"/api/v1/flows/{flow['id']}/fitted/").status_code == 409
    response = api.post(f"/api/v1/flows/{flow['id']}/apply/", {}, format="json")
    assert response.status_code == 202 and response.json()["kind"] == "flow.apply"
    job_execute(job_id=response.json()["id"])
    fitted = api.get(f"/api/v1/flows/{flow['id']}/fitted/").json()
    assert [step["transform"] for step in fitted["steps"]] == ["rename_columns", "cast_column", "drop_columns"]
    script = api.get(f"/api/v1/flows/{flow['id']}/export/")
    assert script.status_code == 200 and b"def cast_column" in script.content
    runs = api.get(f"/api/v1/flows/{flow['id']}/").json()["runs"]
    assert runs[0]["output_version"] == 2 and runs[0]["input_version"] == 1 and runs[0]["status"] == "Completed"


def test_another_projects_flow_answers_404(api_client, dataset, owner, stranger):
    flow = _create(api_client_for(api_client, owner), dataset).json()
    api_client.force_authenticate(stranger)
    for method, path in [("get", ""), ("patch", ""), ("delete", ""), ("post", "preview/"), ("post", "apply/"),
                         ("get", "export/"), ("get", "fitted/")]:
        assert getattr(api_client, method)(f"/api/v1/flows/{flow['id']}/{path}", {}, format="json").status_code == 404
    assert _create(api_client, dataset).status_code == 404  # the dataset is not theirs either
    assert api_client.get("/api/v1/flows/").json()["results"] == []


def test_a_role_without_manage_data_or_run_jobs_gets_403(api_client, dataset, owner, labeler):
    flow = _create(api_client_for(api_client, owner), dataset).json()
    api_client.force_authenticate(labeler)
    assert api_client.get(f"/api/v1/flows/{flow['id']}/").status_code == 200
    assert api_client.patch(f"/api/v1/flows/{flow['id']}/", {"steps": []}, format="json").status_code == 403
    assert api_client.post(f"/api/v1/flows/{flow['id']}/apply/", {}, format="json").status_code == 403
    assert _create(api_client, dataset).status_code == 403


def api_client_for(client, user):
    client.force_authenticate(user)
    return client
