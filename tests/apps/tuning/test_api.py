"""/api/v1/tuning-strategies/ and /api/v1/tuning-jobs/: one test per action, with roles, other projects' ids
and bad input."""

from __future__ import annotations

import pytest

from apps.core.models import Job, JobStatus
from apps.core.roles import Role
from apps.tuning.models import TuningJob
from apps.tuning.services import tuning_job_tick
from engine.tuning import STRATEGIES

from .conftest import SMALL_RANGES

URL = "/api/v1/tuning-jobs/"


@pytest.fixture
def body(penguins):
    return {"project": "alpha", "dataset": penguins.id, "algorithm": "xgboost", "target": "species",
            "strategy": "random", "ranges": SMALL_RANGES, "max_trials": 3, "max_parallel": 2}


def test_strategies_lists_the_registry(api_client, labeler) -> None:
    api_client.force_authenticate(labeler)
    listed = api_client.get("/api/v1/tuning-strategies/").json()
    assert [entry["name"] for entry in listed] == list(STRATEGIES)
    assert "eta" in next(entry for entry in listed if entry["name"] == "hyperband")["options"]


def test_strategies_needs_a_signed_in_user(api_client) -> None:
    assert api_client.get("/api/v1/tuning-strategies/").status_code in (401, 403)


def test_create_starts_the_coordinator(api_client, owner, body) -> None:
    api_client.force_authenticate(owner)
    response = api_client.post(URL, {**body, "ranges": {"ContinuousParameterRanges": [
        {"Name": "learning_rate", "MinValue": "0.05", "MaxValue": "0.5", "ScalingType": "Logarithmic"}]}},
        format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["status"] == "Pending" and created["objective_metric"] == "balanced_accuracy"
    assert created["direction"] == "maximize" and created["problem_type"] == "multiclass"
    assert created["ranges"] == [{"name": "learning_rate", "type": "continuous", "min": 0.05, "max": 0.5,
                                  "scale": "log"}]
    job = Job.objects.get(id=created["job"]["id"])
    assert job.kind == "tuning.run" and job.queue == "default"


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"ranges": {"max_depth": {"min": 9, "max": 2}}}, "ranges", "The max_depth range starts above where it ends"),
    ({"ranges": {"learning_rate": {"min": 0.0001, "max": 9}}}, "ranges", "learning_rate range is not accepted"),
    ({"max_trials": 2, "max_parallel": 5}, "max_parallel", "no more than 2 can run at a time"),
    ({"strategy": "grid", "max_trials": None, "ranges": {"n_estimators": {"min": 1, "max": 400},
                                                          "max_depth": {"min": 1, "max": 10}}},
     "ranges", "The grid has 4,000 combinations"),
    ({"objective_metric": "r2"}, "objective_metric", "'r2' is not a metric of multiclass problems"),
    ({"strategy": "simplex"}, "strategy", "no tuning strategy called 'simplex'"),
])
def test_create_with_bad_input_is_400_naming_the_problem(api_client, owner, body, change, field, message) -> None:
    api_client.force_authenticate(owner)
    response = api_client.post(URL, {**body, **change}, format="json")
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert message in error["message"] and field in error["fields"]
    assert not TuningJob.objects.exists()


def test_create_needs_run_jobs(api_client, labeler, body) -> None:
    api_client.force_authenticate(labeler)
    assert api_client.post(URL, body, format="json").status_code == 403
    assert not TuningJob.objects.exists()


def test_create_with_another_projects_ids_is_404(api_client, stranger, owner, body, start_tuning) -> None:
    mine = start_tuning()
    api_client.force_authenticate(stranger)
    assert api_client.post(URL, {**body, "project": "elsewhere"}, format="json").status_code == 404  # dataset
    assert api_client.post(URL, body, format="json").status_code == 404  # project
    assert api_client.get(f"{URL}{mine.id}/").status_code == 404
    assert api_client.post(f"{URL}{mine.id}/stop/").status_code == 404
    assert api_client.get(URL).json()["results"] == []


def test_create_with_another_projects_warm_start_is_404(api_client, stranger, body, start_tuning,
                                                        penguins) -> None:
    import palmerpenguins

    from apps.core.models import Project
    from apps.datasets.services import dataset_import_dataframe

    mine = start_tuning()
    theirs = dataset_import_dataframe(project=Project.objects.get(slug="elsewhere"), user=stranger, name="p",
                                      frame=palmerpenguins.load_penguins())
    api_client.force_authenticate(stranger)
    response = api_client.post(URL, {**body, "project": "elsewhere", "dataset": theirs.id,
                                     "warm_start_from": mine.id}, format="json")
    assert response.status_code == 404


def test_list_and_retrieve_with_trials(api_client, member, start_tuning) -> None:
    tuning = start_tuning()
    tuning_job_tick(tuning=tuning)
    api_client.force_authenticate(member(Role.ANALYST))
    listed = api_client.get(URL, {"project": "alpha"}).json()["results"]
    assert [entry["id"] for entry in listed] == [tuning.id]
    detail = api_client.get(f"{URL}{tuning.id}/").json()
    assert [trial["number"] for trial in detail["trials"]] == [0, 1]
    assert detail["trials"][0]["status"] == "running" and detail["trials"][0]["training_job"]
    assert detail["trials"][0]["job_status"] == "Pending" and detail["importance"] is None


def test_stop_stops_the_coordinator(api_client, owner, labeler, start_tuning) -> None:
    tuning = start_tuning()
    api_client.force_authenticate(labeler)
    assert api_client.post(f"{URL}{tuning.id}/stop/").status_code == 403
    api_client.force_authenticate(owner)
    response = api_client.post(f"{URL}{tuning.id}/stop/")
    assert response.status_code == 200 and response.json()["status"] == JobStatus.STOPPED
    again = api_client.post(f"{URL}{tuning.id}/stop/")
    assert again.status_code == 409
