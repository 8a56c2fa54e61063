"""/api/v1/experiments/ and /api/v1/runs/: one test per action, with the roles that may and may not, another
project's ids (404) and bad input (400 with a message that says what is wrong)."""

from __future__ import annotations

import pytest

from apps.experiments.models import Experiment, Run, RunMetric

EXPERIMENTS, RUNS = "/api/v1/experiments/", "/api/v1/runs/"


@pytest.fixture
def analyst(member):
    return member("analyst")


def test_experiments_list_shows_readable_projects_only(api_client, owner, experiment, labeler, stranger):
    api_client.force_authenticate(owner)
    body = api_client.get(EXPERIMENTS, {"project": "alpha"}).json()
    assert [row["name"] for row in body["results"]] == ["churn"] and body["results"][0]["project"] == "alpha"
    for user in (labeler, stranger):
        api_client.force_authenticate(user)
        assert api_client.get(EXPERIMENTS).json()["results"] == []


def test_experiment_create_update_delete_and_restore(api_client, owner):
    api_client.force_authenticate(owner)
    created = api_client.post(EXPERIMENTS, {"project": "alpha", "name": "fraud", "description": "v1"})
    assert created.status_code == 201, created.json()
    url = f"{EXPERIMENTS}{created.json()['id']}/"
    assert api_client.patch(url, {"description": "v2"}).json()["description"] == "v2"
    again = api_client.post(EXPERIMENTS, {"project": "alpha", "name": "fraud"})
    assert again.status_code == 409 and "already has an experiment called 'fraud'" in again.json()["error"]["message"]
    assert api_client.delete(url).status_code == 204
    assert api_client.get(EXPERIMENTS).json()["results"] == []
    assert [r["name"] for r in api_client.get(EXPERIMENTS, {"deleted": "true"}).json()["results"]] == ["fraud"]
    restored = api_client.post(f"{url}restore/")
    assert restored.status_code == 200 and restored.json()["deleted_at"] is None


def test_experiment_roles_analyst_writes_labeler_403_stranger_404(api_client, experiment, analyst, labeler, stranger):
    url = f"{EXPERIMENTS}{experiment.id}/"
    api_client.force_authenticate(analyst)
    assert api_client.get(url).status_code == 200
    assert api_client.post(EXPERIMENTS, {"project": "alpha", "name": "mine"}).status_code == 201
    api_client.force_authenticate(labeler)
    assert api_client.get(url).status_code == 403
    assert api_client.post(EXPERIMENTS, {"project": "alpha", "name": "lab"}).status_code == 403
    assert api_client.delete(url).status_code == 403
    api_client.force_authenticate(stranger)
    assert api_client.get(url).status_code == 404
    assert api_client.post(EXPERIMENTS, {"project": "alpha", "name": "x"}).status_code == 404
    assert Experiment.objects.get(id=experiment.id).deleted_at is None


def test_token_auth_creates_a_run_and_logs_a_batch(api_client, owner, experiment):
    from apps.accounts.services import token_create

    _, key = token_create(user=owner, name="sdk")
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    created = api_client.post(RUNS, {"experiment": experiment.id, "name": "first", "params": {"max_depth": 6},
                                     "tags": {"team": "vision"}}, format="json")
    assert created.status_code == 201, created.json()
    run_id = created.json()["id"]
    body = {"metrics": [{"key": "loss", "value": 0.5, "timestamp": 1700000000000, "step": 0},
                        {"key": "loss", "value": 0.25, "timestamp": 1700000001000, "step": 1}],
            "params": [{"key": "lr", "value": "0.1"}], "tags": [{"key": "stage", "value": "dev"}]}
    logged = api_client.post(f"{RUNS}{run_id}/log-batch/", body, format="json")
    assert logged.status_code == 200, logged.json()
    assert logged.json()["metrics"] == {"loss": 0.25}
    assert logged.json()["params"] == {"max_depth": "6", "lr": "0.1"}
    assert logged.json()["tags"] == {"team": "vision", "stage": "dev"}


