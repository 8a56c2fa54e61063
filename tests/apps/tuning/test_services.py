"""Tuning jobs: checks before anything is saved, and the coordinator's step (tuning_job_tick) driven by hand:
trials are real training jobs with runs in the tuning job's experiment, the best one is marked, a restarted
coordinator carries on from the saved state, the median rule stops a weak trial, and warm starts reuse an
earlier job's trials."""

from __future__ import annotations

import time

import pytest

from apps.core.errors import Forbidden, UserError
from apps.core.models import JobMetric, JobStatus
from apps.core.roles import Role
from apps.experiments.models import RunSource
from apps.training.models import TrainingJob
from apps.tuning import services
from apps.tuning.models import TrialStatus, TuningJob, TuningTrial
from apps.tuning.services import tuning_job_finish, tuning_job_stop, tuning_job_tick
from engine.tuning import Tuner


def test_a_random_search_runs_each_trial_as_a_training_job_and_marks_the_best(start_tuning, drive) -> None:
    tuning = start_tuning()
    assert tuning.job.kind == "tuning.run" and tuning.job.queue == "default"
    assert tuning.problem_type == "multiclass" and tuning.objective_metric == "balanced_accuracy"
    assert tuning.direction == "maximize"

    first = tuning_job_tick(tuning=tuning)
    assert first.started == [0, 1] and not first.done  # max_parallel 2
    tuning = drive(tuning)

    trials = list(tuning.trials.select_related("training_job__run__experiment", "training_job__job"))
    assert [trial.number for trial in trials] == [0, 1, 2]
    assert all(trial.status == TrialStatus.COMPLETED and trial.value > 0.5 for trial in trials)
    for trial in trials:
        training = trial.training_job
        assert training.job.queue == "training" and training.job.status == JobStatus.COMPLETED
        assert training.hyperparameters["n_estimators"] == trial.params["n_estimators"]
        assert training.exclude == ["year"]
        assert training.run.source == RunSource.TUNING and training.run.experiment == tuning.experiment
        assert training.run.tags["tuning_job"] == str(tuning.id) and training.run.tags["trial"] == str(trial.number)
        assert trial.value == training.summary["metrics"]["balanced_accuracy"]
    best = max(trials, key=lambda trial: (trial.value, -trial.number))
    assert tuning.best_training_job == best.training_job
    assert Tuner.from_state(tuning.state).done()


def test_a_restarted_coordinator_carries_on_from_the_saved_state(start_tuning, run_pending_trials, run_job,
                                                                 monkeypatch) -> None:
    tuning = start_tuning(max_trials=4, max_parallel=2)
    tuning_job_tick(tuning=tuning)  # the first coordinator started trials 0 and 1, then its worker died
    first_jobs = list(TrainingJob.objects.values_list("id", flat=True))
    run_pending_trials(tuning)

    # The coordinator's next attempt runs its loop; each pause lets the "training worker" run what waits.
    monkeypatch.setattr(services, "_pause", lambda seconds: run_pending_trials(tuning))
    job = run_job(tuning.job)

    assert job.status == JobStatus.COMPLETED, job.error
    tuning.refresh_from_db()
    assert TrainingJob.objects.count() == 4  # trials 0 and 1 were not started again
    assert set(first_jobs) <= set(tuning.trials.values_list("training_job_id", flat=True))
    assert sorted(tuning.trials.values_list("number", flat=True)) == [0, 1, 2, 3]
    assert job.outputs["best_training_job_id"] == tuning.best_training_job_id is not None
    assert job.progress == 100.0
    # The job's end computes the importance once (empty needs >= 4 completed trials: here it has them).
    assert isinstance(tuning.importance, list) and tuning.importance
    assert abs(sum(entry["importance"] for entry in tuning.importance) - 1) < 1e-6


