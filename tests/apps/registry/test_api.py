from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.core.services import project_create
from apps.registry.models import ModelVersion
from apps.registry.services import model_group_create


@pytest.fixture
def api(api_client, owner):
    api_client.force_authenticate(owner)
    return api_client


@pytest.fixture
def foreign(make_user):
    """A group and version-less project of someone else."""
    stranger = make_user("stranger")
    other = project_create(name="Other", user=stranger)
    return model_group_create(project=other, user=stranger, name="secret")


def test_groups_are_created_listed_and_named_uniquely(api, project):
    created = api.post("/api/v1/model-groups/", {"project": project.slug, "name": "churn", "description": "d"},
                       format="json")
    assert created.status_code == 201 and created.json()["name"] == "churn"
    duplicate = api.post("/api/v1/model-groups/", {"project": project.slug, "name": "churn"}, format="json")
    assert duplicate.status_code == 409 and "already" in duplicate.json()["error"]["message"]
    assert [group["name"] for group in api.get("/api/v1/model-groups/").json()["results"]] == ["churn"]


def test_a_foreign_group_is_404_and_not_listed(api, foreign):
    assert api.get(f"/api/v1/model-groups/{foreign.id}/").status_code == 404
    assert api.get("/api/v1/model-groups/").json()["results"] == []
    response = api.post("/api/v1/model-versions/", {"group": foreign.id, "training_job": 1}, format="json")
    assert response.status_code == 404


