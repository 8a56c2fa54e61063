"""/api/v1/automl-jobs/: create, list, retrieve (leaderboard, best, evaluation), what-if and predict, by role."""

from __future__ import annotations

import io

import palmerpenguins
import pytest

from apps.core.roles import Role


def _client(api_client, user):
    api_client.force_authenticate(user)
    return api_client


def test_an_analyst_starts_a_build_and_gets_400s_that_name_the_field(api_client, member, project, penguins):
    client = _client(api_client, member(Role.ANALYST))
    body = {"project": project.slug, "dataset": penguins.id, "target": "species", "budget": "custom",
            "budget_seconds": 30}
    created = client.post("/api/v1/automl-jobs/", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["budget_seconds"] == 30 and created.json()["status"] == "Pending"
    for change, field in (({"target": "wings"}, "target"), ({"budget_seconds": 2}, "budget_seconds"),
                          ({"metric": "rmse"}, "metric"), ({"budget": "forever"}, "budget")):
        refused = client.post("/api/v1/automl-jobs/", {**body, **change}, format="json")
        assert refused.status_code == 400, (change, refused.json())
        assert field in str(refused.json()), refused.json()


def test_labelers_cannot_create_or_read_and_strangers_get_404(api_client, labeler, stranger, project, penguins,
                                                              owner):
    from apps.automl.services import automl_job_start

    automl = automl_job_start(project=project, user=owner, dataset=penguins, target="species")
    client = _client(api_client, labeler)
    assert client.post("/api/v1/automl-jobs/", {"project": project.slug, "dataset": penguins.id,
                                                "target": "species"}, format="json").status_code == 403
    assert client.get(f"/api/v1/automl-jobs/{automl.id}/").status_code == 403
    assert client.get("/api/v1/automl-jobs/").json()["results"] == []
    client = _client(api_client, stranger)
    assert client.get(f"/api/v1/automl-jobs/{automl.id}/").status_code == 404
    assert client.post(f"/api/v1/automl-jobs/{automl.id}/what-if/", {"row": {}}, format="json").status_code == 404
    assert client.post(f"/api/v1/automl-jobs/{automl.id}/predict/", {"rows": [{}]}, format="json").status_code == 404


def test_a_completed_build_answers_retrieve_what_if_and_predict(api_client, built, owner):
    client = _client(api_client, owner)
    detail = client.get(f"/api/v1/automl-jobs/{built.id}/").json()
    assert detail["status"] == "Completed"
    assert detail["leaderboard"][0]["rank"] == 1
    assert detail["best"]["metric"] == "balanced_accuracy"
    assert "confusion_matrix" in detail["evaluation"]["test"]["charts"]
    assert client.get(f"/api/v1/artifacts/{detail['script_artifact']}/download/").status_code == 200
    assert [job["id"] for job in client.get("/api/v1/automl-jobs/").json()["results"]] == [built.id]

    row = detail["best"]["typical_row"]
    answer = client.post(f"/api/v1/automl-jobs/{built.id}/what-if/", {"row": row}, format="json")
    assert answer.status_code == 200 and set(answer.json()["probabilities"]) == {"Adelie", "Chinstrap", "Gentoo"}
    wrong = client.post(f"/api/v1/automl-jobs/{built.id}/what-if/", {"row": {**row, "body_mass_g": "heavy"}},
                        format="json")
    assert wrong.status_code == 400 and "body_mass_g" in str(wrong.json())
    missing = {key: value for key, value in row.items() if key != "island"}
    assert "island" in str(client.post(f"/api/v1/automl-jobs/{built.id}/what-if/", {"row": missing},
                                       format="json").json())

    predicted = client.post(f"/api/v1/automl-jobs/{built.id}/predict/", {"rows": [row, row]}, format="json")
    assert predicted.status_code == 200 and len(predicted.json()["rows"]) == 2
    assert "prediction" in predicted.json()["columns"]
    csv = palmerpenguins.load_penguins().head(5).drop(columns=["species"]).to_csv(index=False).encode()
    upload = client.post(f"/api/v1/automl-jobs/{built.id}/predict/",
                         {"file": io.BytesIO(csv)}, format="multipart")
    assert upload.status_code == 200 and upload["Content-Type"] == "text/csv"
    assert upload.content.decode().splitlines()[0].endswith("probability_Gentoo")
    lacking = palmerpenguins.load_penguins().head(5)[["island"]].to_csv(index=False).encode()
    refused = client.post(f"/api/v1/automl-jobs/{built.id}/predict/", {"file": io.BytesIO(lacking)},
                          format="multipart")
    assert refused.status_code == 400 and "bill_length_mm" in str(refused.json())


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()
