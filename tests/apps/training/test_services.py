"""Starting and running training jobs: checks before anything is saved, the job's outputs, and failures that
end the job with a message the user can act on."""

from __future__ import annotations

import pytest

from apps.core.artifacts import artifact_open
from apps.core.errors import Forbidden, UserError
from apps.core.models import JobStatus
from apps.core.roles import Role
from apps.training.models import TrainingJob
from apps.training.services import training_job_start
from engine.training import bundle_load


def test_a_completed_job_saves_a_loadable_bundle_and_an_evaluation(trained) -> None:
    assert trained.job.status == JobStatus.COMPLETED, trained.job.error
    assert trained.summary["problem_type"] == "multiclass"
    assert trained.summary["objective"] == "balanced_accuracy" and trained.summary["objective_value"] > 0.9
    with artifact_open(trained.model) as handle:
        model = bundle_load(handle.read())
    assert model.classes == ["Adelie", "Chinstrap", "Gentoo"]
    assert trained.job.outputs["model"] == str(trained.model.uuid)
    names = set(trained.job.metric_points.values_list("name", flat=True))
    assert {"train_mlogloss", "validation_mlogloss", "validation_balanced_accuracy"} <= names


def test_hyperparameters_are_stored_with_defaults_filled_in(trained) -> None:
    assert trained.hyperparameters["n_estimators"] == 20
    assert trained.hyperparameters["max_depth"] == 6


@pytest.mark.parametrize(("kwargs", "field", "message"), [
    ({"algorithm": "lightgbm", "target": "species"}, "algorithm", "no built-in algorithm called 'lightgbm'"),
    ({"algorithm": "xgboost", "target": ""}, "target", "choose the target column"),
    ({"algorithm": "xgboost", "target": "price"}, "target", "no column called 'price'"),
    ({"algorithm": "xgboost", "target": "species", "hyperparameters": {"max_depth": "deep"}}, "max_depth",
     "must be a number"),
    ({"algorithm": "kmeans", "problem_type": "binary"}, "problem_type", "not binary"),
    ({"algorithm": "xgboost", "target": "species", "validation": "kfold", "folds": 1}, "folds", "between 2 and 20"),
    ({"algorithm": "xgboost", "target": "species", "test_share": 0.9}, "test_share", "between 0.05 and 0.5"),
    ({"algorithm": "xgboost", "target": "species", "exclude": ["species"]}, "exclude", "cannot also be left out"),
])
def test_bad_requests_are_refused_before_anything_is_saved(project, owner, penguins, kwargs, field, message) -> None:
    with pytest.raises(UserError, match=message) as error:
        training_job_start(project=project, user=owner, dataset=penguins, **kwargs)
    assert error.value.field == field
    assert not TrainingJob.objects.exists()


def test_a_role_that_may_not_run_jobs_is_refused(project, penguins, member) -> None:
    with pytest.raises(Forbidden):
        training_job_start(project=project, user=member(Role.LABELER), dataset=penguins, algorithm="xgboost",
                           target="species")


def test_a_target_problem_found_while_training_fails_the_job_with_its_message(project, owner, penguins,
                                                                              run_job) -> None:
    training = training_job_start(project=project, user=owner, dataset=penguins, algorithm="linear_learner",
                                  target="species", problem_type="regression")
    job = run_job(training.job)
    assert job.status == JobStatus.FAILED
    assert "not numeric, so it cannot be a regression target" in job.error
    training.refresh_from_db()
    assert training.model is None and training.summary == {}


def test_unsupervised_training_ignores_the_target(project, owner, penguins, run_job) -> None:
    training = training_job_start(project=project, user=owner, dataset=penguins, algorithm="kmeans",
                                  target="species", hyperparameters={"n_clusters": 3}, exclude=["year"])
    assert training.target == ""
    job = run_job(training.job)
    assert job.status == JobStatus.COMPLETED, job.error
    training.refresh_from_db()
    assert training.summary["problem_type"] == "clustering" and "silhouette" in training.summary["metrics"]


def test_running_a_completed_job_again_keeps_its_model(trained, run_job) -> None:
    from apps.training.services import training_job_run

    model_id = trained.model_id
    outputs = training_job_run(job=trained.job, ctx=None)  # type: ignore[arg-type]
    assert outputs["model"] == str(trained.model.uuid)
    trained.refresh_from_db()
    assert trained.model_id == model_id