def test_log_batch_limits_name_the_limit(api_client, owner, make_run):
    run = make_run()
    api_client.force_authenticate(owner)
    url = f"{RUNS}{run.id}/log-batch/"
    too_many = api_client.post(url, {"metrics": [{"key": "m", "value": 1, "step": i} for i in range(1001)]},
                               format="json")
    assert too_many.status_code == 400
    assert too_many.json()["error"]["message"].startswith("A batch may hold at most 1000 metrics; this one has 1001.")
    params = api_client.post(url, {"params": [{"key": f"p{i}", "value": "1"} for i in range(101)]}, format="json")
    assert params.status_code == 400 and "at most 100 params" in params.json()["error"]["message"]
    tags = api_client.post(url, {"tags": [{"key": f"t{i}", "value": "1"} for i in range(101)]}, format="json")
    assert tags.status_code == 400 and "at most 100 tags" in tags.json()["error"]["message"]
    assert not RunMetric.objects.exists()


def test_log_batch_rejects_nan_and_bad_shapes_and_writes_nothing(api_client, owner, make_run):
    run = make_run()
    api_client.force_authenticate(owner)
    url = f"{RUNS}{run.id}/log-batch/"
    # JSON has no NaN, but Python's encoder (and many clients) write it; the parser reads it as a float.
    raw = '{"metrics": [{"key": "auc", "value": 0.5}, {"key": "auc", "value": NaN}]}'
    nan = api_client.post(url, raw, content_type="application/json")
    assert nan.status_code == 400
    assert "Metric #2 ('auc'): the value nan is not a finite number" in nan.json()["error"]["message"]
    assert api_client.post(url, {"metrics": {"key": "a"}}, format="json").status_code == 400
    assert api_client.post(url, {"params": [{"value": 1}]}, format="json").status_code == 400
    assert api_client.post(url, {"metrics": [{"key": "a", "value": "high"}]}, format="json").status_code == 400
    assert not RunMetric.objects.exists()


def test_runs_list_searches_sorts_and_pages(api_client, owner, experiment, runs):
    api_client.force_authenticate(owner)
    body = api_client.get(RUNS, {"experiment": experiment.id, "filter": "metrics.auc > 0.9 and params.max_depth = 6",
                                 "order_by": "metrics.auc DESC"}).json()
    assert [row["name"] for row in body["results"]] == ["deep", "forest"] and body["count"] == 2
    page = api_client.get(RUNS, {"order_by": "metrics.auc DESC", "page_size": 1, "page": 2}).json()
    assert [row["name"] for row in page["results"]] == ["forest"] and page["count"] == 4
    unknown = api_client.get(RUNS, {"filter": "metrics.nothing > 1"})
    assert unknown.status_code == 200 and unknown.json()["results"] == []