def test_a_version_from_a_training_job_and_its_detail(api, group, trained):
    response = api.post("/api/v1/model-versions/", {"group": group.id, "training_job": trained.id}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"] == 1 and body["source"] == "training" and body["approval_status"] == "PendingManualApproval"
    assert body["sha256"] == trained.model.sha256 and body["signature"] and "accuracy" in body["metrics"]
    detail = api.get(f"/api/v1/model-versions/{body['id']}/").json()
    assert detail["training_job"] == trained.id and detail["card"]


def test_a_failed_training_job_is_a_clear_400(api, group, trained):
    trained.job.status = "Failed"
    trained.job.save()
    response = api.post("/api/v1/model-versions/", {"group": group.id, "training_job": trained.id}, format="json")
    assert response.status_code == 400 and "Only a completed" in response.json()["error"]["message"]


def test_create_needs_exactly_one_source(api, group):
    response = api.post("/api/v1/model-versions/", {"group": group.id}, format="json")
    assert response.status_code == 400 and "either" in response.json()["error"]["message"]


def test_a_version_from_an_automl_jobs_best_model(api, project, owner, penguins, run_job, group):
    from apps.automl.services import automl_job_start

    automl = automl_job_start(project=project, user=owner, dataset=penguins, target="species", budget="custom",
                              budget_seconds=10, algorithms=["linear_learner"], max_trials=2, folds=3)
    run_job(automl.job)
    automl.refresh_from_db()
    response = api.post("/api/v1/model-versions/", {"group": group.id, "automl_job": automl.id}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["source"] == "automl" and body["automl_job"] == automl.id
    assert any(name.startswith("test_") for name in body["metrics"])
    card = api.get(f"/api/v1/model-cards/{body['card']}/").json()
    assert "AutoML job" in card["training_details"] and "held-out rows" in card["evaluation_details"]


def test_upload_of_a_safe_format_and_refusal_of_a_pickle(api, group, xgboost_files, pickle_canary):
    response = api.post("/api/v1/model-versions/upload/", {
        "group": group.id, "file": SimpleUploadedFile("m.json", xgboost_files["json"])}, format="multipart")
    assert response.status_code == 201 and response.json()["format"] == "xgboost-json"
    data, marker = pickle_canary
    for name in ("m.pkl", "m.json", "m.zip"):
        refused = api.post("/api/v1/model-versions/upload/", {
            "group": group.id, "file": SimpleUploadedFile(name, data)}, format="multipart")
        assert refused.status_code == 400 and refused.json()["error"]["fields"] == {"file": [
            refused.json()["error"]["message"]]}
    assert not marker.exists() and ModelVersion.objects.count() == 1


def test_approval_is_for_approvers_only(api_client, version, member):
    api_client.force_authenticate(member("data_scientist"))
    path = f"/api/v1/model-versions/{version.id}/approval/"
    assert api_client.post(path, {"status": "Approved"}, format="json").status_code == 403
    engineer = member("ml_engineer")
    api_client.force_authenticate(engineer)
    response = api_client.post(path, {"status": "Approved", "comment": "ship it"}, format="json")
    assert response.status_code == 200
    assert response.json()["approval_status"] == "Approved"
    assert response.json()["approvals"][0] | {"at": None} == {"previous": "PendingManualApproval",
                                                              "status": "Approved", "comment": "ship it",
                                                              "by": engineer.username, "at": None}
    back = api_client.post(path, {"status": "PendingManualApproval"}, format="json")
    assert back.json()["approval_status"] == "PendingManualApproval"


def test_aliases_set_move_and_remove(api, version, group, trained, owner):
    from apps.registry.services import model_version_register_training

    second = model_version_register_training(group=group, training=trained, user=owner)
    path = f"/api/v1/model-groups/{group.id}/aliases/"
    assert api.post(path, {"name": "champion", "version": version.id}, format="json").json()["version"] == 1
    assert api.post(path, {"name": "champion", "version": second.id}, format="json").json()["version"] == 2
    bad = api.post(path, {"name": "Top Model", "version": version.id}, format="json")
    assert bad.status_code == 400 and "lower-case" in bad.json()["error"]["message"]
    assert api.get(f"/api/v1/model-groups/{group.id}/").json()["aliases"][0]["name"] == "champion"
    assert api.delete(f"{path}champion/").status_code == 204
    assert api.delete(f"{path}champion/").status_code == 404


def test_alias_changes_need_the_role_to_manage_models(api_client, version, group, member):
    api_client.force_authenticate(member("analyst"))
    response = api_client.post(f"/api/v1/model-groups/{group.id}/aliases/", {"name": "champion",
                                                                             "version": version.id}, format="json")
    assert response.status_code == 403


def test_card_update_revisions_and_exports(api, version):
    path = f"/api/v1/model-cards/{version.card.id}/"
    response = api.patch(path, {"overview": "API overview", "risk_rating": "low",
                                "custom_fields": [{"key": "team", "value": "ml"}]}, format="json")
    assert response.status_code == 200 and response.json()["revision"] == 2
    revisions = api.get(f"{path}revisions/").json()
    assert [revision["number"] for revision in revisions] == [2, 1]
    assert revisions[0]["content"]["overview"] == "API overview"
    assert api.get(f"{path}export/?as=json").json()["card"]["custom_fields"] == [{"key": "team", "value": "ml"}]
    assert "API overview" in api.get(f"{path}export/?as=html").content.decode()
    pdf = api.get(f"{path}export/?as=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert api.get(f"{path}export/?as=docx").status_code == 400
    bad = api.patch(path, {"risk_rating": "extreme"}, format="json")
    assert bad.status_code == 400


def test_card_approval_needs_an_approver(api_client, version, member):
    api_client.force_authenticate(member("data_scientist"))
    response = api_client.patch(f"/api/v1/model-cards/{version.card.id}/", {"status": "Approved"}, format="json")
    assert response.status_code == 403


def test_verify_refuses_a_tampered_file(api, version, tamper):
    path = f"/api/v1/model-versions/{version.id}/verify/"
    assert api.post(path).json()["verified"] is True
    tamper(version)
    response = api.post(path)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "checksum_mismatch"
    assert api.get(f"/api/v1/model-versions/{version.id}/download/").status_code == 409


def test_foreign_versions_and_cards_are_404(api_client, version, make_user):
    stranger = make_user("stranger")
    project_create(name="Theirs", user=stranger)
    api_client.force_authenticate(stranger)
    assert api_client.get(f"/api/v1/model-versions/{version.id}/").status_code == 404
    assert api_client.post(f"/api/v1/model-versions/{version.id}/approval/", {"status": "Approved"},
                           format="json").status_code == 404
    assert api_client.get(f"/api/v1/model-cards/{version.card.id}/").status_code == 404
    assert api_client.get("/api/v1/model-versions/").json()["results"] == []


def test_the_schema_documents_the_registry(api):
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    for path in ("/api/v1/model-groups/", "/api/v1/model-groups/{id}/aliases/",
                 "/api/v1/model-groups/{id}/aliases/{alias}/", "/api/v1/model-versions/upload/",
                 "/api/v1/model-versions/{id}/approval/", "/api/v1/model-cards/{id}/export/",
                 "/api/v1/model-cards/{id}/revisions/"):
        assert path in schema["paths"]


def test_a_labeler_may_not_read_models(api_client, version, member):
    api_client.force_authenticate(member("labeler"))
    assert api_client.get(f"/api/v1/model-versions/{version.id}/").status_code == 403
    assert api_client.get("/api/v1/model-versions/").json()["results"] == []
    assert api_client.get("/api/v1/model-groups/").json()["results"] == []


def test_download_gives_the_verified_model_file(api, version):
    response = api.get(f"/api/v1/model-versions/{version.id}/download/")
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == version.artifact.sha256
    assert "attachment" in response["Content-Disposition"]


def test_lists_filter_by_project_and_group(api, version, group, project, owner):
    other = model_group_create(project=project, user=owner, name="empty-group")
    assert [v["id"] for v in api.get(f"/api/v1/model-versions/?group={group.id}").json()["results"]] == [version.id]
    assert api.get(f"/api/v1/model-versions/?group={other.id}").json()["results"] == []
    groups = api.get(f"/api/v1/model-groups/?project={project.slug}").json()["results"]
    assert {g["name"]: g["latest_version"] for g in groups} == {"penguin-species": 1, "empty-group": None}
    cards = api.get(f"/api/v1/model-cards/?project={project.slug}").json()["results"]
    assert [card["version"] for card in cards] == [version.id]
    assert api.get("/api/v1/model-cards/?project=nope").json()["results"] == []
