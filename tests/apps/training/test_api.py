"""/api/v1/algorithms/ and /api/v1/training-jobs/: one test per action, with roles and bad input."""

from __future__ import annotations

from apps.core.models import Job
from apps.core.roles import Role
from apps.training.models import TrainingJob
from engine.training import ALGORITHMS

URL = "/api/v1/training-jobs/"


def test_algorithms_lists_every_registered_algorithm_with_its_schema(api_client, owner) -> None:
    api_client.force_authenticate(owner)
    body = api_client.get("/api/v1/algorithms/").json()
    assert [entry["name"] for entry in body] == list(ALGORITHMS)
    xgboost = next(entry for entry in body if entry["name"] == "xgboost")
    rate = next(p for p in xgboost["hyperparameters"] if p["name"] == "learning_rate")
    assert rate == {"name": "learning_rate", "kind": "number", "label": "Learning rate", "default": 0.3,
                    "help": "Shrinkage of each round (eta).", "nullable": False, "log": True, "minimum": 0.001,
                    "maximum": 1.0}
    assert xgboost["checkpoints"] is True and "regression" in xgboost["problem_types"]


def test_algorithms_filters_by_problem_type_and_retrieves_one(api_client, owner) -> None:
    api_client.force_authenticate(owner)
    clustering = api_client.get("/api/v1/algorithms/", {"problem_type": "clustering"}).json()
    assert [entry["name"] for entry in clustering] == ["kmeans"]
    mlp = api_client.get("/api/v1/algorithms/mlp/").json()
    assert mlp["curves"] == ["loss"]
    processes = next(p for p in mlp["hyperparameters"] if p["name"] == "processes")
    assert processes["default"] == 1 and processes["maximum"] == 16
    missing = api_client.get("/api/v1/algorithms/lightgbm/")
    assert missing.status_code == 404 and "lightgbm" in missing.json()["error"]["message"]


def test_algorithms_needs_a_signed_in_user(api_client) -> None:
    assert api_client.get("/api/v1/algorithms/").status_code in (401, 403)