def test_a_malformed_filter_is_400_with_its_position(api_client, owner, runs):
    api_client.force_authenticate(owner)
    response = api_client.get(RUNS, {"filter": "metrics.auc > 0.9 or params.a = 1"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert "'or' at position 19 is not supported" in error["message"] and "filter" in error["fields"]
    assert api_client.get(RUNS, {"order_by": "sideways"}).status_code == 400
    assert api_client.get(RUNS, {"experiment": "x"}).status_code == 400


def test_run_detail_has_spec_and_artifacts_with_download_links(api_client, project, owner, make_run):
    from apps.core.artifacts import artifact_put_bytes
    from apps.experiments.services import run_attach_artifact

    run = make_run(spec={"script": "train.py"})
    artifact = artifact_put_bytes(data=b"{}", project=project, name="model.json", media_type="application/json",
                                  kind="model", user=owner)
    run_attach_artifact(run=run, artifact=artifact, name="model")
    api_client.force_authenticate(owner)
    body = api_client.get(f"{RUNS}{run.id}/").json()
    assert body["spec"] == {"script": "train.py"}
    assert body["artifacts"][0]["name"] == "model"
    assert api_client.get(body["artifacts"][0]["download"]).status_code == 200


def test_run_roles(api_client, make_run, experiment, analyst, labeler, stranger):
    run = make_run()
    api_client.force_authenticate(analyst)
    assert api_client.get(f"{RUNS}{run.id}/").status_code == 200
    assert api_client.post(f"{RUNS}{run.id}/log-batch/", {"metrics": [{"key": "a", "value": 1}]},
                           format="json").status_code == 200
    api_client.force_authenticate(labeler)
    assert api_client.get(RUNS).json()["results"] == []
    assert api_client.get(f"{RUNS}{run.id}/").status_code == 403
    assert api_client.get(f"{RUNS}{run.id}/metrics/a/").status_code == 403
    assert api_client.post(f"{RUNS}{run.id}/log-batch/", {}, format="json").status_code == 403
    assert api_client.post(RUNS, {"experiment": experiment.id}, format="json").status_code == 403
    api_client.force_authenticate(stranger)
    assert api_client.get(f"{RUNS}{run.id}/").status_code == 404
    assert api_client.post(f"{RUNS}{run.id}/finish/", {}, format="json").status_code == 404
    assert api_client.post(RUNS, {"experiment": experiment.id}, format="json").status_code == 404
    assert api_client.get(f"{RUNS}compare/", {"ids": str(run.id)}).status_code == 404
    assert Run.objects.count() == 1


def test_finish_delete_and_restore_a_run(api_client, owner, make_run):
    run = make_run()
    api_client.force_authenticate(owner)
    finished = api_client.post(f"{RUNS}{run.id}/finish/", {"status": "KILLED"}, format="json")
    assert finished.status_code == 200 and finished.json()["status"] == "KILLED" and finished.json()["ended_at"]
    assert api_client.post(f"{RUNS}{run.id}/finish/", {"status": "RUNNING"}, format="json").status_code == 400
    assert api_client.delete(f"{RUNS}{run.id}/").status_code == 204
    assert api_client.get(RUNS).json()["results"] == []
    assert [r["id"] for r in api_client.get(RUNS, {"deleted": "true"}).json()["results"]] == [run.id]
    assert api_client.post(f"{RUNS}{run.id}/restore/").json()["deleted_at"] is None


def test_metric_history_is_ordered_by_step(api_client, owner, make_run):
    from apps.experiments.services import run_log_batch

    run = make_run()
    run_log_batch(run=run, metrics=[{"key": "val loss", "value": v, "step": s, "timestamp": 5}
                                    for s, v in [(2, 0.2), (0, 0.9), (1, 0.5)]])
    api_client.force_authenticate(owner)
    body = api_client.get(f"{RUNS}{run.id}/metrics/val loss/").json()
    assert body == {"key": "val loss", "points": [{"step": 0, "value": 0.9, "timestamp": 5},
                                                 {"step": 1, "value": 0.5, "timestamp": 5},
                                                 {"step": 2, "value": 0.2, "timestamp": 5}]}
    assert api_client.get(f"{RUNS}{run.id}/metrics/nothing/").json()["points"] == []


def test_compare_marks_differing_keys(api_client, owner, runs):
    api_client.force_authenticate(owner)
    ids = f"{runs['deep'].id},{runs['shallow'].id}"
    body = api_client.get(f"{RUNS}compare/", {"ids": ids}).json()
    assert [r["name"] for r in body["runs"]] == ["deep", "shallow"]
    params = {row["key"]: row for row in body["params"]}
    assert params["max_depth"] == {"key": "max_depth", "values": ["6", "2"], "differs": True}
    assert params["algorithm"]["differs"] is False
    metrics = {row["key"]: row for row in body["metrics"]}
    assert metrics["rmse"] == {"key": "rmse", "values": [3.0, None], "differs": True}
    assert api_client.get(f"{RUNS}compare/", {"ids": "1,x"}).status_code == 400
    assert api_client.get(f"{RUNS}compare/", {"ids": ""}).status_code == 400
    assert api_client.get(f"{RUNS}compare/", {"ids": "99999"}).status_code == 404
