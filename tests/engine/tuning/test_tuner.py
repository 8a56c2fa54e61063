"""The ask/tell loop: limits, results, the best trial, and a JSON state that resumes identically."""

from __future__ import annotations

import json

import pytest

from engine.tuning import ContinuousRange, IntegerRange, Tuner, TuningError

from .conftest import toy_loss


@pytest.mark.parametrize("strategy", ["random", "bayesian", "hyperband"])
def test_max_parallel_and_max_trials_are_respected(strategy: str, toy_ranges) -> None:
    tuner = Tuner(strategy, toy_ranges, "loss", "minimize", max_trials=7, max_parallel=3)
    first = tuner.ask(10)
    assert len(first) == 3 and tuner.ask(1) == []
    tuner.tell(first[0].number, 1.0)
    assert len(tuner.ask(5)) <= 1
    while not tuner.done():
        for trial in tuner.running():
            tuner.tell(trial.number, toy_loss(trial.params))
        assert len(tuner.running()) == 0
        tuner.ask(5)
        assert len(tuner.running()) <= 3
    assert len(tuner.trials) <= 7
    assert tuner.ask(5) == [] and tuner.done()


def test_failed_trials_count_and_the_best_completed_trial_wins() -> None:
    tuner = Tuner("random", [ContinuousRange("x", 0, 1)], "accuracy", max_trials=4, max_parallel=4)
    assert tuner.direction == "maximize"  # from the metric registry
    numbers = [proposal.number for proposal in tuner.ask(4)]
    assert numbers == [0, 1, 2, 3]
    for number, value in zip(numbers, [0.7, None, 0.9, float("nan")], strict=True):
        tuner.tell(number, value)
    assert [trial.status for trial in tuner.trials] == ["completed", "failed", "completed", "failed"]
    best = tuner.best()
    assert best is not None and best.number == 2 and best.value == 0.9
    assert tuner.done()


def test_telling_twice_or_an_unknown_trial_is_refused() -> None:
    tuner = Tuner("random", [ContinuousRange("x", 0, 1)], "rmse", max_trials=2)
    (proposal,) = tuner.ask()
    tuner.tell(proposal.number, 1.0)
    with pytest.raises(TuningError, match="Trial 0 has already ended"):
        tuner.tell(0, 2.0)
    with pytest.raises(TuningError, match="no trial number 7"):
        tuner.report(7, 1, 0.5)


@pytest.mark.parametrize(("arguments", "message"), [
    ({"direction": "upwards"}, "maximize or minimize"),
    ({"max_parallel": 0}, "number of parallel trials"),
    ({"max_trials": 2.5}, "number of trials"),
    ({"early_stopping": "sometimes"}, "off or auto"),
    ({"objective_metric": ""}, "objective metric"),
    ({"seed": -1}, "seed must be a whole number"),
    ({"warm_start": ["x"]}, "warm-start trial"),
])
def test_bad_settings_are_refused(arguments: dict, message: str) -> None:
    settings = {"strategy": "random", "ranges": {"x": {"min": 0, "max": 1}}, "objective_metric": "rmse",
                "max_trials": 5, **arguments}
    with pytest.raises(TuningError, match=message):
        Tuner(**settings)


@pytest.mark.parametrize("strategy", ["random", "grid", "bayesian", "hyperband"])
def test_a_tuner_restored_mid_run_proposes_exactly_what_the_original_would(strategy: str) -> None:
    ranges = [ContinuousRange("x", -5, 5), ContinuousRange("lr", 1e-4, 1, "log"), IntegerRange("depth", 1, 10),
              IntegerRange("n_estimators", 3, 27)]
    settings = {"max_trials": 20, "max_parallel": 3, "seed": 7, "options": {"grid_points": 2}}
    if strategy == "grid":
        settings["max_trials"] = None
        ranges = ranges[:2] + [IntegerRange("depth", 1, 4)]

    def objective(params: dict) -> float:
        return (params["x"] - 1) ** 2 + params["depth"]

    original = Tuner(strategy, ranges, "loss", "minimize", **settings)
    for _ in range(4):
        for proposal in original.ask(2):
            original.tell(proposal.number, objective(proposal.params))
    original.ask(2)  # two running trials at the moment of saving
    saved = json.loads(json.dumps(original.state()))
    restored = Tuner.from_state(saved)
    assert restored.state() == saved
    for tuner in (original, restored):
        while not tuner.done():
            for trial in tuner.running():
                tuner.tell(trial.number, objective(trial.params))
            tuner.ask(3)
    assert restored.records() == original.records()
    assert restored.best() == original.best()


def test_the_state_is_plain_json_with_the_settings_and_the_trials() -> None:
    tuner = Tuner("random", {"x": {"type": "continuous", "min": 0, "max": 1}}, "rmse", max_trials=3, seed=2,
                  warm_start=[{"params": {"x": 0.5}, "value": 0.3}])
    (proposal,) = tuner.ask()
    tuner.report(proposal.number, 1, 0.4)
    state = tuner.state()
    assert state == json.loads(json.dumps(state))
    assert {key: state[key] for key in ("version", "strategy", "direction", "max_trials", "max_parallel", "seed",
                                        "early_stopping")} == {
        "version": 1, "strategy": "random", "direction": "minimize", "max_trials": 3, "max_parallel": 1,
        "seed": 2, "early_stopping": "off"}
    assert state["ranges"] == [{"name": "x", "type": "continuous", "min": 0.0, "max": 1.0, "scale": "linear"}]
    assert state["warm_start"] == [{"params": {"x": 0.5}, "value": 0.3}]
    assert state["trials"] == [{"number": 0, "params": proposal.params, "status": "running", "value": None,
                                "intermediate": [[1, 0.4]], "resource": None, "placement": None,
                                "stop_requested": False}]
    with pytest.raises(TuningError, match="another version"):
        Tuner.from_state({**state, "version": 99})


def test_ranges_are_checked_against_the_algorithm_when_it_is_named() -> None:
    with pytest.raises(TuningError, match="at most 20; got 30") as error:
        Tuner("random", {"max_depth": {"min": 2, "max": 30}}, "roc_auc", max_trials=5, algorithm="xgboost")
    assert error.value.field == "max_depth"