def test_a_model_trained_on_a_flows_output_carries_the_fitted_flow_for_serving(project, owner, penguins,
                                                                                run_job) -> None:
    import palmerpenguins

    from apps.wrangler.services import flow_apply_start, flow_create, flow_step_add

    flow = flow_create(project=project, user=owner, dataset=penguins, name="prep")
    flow = flow_step_add(flow=flow, user=owner, transform="scale_standard", params={"columns": ["flipper_length_mm"]})
    run_job(flow_apply_start(flow=flow, user=owner))
    flow.refresh_from_db()
    run = flow.trainable_run
    training = training_job_start(project=project, user=owner, dataset=run.output_version.dataset,
                                  version_number=run.output_version.number, flow_run=run, algorithm="linear_learner",
                                  target="body_mass_g")
    job = run_job(training.job)
    assert job.status == JobStatus.COMPLETED, job.error
    training.refresh_from_db()
    with artifact_open(training.model) as handle:
        model = bundle_load(handle.read())
    assert model.flow["steps"][0]["transform"] == "scale_standard"
    raw = palmerpenguins.load_penguins().drop(columns=["body_mass_g"]).dropna().head(5)
    # Raw rows go through the fitted scaler before the model: the same as predicting on the scaled version.
    scaled = model.prepare(raw)
    assert abs(scaled["flipper_length_mm"].mean()) < 3 and raw["flipper_length_mm"].mean() > 150
    import numpy as np

    from engine.training.features import plan_transform
    assert np.allclose(model.predict_frame(raw)["prediction"],
                       model.estimator.predict(plan_transform(model.plan, scaled)))


def test_a_version_the_flow_did_not_make_gets_the_fitted_flow_applied_first(project, owner, penguins,
                                                                            run_job) -> None:
    from apps.wrangler.services import flow_apply_start, flow_create, flow_step_add

    flow = flow_create(project=project, user=owner, dataset=penguins, name="prep")
    flow = flow_step_add(flow=flow, user=owner, transform="scale_standard", params={"columns": ["bill_length_mm"]})
    run_job(flow_apply_start(flow=flow, user=owner, new_dataset_name="penguins scaled"))
    flow.refresh_from_db()
    run = flow.trainable_run
    training = training_job_start(project=project, user=owner, dataset=penguins, flow_run=run,
                                  algorithm="linear_learner", target="species")
    job = run_job(training.job)
    assert job.status == JobStatus.COMPLETED, job.error
    assert any("applying the fitted flow" in line for line in job.logs.values_list("message", flat=True))


def test_every_training_job_is_a_run_in_an_experiment_with_params_curves_metrics_and_the_model(trained) -> None:
    from apps.experiments.models import RunMetric

    run = trained.run
    assert run.experiment.name == "penguins" and run.source == "training" and run.status == "FINISHED"
    assert run.params["algorithm"] == "xgboost" and run.params["n_estimators"] == "20"
    assert run.metrics["balanced_accuracy"] == trained.summary["metrics"]["balanced_accuracy"]
    assert "train_balanced_accuracy" in run.metrics
    steps = list(RunMetric.objects.filter(run=run, key="validation_mlogloss").values_list("step", flat=True))
    assert steps == list(range(1, 21))
    assert set(run.artifacts.values_list("name", flat=True)) == {"model.zip", "evaluation.json"}
    assert run.job_id == trained.job_id and run.dataset_version_id == trained.version_id


def test_a_failed_training_job_ends_its_run_failed(project, owner, penguins, run_job) -> None:
    training = training_job_start(project=project, user=owner, dataset=penguins, algorithm="linear_learner",
                                  target="species", problem_type="regression", experiment="bad ideas")
    run_job(training.job)
    training.run.refresh_from_db()
    assert training.run.status == "FAILED" and training.run.experiment.name == "bad ideas"


@pytest.mark.slow
def test_an_mlp_job_on_two_processes_records_rank_0s_curves_and_both_ranks_in_its_log(project, owner, penguins,
                                                                                      run_job) -> None:
    training = training_job_start(project=project, user=owner, dataset=penguins, algorithm="mlp", target="species",
                                  hyperparameters={"epochs": 4, "processes": 2})
    job = run_job(training.job)
    assert job.status == JobStatus.COMPLETED, job.error
    assert list(job.metric_points.filter(name="train_loss").values_list("step", flat=True)) == [1, 2, 3, 4]
    lines = "\n".join(job.logs.values_list("message", flat=True))
    assert "Rank 0 of 2:" in lines and "Rank 1 of 2:" in lines
    training.refresh_from_db()
    assert training.hyperparameters["processes"] == 2 and training.summary["objective_value"] > 0.5