def test_the_median_rule_stops_a_trial_whose_curve_is_worse(start_tuning, run_pending_trials) -> None:
    tuning = start_tuning(max_trials=4, max_parallel=1, early_stopping="auto",
                          options={"stopping_min_trials": 2})
    for _ in range(2):
        tuning_job_tick(tuning=tuning)
        run_pending_trials(tuning)
    tick = tuning_job_tick(tuning=tuning)  # tells trials 0 and 1, starts trial 2
    assert tick.started == [2]
    weak = TuningTrial.objects.get(tuning_job=tuning, number=2).training_job.job
    # Trial 2 reports a validation loss far above the completed trials' while it trains.
    for step in range(1, 6):
        JobMetric.objects.create(job=weak, name="validation_mlogloss", value=5.0, step=step)

    tick = tuning_job_tick(tuning=tuning)
    assert tick.stop_requested == [2]
    weak.refresh_from_db()
    assert weak.status == JobStatus.STOPPED  # it had not started, so it stopped at once

    tick = tuning_job_tick(tuning=tuning)
    trial = TuningTrial.objects.get(tuning_job=tuning, number=2)
    assert trial.status == TrialStatus.STOPPED and trial.value is None and "Stopped early" in trial.message
    assert tick.started == [3]


def test_without_early_stopping_curves_are_not_judged(start_tuning, run_pending_trials) -> None:
    tuning = start_tuning(max_trials=3, max_parallel=1, options={"stopping_min_trials": 1})
    tuning_job_tick(tuning=tuning)
    run_pending_trials(tuning)
    tuning_job_tick(tuning=tuning)
    running = TuningTrial.objects.get(tuning_job=tuning, number=1).training_job.job
    for step in range(1, 6):
        JobMetric.objects.create(job=running, name="validation_mlogloss", value=5.0, step=step)
    assert tuning_job_tick(tuning=tuning).stop_requested == []


def test_a_failed_trial_is_told_as_failed_and_the_search_goes_on(start_tuning, run_job) -> None:
    tuning = start_tuning(max_trials=2, max_parallel=1)
    tuning_job_tick(tuning=tuning)
    trial = TuningTrial.objects.get(tuning_job=tuning, number=0)
    # The dataset's version vanished from under the trial: its job fails.
    TrainingJob.objects.filter(id=trial.training_job_id).update(target="nope")
    run_job(trial.training_job.job)
    tick = tuning_job_tick(tuning=tuning)
    trial.refresh_from_db()
    assert trial.status == TrialStatus.FAILED and trial.value is None and trial.message
    assert tick.started == [1]


def test_a_warm_start_hands_the_earlier_trials_to_the_tuner(start_tuning, drive) -> None:
    first = drive(start_tuning(max_trials=3))
    second = start_tuning(strategy="bayesian", max_trials=2, max_parallel=1, warm_start_from=first)
    history = Tuner.from_state(second.state).warm_start
    assert sorted(value for _, value in history) == sorted(first.trials.values_list("value", flat=True))
    second = drive(second)
    assert second.trials.count() == 2 and second.best_training_job is not None


def test_a_warm_start_needs_the_same_objective(start_tuning, drive) -> None:
    first = drive(start_tuning(max_trials=1, max_parallel=1))
    with pytest.raises(UserError, match="same objective") as error:
        start_tuning(objective_metric="accuracy", warm_start_from=first)
    assert error.value.field == "warm_start_from"


def test_hyperband_sets_the_resource_in_each_trials_hyperparameters(start_tuning) -> None:
    tuning = start_tuning(strategy="hyperband", ranges={"n_estimators": {"min": 3, "max": 27},
                                                        "max_depth": {"min": 2, "max": 6}},
                          max_trials=None, max_parallel=3)
    tick = tuning_job_tick(tuning=tuning)
    assert len(tick.started) == 3
    for trial in tuning.trials.select_related("training_job"):
        assert trial.resource["name"] == "n_estimators"
        assert trial.training_job.hyperparameters["n_estimators"] == trial.resource["value"] == 3


