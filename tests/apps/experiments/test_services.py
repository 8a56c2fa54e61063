"""Experiments and runs written through the services other areas call: names, roles, batches all or nothing."""

from __future__ import annotations

import math

import pytest

from apps.core.errors import Conflict, Forbidden, NotFound, UserError
from apps.core.models import AuditEvent, Job
from apps.experiments.models import Experiment, Run, RunMetric, RunStatus
from apps.experiments.services import (
    experiment_create,
    experiment_delete,
    experiment_get_or_create,
    experiment_restore,
    run_attach_artifact,
    run_delete,
    run_finish,
    run_log_batch,
    run_log_limits,
    run_restore,
    run_start,
)


def test_get_or_create_returns_the_same_experiment_by_name(project, owner):
    first = experiment_get_or_create(project=project, name=" churn ", user=owner)
    assert experiment_get_or_create(project=project, name="churn", user=owner) == first
    assert Experiment.objects.count() == 1 and first.name == "churn" and first.created_by == owner


def test_names_are_unique_per_project_and_not_empty(project, owner, experiment):
    with pytest.raises(Conflict, match="already has an experiment called 'churn'"):
        experiment_create(project=project, name="churn", user=owner)
    with pytest.raises(UserError, match="Give the experiment a name"):
        experiment_create(project=project, name="  ", user=owner)


def test_a_deleted_experiment_takes_no_runs_until_restored(project, owner, experiment):
    experiment_delete(experiment=experiment, user=owner)
    with pytest.raises(Conflict, match="is deleted"):
        experiment_get_or_create(project=project, name="churn", user=owner)
    with pytest.raises(Conflict, match="is deleted"):
        run_start(experiment=experiment, user=owner)
    experiment_restore(experiment=experiment, user=owner)
    assert run_start(experiment=experiment, user=owner).status == RunStatus.RUNNING


def test_roles_without_run_jobs_cannot_write_and_strangers_see_nothing(project, experiment, labeler, stranger):
    with pytest.raises(Forbidden):
        experiment_get_or_create(project=project, name="mine", user=labeler)
    with pytest.raises(Forbidden):
        run_start(experiment=experiment, user=labeler)
    with pytest.raises(NotFound):
        run_start(experiment=experiment, user=stranger)


def test_run_start_keeps_params_as_text_with_a_numeric_copy_and_links_its_job(project, owner, experiment):
    job = Job.objects.create(project=project, owner=owner, kind="test.count", title="Train")
    run = run_start(experiment=experiment, user=owner, source="training", job=job,
                    params={"max_depth": 6, "lr": 0.1, "algorithm": "xgboost"}, tags={"team": "vision"},
                    spec={"algorithm": "xgboost"})
    run.refresh_from_db()
    assert run.params == {"max_depth": "6", "lr": "0.1", "algorithm": "xgboost"}
    assert run.params_numeric == {"max_depth": 6.0, "lr": 0.1}
    assert run.job == job and run.source == "training" and run.name.startswith("run-")
    assert AuditEvent.objects.filter(action="run.start").exists()


def test_run_start_refuses_lineage_of_another_project(owner, experiment, stranger):
    from apps.core.models import Project

    elsewhere = Project.objects.get(name="Elsewhere")
    job = Job.objects.create(project=elsewhere, owner=stranger, kind="test.count", title="Theirs")
    with pytest.raises(UserError, match="belongs to another project"):
        run_start(experiment=experiment, user=owner, job=job)


def test_log_batch_writes_points_and_keeps_the_last_steps_value(make_run):
    run = make_run()
    run_log_batch(run=run, metrics=[{"key": "loss", "value": 0.9, "step": 0}, {"key": "loss", "value": 0.4, "step": 2},
                                    {"key": "loss", "value": 0.6, "step": 1}], params={"seed": 7}, tags={"a": "b"})
    run_log_batch(run=run, metrics=[{"key": "loss", "value": 5.0, "step": 1}])  # an older step: history only
    run.refresh_from_db()
    assert run.metrics == {"loss": 0.4} and run.params == {"seed": "7"} and run.tags == {"a": "b"}
    assert list(RunMetric.objects.filter(run=run).order_by("step", "id").values_list("step", "value")) == [
        (0, 0.9), (1, 0.6), (1, 5.0), (2, 0.4)]


@pytest.mark.parametrize("bad, message", [
    ({"key": "auc", "value": math.nan}, "Metric #2 ('auc'): the value nan is not a finite number"),
    ({"key": "auc", "value": math.inf}, "the value inf is not a finite number"),
    ({"key": "", "value": 1}, "Metric #2 has no key"),
])
def test_a_bad_metric_writes_nothing_of_its_batch(make_run, bad, message):
    run = make_run()
    with pytest.raises(UserError) as caught:
        run_log_batch(run=run, metrics=[{"key": "ok", "value": 1}, bad], params={"p": 1})
    assert message in caught.value.message and caught.value.field == "metrics"
    run.refresh_from_db()
    assert not RunMetric.objects.exists() and run.metrics == {} and run.params == {}


def test_a_param_keeps_its_first_value(make_run):
    run = make_run(params={"depth": 3})
    run_log_batch(run=run, params={"depth": "3"})  # the same value again is fine
    with pytest.raises(UserError, match="'depth' was logged as '3'; a param cannot change to '4'"):
        run_log_batch(run=run, metrics=[{"key": "x", "value": 1}], params={"depth": 4})
    assert not RunMetric.objects.exists()


def test_the_batch_limits_name_the_limit():
    run_log_limits(metrics=1000, params=100, tags=100)
    with pytest.raises(UserError, match="at most 1000 metrics; this one has 1001"):
        run_log_limits(metrics=1001, params=0, tags=0)
    with pytest.raises(UserError, match="at most 100 params"):
        run_log_limits(metrics=0, params=101, tags=0)


def test_finish_delete_restore_and_artifacts(project, owner, make_run):
    from apps.core.artifacts import artifact_put_bytes

    run = make_run()
    run_finish(run=run, status="failed")
    assert run.status == RunStatus.FAILED and run.ended_at is not None
    with pytest.raises(UserError, match="FINISHED, FAILED or KILLED"):
        run_finish(run=run, status="paused")
    artifact = artifact_put_bytes(data=b"{}", project=project, name="model.json", media_type="application/json",
                                  kind="model", user=owner)
    run_attach_artifact(run=run, artifact=artifact, name="model")
    assert [a.name for a in run.artifacts.all()] == ["model"]
    run_delete(run=run, user=owner)
    with pytest.raises(Conflict, match="deleted"):
        run_log_batch(run=run, metrics=[{"key": "x", "value": 1}])
    run_restore(run=run, user=owner)
    assert Run.objects.get(id=run.id).deleted_at is None
