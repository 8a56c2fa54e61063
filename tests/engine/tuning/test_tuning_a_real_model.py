"""The loop the studio runs, end to end: each proposal trained as its own job by engine.training.train."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from engine.runtime import LocalContext
from engine.training import TrainingSpec, train
from engine.tuning import Tuner, objective_over_trials, rows_for_trial


@pytest.fixture(scope="module")
def cancer() -> pd.DataFrame:
    return load_breast_cancer(as_frame=True).frame


def test_bayesian_tuning_of_xgboost_on_breast_cancer(cancer) -> None:
    ranges = {"n_estimators": {"min": 5, "max": 20}, "max_depth": {"min": 1, "max": 4},
              "learning_rate": {"min": 0.05, "max": 0.5, "scale": "log"}}
    tuner = Tuner("bayesian", ranges, "roc_auc", max_trials=4, max_parallel=2, seed=0, algorithm="xgboost",
                  early_stopping="auto")
    while not tuner.done():
        for proposal in tuner.ask(2):
            ctx = LocalContext()
            result = train(cancer, TrainingSpec("xgboost", "target", proposal.params, seed=proposal.number), ctx)
            curve = [(step, value) for name, value, step in ctx.metrics if name == "validation_logloss"]
            assert curve  # what the studio would pass to report() as it arrives
            tuner.tell(proposal.number, result.metrics[tuner.objective_metric])
    best = tuner.best()
    assert len(tuner.trials) == 4 and best is not None and best.value > 0.95
    assert best.value == max(trial.value for trial in tuner.trials if trial.value is not None)
    assert objective_over_trials(tuner.records(), tuner.direction)[-1]["best"] == best.value


def test_hyperband_gives_more_boosting_rounds_to_the_better_configurations(cancer) -> None:
    tuner = Tuner("hyperband", {"max_depth": {"min": 1, "max": 4}, "n_estimators": {"min": 3, "max": 9}},
                  "log_loss", max_trials=4, seed=0, algorithm="xgboost")
    assert tuner.direction == "minimize"
    while not tuner.done():
        for proposal in tuner.ask(3):
            assert proposal.resource is not None
            rows = cancer if proposal.resource["name"] != "row_fraction" else rows_for_trial(
                cancer, proposal.resource["value"])
            result = train(rows, TrainingSpec("xgboost", "target", proposal.params))
            tuner.tell(proposal.number, result.metrics["log_loss"])
    assert [trial.params["n_estimators"] for trial in tuner.trials] == [3, 3, 3, 9]
    promoted = tuner.trials[3]
    first_rung = sorted(tuner.trials[:3], key=lambda trial: trial.value or 0)
    assert promoted.params["max_depth"] == first_rung[0].params["max_depth"]