def test_stopping_a_tuning_job_stops_its_running_trials(start_tuning, run_job, monkeypatch) -> None:
    tuning = start_tuning(max_trials=4, max_parallel=2)
    asked = []

    def pause(seconds):  # while the coordinator waits, the user presses Stop
        if not asked:
            asked.append(tuning_job_stop(tuning=tuning, user=tuning.created_by))
        time.sleep(1.05)  # the coordinator checks for a stop at most once a second

    monkeypatch.setattr(services, "_pause", pause)
    job = run_job(tuning.job)
    assert job.status == JobStatus.STOPPED
    statuses = set(TrainingJob.objects.values_list("job__status", flat=True))
    assert statuses == {JobStatus.STOPPED}
    assert TrainingJob.objects.count() == 2  # nothing started after the stop
    assert set(tuning.trials.values_list("status", flat=True)) == {TrialStatus.STOPPED}


def test_a_coordinator_that_ends_before_it_starts_leaves_nothing_running(start_tuning, owner) -> None:
    tuning = start_tuning()
    tuning_job_stop(tuning=tuning, user=owner)  # Pending: stopped at once, and its end is tidied
    tuning.refresh_from_db()
    assert tuning.job.status == JobStatus.STOPPED and tuning.best_training_job is None
    tuning_job_finish(job=tuning.job)  # running the tidy-up twice is harmless
    assert tuning.importance == []


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"ranges": {"max_depth": {"min": 9, "max": 2}}}, "ranges", "max_depth range starts above where it ends"),
    ({"ranges": {"depth": {"min": 1, "max": 2}}}, "ranges", "no hyperparameter called 'depth'"),
    ({"ranges": {"learning_rate": {"min": 0, "max": 1, "scale": "log"}}}, "ranges", "learning_rate"),
    ({"max_trials": 2, "max_parallel": 3}, "max_parallel", "no more than 2 can run at a time"),
    ({"strategy": "grid", "ranges": {"n_estimators": {"min": 1, "max": 2000}}, "max_trials": None}, "ranges",
     "The grid has 2,000 combinations"),
    ({"objective_metric": "rmse"}, "objective_metric", "'rmse' is not a metric of multiclass problems"),
    ({"objective_metric": "log_loss", "direction": "maximize"}, "direction", "its direction is minimize"),
    ({"strategy": "annealing"}, "strategy", "no tuning strategy called 'annealing'"),
    ({"algorithm": "knn", "strategy": "hyperband", "ranges": {"n_neighbors": {"min": 1, "max": 20}}}, "strategy",
     "Hyperband spends boosting rounds"),
    ({"strategy": "hyperband", "early_stopping": "auto"}, "early_stopping", "turn early stopping off"),
    ({"target": ""}, "target", "choose the target column"),
    ({"exclude": ["species"]}, "exclude", "cannot also be left out"),
])
def test_bad_requests_are_refused_before_anything_is_saved(start_tuning, overrides, field, message) -> None:
    with pytest.raises(UserError, match=message) as error:
        start_tuning(**overrides)
    assert error.value.field == field
    assert not TuningJob.objects.exists() and not TrainingJob.objects.exists()


def test_default_ranges_search_every_searchable_hyperparameter(start_tuning) -> None:
    tuning = start_tuning(ranges=None, max_trials=5)
    assert {entry["name"] for entry in tuning.ranges} >= {"n_estimators", "max_depth", "learning_rate"}


def test_a_role_that_may_not_run_jobs_is_refused(start_tuning, member) -> None:
    with pytest.raises(Forbidden):
        start_tuning(user=member(Role.LABELER))


def test_retrying_a_stopped_tuning_job_resumes_its_search(start_tuning, run_pending_trials, run_job,
                                                          monkeypatch) -> None:
    from apps.core.services import job_retry

    tuning = start_tuning(max_trials=3, max_parallel=1)
    tuning_job_tick(tuning=tuning)
    run_pending_trials(tuning)
    tuning_job_stop(tuning=tuning, user=tuning.created_by)
    tuning.refresh_from_db()
    assert tuning.trials.get().status == TrialStatus.COMPLETED  # the tidy-up told the tuner how it ended

    job_retry(job=tuning.job, user=tuning.created_by)
    monkeypatch.setattr(services, "_pause", lambda seconds: run_pending_trials(tuning))
    job = run_job(tuning.job)
    assert job.status == JobStatus.COMPLETED, job.error
    assert sorted(tuning.trials.values_list("number", flat=True)) == [0, 1, 2]
    assert TrainingJob.objects.count() == 3