def test_create_starts_a_training_job(api_client, owner, penguins) -> None:
    api_client.force_authenticate(owner)
    response = api_client.post(URL, {"project": "alpha", "dataset": penguins.id, "algorithm": "random_forest",
                                     "target": "species", "hyperparameters": {"n_estimators": 30},
                                     "validation": "kfold", "folds": 3}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "Pending" and body["hyperparameters"]["n_estimators"] == 30
    assert Job.objects.get(id=body["job"]["id"]).kind == "training.fit"
    assert TrainingJob.objects.get(id=body["id"]).folds == 3


def test_create_with_bad_input_is_400_naming_the_field(api_client, owner, penguins) -> None:
    api_client.force_authenticate(owner)
    response = api_client.post(URL, {"project": "alpha", "dataset": penguins.id, "algorithm": "xgboost",
                                     "target": "species", "hyperparameters": {"learning_rate": 5}}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert "Learning rate must be at most 1; got 5." in error["message"]
    assert not TrainingJob.objects.exists()
    unknown = api_client.post(URL, {"project": "alpha", "dataset": penguins.id, "algorithm": "xgboost",
                                    "target": "species", "hyperparameters": {"depth": 3}}, format="json")
    assert unknown.status_code == 400 and "no hyperparameter called 'depth'" in unknown.json()["error"]["message"]


def test_create_is_refused_to_a_labeler_and_hidden_from_a_stranger(api_client, penguins, member, stranger) -> None:
    api_client.force_authenticate(member(Role.LABELER))
    body = {"project": "alpha", "dataset": penguins.id, "algorithm": "xgboost", "target": "species"}
    assert api_client.post(URL, body, format="json").status_code == 403
    api_client.force_authenticate(stranger)
    assert api_client.post(URL, body, format="json").status_code == 404


def test_list_and_retrieve_give_the_evaluation_once_completed(api_client, owner, trained, stranger) -> None:
    api_client.force_authenticate(owner)
    listed = api_client.get(URL, {"project": "alpha"}).json()["results"]
    assert [row["id"] for row in listed] == [trained.id] and "evaluation" not in listed[0]
    detail = api_client.get(f"{URL}{trained.id}/").json()
    assert detail["status"] == "Completed" and detail["model_artifact"] == str(trained.model.uuid)
    assert detail["evaluation"]["metrics"]["balanced_accuracy"] > 0.9
    assert detail["evaluation"]["charts"]["confusion_matrix"]["labels"] == ["Adelie", "Chinstrap", "Gentoo"]
    api_client.force_authenticate(stranger)
    assert api_client.get(f"{URL}{trained.id}/").status_code == 404
    assert api_client.get(URL).json()["results"] == []


SCRIPT = "import os\nprint('loss=0.5')\nopen(os.path.join(os.environ['SM_MODEL_DIR'], 'model.txt'), 'w').write('m')\n"


def test_script_create_takes_the_script_as_json_text(api_client, owner, penguins) -> None:
    api_client.force_authenticate(owner)
    response = api_client.post(f"{URL}script/", {
        "project": "alpha", "dataset": penguins.id, "script": SCRIPT, "hyperparameters": {"epochs": 3},
        "metric_definitions": [{"name": "loss", "regex": "loss=([0-9.]+)"}], "timeout_seconds": 30},
        format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["kind"] == "script" and body["algorithm"] == "script" and body["timeout_seconds"] == 30
    assert body["metric_definitions"] == [{"name": "loss", "regex": "loss=([0-9.]+)"}]
    assert Job.objects.get(id=body["job"]["id"]).kind == "training.script"
    training = TrainingJob.objects.get(id=body["id"])
    assert body["script_artifact"] == str(training.script.uuid) and training.hyperparameters == {"epochs": 3}


def test_script_create_takes_the_script_as_a_multipart_file(api_client, owner, penguins) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    api_client.force_authenticate(owner)
    response = api_client.post(f"{URL}script/", {
        "project": "alpha", "dataset": str(penguins.id), "script": SimpleUploadedFile("train.py", SCRIPT.encode()),
        "hyperparameters": '{"lr": 0.1}', "metric_definitions": '[{"name": "loss", "regex": "loss=([0-9.]+)"}]'},
        format="multipart")
    assert response.status_code == 201, response.json()
    training = TrainingJob.objects.get(id=response.json()["id"])
    assert training.hyperparameters == {"lr": 0.1} and training.metric_definitions[0]["name"] == "loss"


def test_script_create_names_a_bad_regex_and_is_refused_to_an_analyst(api_client, owner, penguins,
                                                                      member) -> None:
    api_client.force_authenticate(owner)
    bad = api_client.post(f"{URL}script/", {"project": "alpha", "dataset": penguins.id, "script": SCRIPT,
                                            "metric_definitions": [{"name": "loss", "regex": "loss"}]}, format="json")
    assert bad.status_code == 400 and "capture group" in bad.json()["error"]["message"]
    api_client.force_authenticate(member(Role.ANALYST))
    refused = api_client.post(f"{URL}script/", {"project": "alpha", "dataset": penguins.id, "script": SCRIPT},
                              format="json")
    assert refused.status_code == 403
    assert not TrainingJob.objects.exists()
    api_client.force_authenticate(member(Role.DATA_SCIENTIST))
    assert api_client.post(f"{URL}script/", {"project": "alpha", "dataset": penguins.id, "script": SCRIPT},
                           format="json").status_code == 201


def test_onnx_returns_the_file_or_409_with_the_reason(api_client, owner, member, stranger, trained,
                                                       monkeypatch) -> None:
    from apps.core.roles import Role

    url = f"/api/v1/training-jobs/{trained.id}/onnx/"
    api_client.force_authenticate(owner)
    response = api_client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/octet-stream"
    assert ".onnx" in response["Content-Disposition"] and response.content[:2]
    api_client.force_authenticate(stranger)
    assert api_client.get(url).status_code == 404
    api_client.force_authenticate(member(Role.LABELER))
    assert api_client.get(url).status_code == api_client.get(f"/api/v1/training-jobs/{trained.id}/").status_code

    import engine.training.onnx_export as onnx_export

    monkeypatch.setattr(onnx_export, "EXPORTABLE", ())
    api_client.force_authenticate(owner)
    refused = api_client.get(url)
    assert refused.status_code == 409 and "no ONNX converter" in refused.content.decode()
