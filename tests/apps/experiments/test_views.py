"""The Experiments pages: list and create, the runs table with search (errors inline), sort and the show-deleted
toggle, a run's page with lineage, params, charts and artifact links, and the compare page."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from apps.experiments.models import Experiment


def url(name, project, **kwargs):
    return reverse(f"experiments:{name}", kwargs={"project": project.slug, **kwargs})


def test_the_experiments_area_lists_and_creates_experiments(client, project, owner, experiment):
    client.force_login(owner)
    assert client.get(f"/p/{project.slug}/experiments/").status_code == 200
    page = client.get(url("list", project)).content.decode()
    assert "churn" in page and "Create experiment" in page
    response = client.post(url("create", project), {"name": "fraud"})
    created = Experiment.objects.get(name="fraud")
    assert response.status_code == 302 and response["Location"] == url("detail", project, experiment_id=created.id)
    again = client.post(url("create", project), {"name": "fraud"})
    assert again.status_code == 409 and "already has an experiment called" in again.content.decode()


def test_labelers_cannot_open_experiments_and_analysts_can(client, project, experiment, labeler, member):
    client.force_login(labeler)
    assert client.get(url("list", project)).status_code == 403
    assert client.get(url("detail", project, experiment_id=experiment.id)).status_code == 403
    client.force_login(member("analyst"))
    assert client.get(url("detail", project, experiment_id=experiment.id)).status_code == 200


def test_the_runs_table_searches_and_sorts(client, project, owner, experiment, runs):
    client.force_login(owner)
    detail = url("detail", project, experiment_id=experiment.id)
    page = client.get(detail, {"filter": "metrics.auc > 0.9", "order_by": "metrics.auc DESC"}).content.decode()
    assert page.index(">deep<") < page.index(">forest<") and ">shallow<" not in page
    assert "2 runs match" in page
    fragment = client.get(detail, {"filter": "params.algorithm = 'lightgbm'"}, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200 and "<html" not in fragment.content.decode()
    assert ">auto<" in fragment.content.decode() and ">deep<" not in fragment.content.decode()
    # sortable headers link to descending first
    assert "order_by=metrics.auc+DESC" in page or "order_by=metrics.auc+ASC" in page


def test_a_malformed_filter_shows_the_error_inline(client, project, owner, experiment, runs):
    client.force_login(owner)
    detail = url("detail", project, experiment_id=experiment.id)
    response = client.get(detail, {"filter": "metrics.auc > 0.9 or params.a = 1"})
    assert response.status_code == 400
    assert "&#x27;or&#x27; at position 19 is not supported" in response.content.decode()
    fragment = client.get(detail, {"filter": "metrics.auc >"}, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200 and 'id="search-error"' in fragment.content.decode()
    unknown = client.get(detail, {"filter": "metrics.nothing > 1"})
    assert unknown.status_code == 200 and "No run matches this search" in unknown.content.decode()


def test_delete_and_restore_a_run_with_the_show_deleted_toggle(client, project, owner, experiment, runs):
    client.force_login(owner)
    run = runs["auto"]
    assert client.post(url("run-delete", project, run_id=run.id)).status_code == 302
    detail = url("detail", project, experiment_id=experiment.id)
    assert ">auto<" not in client.get(detail).content.decode()
    assert ">auto<" in client.get(detail, {"deleted": "1"}).content.decode()
    client.post(url("run-restore", project, run_id=run.id))
    assert ">auto<" in client.get(detail).content.decode()


def test_delete_and_restore_an_experiment(client, project, owner, experiment):
    client.force_login(owner)
    client.post(url("delete", project, experiment_id=experiment.id))
    assert "churn" not in client.get(url("list", project)).content.decode()
    assert "churn" in client.get(url("list", project), {"deleted": "1"}).content.decode()
    client.post(url("restore", project, experiment_id=experiment.id))
    assert Experiment.objects.get(id=experiment.id).deleted_at is None


def test_the_run_page_shows_params_charts_lineage_and_artifact_links(client, project, owner, make_run):
    from apps.core.artifacts import artifact_put_bytes
    from apps.core.models import Job
    from apps.experiments.services import run_attach_artifact, run_log_batch

    job = Job.objects.create(project=project, owner=owner, kind="test.count", title="Train churn")
    run = make_run("deep", {"max_depth": 6}, tags={"team": "<b>vision</b>"}, job=job, spec={"script": "train.py"})
    run_log_batch(run=run, metrics=[{"key": "loss", "value": v, "step": s} for s, v in enumerate([0.9, 0.5, 0.3])])
    artifact = artifact_put_bytes(data=b"{}", project=project, name="model.json", media_type="application/json",
                                  kind="model", user=owner)
    run_attach_artifact(run=run, artifact=artifact, name="model.json")
    client.force_login(owner)
    page = client.get(url("run", project, run_id=run.id)).content.decode()
    assert "max_depth" in page and "&lt;b&gt;vision&lt;/b&gt;" in page and "Train churn" in page
    assert f"/api/v1/artifacts/{artifact.uuid}/download/" in page
    figure = json.loads(page.split('id="chart-metric-0" type="application/json">')[1].split("</script>")[0])
    assert figure["data"][0]["y"] == [0.9, 0.5, 0.3] and figure["data"][0]["x"] == [0, 1, 2]
    assert "train.py" in page


def test_the_compare_page_highlights_differences_and_draws_charts(client, project, owner, runs):
    client.force_login(owner)
    compare = url("compare", project)
    page = client.get(compare, {"ids": [runs["deep"].id, runs["shallow"].id]}).content.decode()
    assert 'class="param-row changed differs" data-key="max_depth"' in page
    assert 'class="param-row" data-key="algorithm"' in page
    for chart in ("chart-curve-0", "chart-parcoords", "chart-scatter"):
        assert f'id="{chart}"' in page
    only = client.get(compare, {"ids": f"{runs['deep'].id},{runs['shallow'].id}", "only_differences": "1",
                                "x": "lr", "y": "auc"}).content.decode()
    assert 'data-key="algorithm"' not in only and 'data-key="max_depth"' in only
    scatter = json.loads(only.split('id="chart-scatter" type="application/json">')[1].split("</script>")[0])
    assert scatter["data"][0]["x"] == [0.1, 0.3] and scatter["data"][0]["y"] == [0.95, 0.8]


@pytest.mark.parametrize("query, status", [({}, 400), ({"ids": "x"}, 400), ({"ids": "999999"}, 404)])
def test_the_compare_page_refuses_bad_ids(client, project, owner, query, status):
    client.force_login(owner)
    assert client.get(url("compare", project), query).status_code == status
