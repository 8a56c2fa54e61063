"""Hyperband: its brackets, promotions of the best configurations with eta times the resource, and the
resource each algorithm spends."""

from __future__ import annotations

import pytest

from engine.tuning import ContinuousRange, IntegerRange, Tuner, TuningError, resource_for
from engine.tuning.hyperband import plan_brackets

RANGES = [ContinuousRange("x", 0, 1), IntegerRange("n_estimators", 10, 270)]
ROUNDS = {"resource": "n_estimators"}  # spend the range of n_estimators


def test_the_brackets_follow_the_paper() -> None:
    brackets = plan_brackets(10, 270, 3)
    assert [[(count, round(amount)) for count, amount in bracket.rungs] for bracket in brackets] == [
        [(27, 10), (9, 30), (3, 90), (1, 270)],
        [(12, 30), (4, 90), (1, 270)],
        [(6, 90), (2, 270)],
        [(4, 270)],
    ]
    assert Tuner("hyperband", RANGES, "loss", "minimize", options=ROUNDS).max_trials == 40 + 17 + 8 + 4


def _placements(tuner: Tuner, rung: int, bracket: int = 0) -> list:
    return [trial for trial in tuner.trials
            if trial.placement and (trial.placement["bracket"], trial.placement["rung"]) == (bracket, rung)]


def test_the_best_third_of_a_rung_goes_on_with_three_times_the_resource() -> None:
    tuner = Tuner("hyperband", RANGES, "loss", "minimize", max_trials=40, max_parallel=100, options=ROUNDS)
    first = tuner.ask(100)
    assert len(first) == 27  # the rest of the bracket waits for this rung
    assert {proposal.resource["value"] for proposal in first} == {10}
    assert all(proposal.params["n_estimators"] == 10 for proposal in first)
    for proposal in first[:-1]:
        tuner.tell(proposal.number, abs(proposal.params["x"] - 0.4))
    assert tuner.ask(100) == []  # one trial of the rung is still running
    tuner.tell(first[-1].number, None)  # a failed trial is never promoted
    second = tuner.ask(100)
    finished = sorted(_placements(tuner, 0)[:-1], key=lambda trial: trial.value)
    assert [proposal.params["x"] for proposal in second] == [trial.params["x"] for trial in finished[:9]]
    assert {proposal.resource["value"] for proposal in second} == {30}
    for proposal in second:
        tuner.tell(proposal.number, abs(proposal.params["x"] - 0.4))
    third = tuner.ask(100)
    assert [proposal.resource["value"] for proposal in third] == [90, 90, 90]
    for proposal in third:
        tuner.tell(proposal.number, abs(proposal.params["x"] - 0.4))
    (last,) = tuner.ask(100)
    assert last.resource == {"name": "n_estimators", "value": 270}
    assert last.params["x"] == finished[0].params["x"]
    tuner.tell(last.number, 0.0)
    assert tuner.done() and len(tuner.trials) == 40  # the next bracket (17 trials) does not fit


def test_later_brackets_start_while_an_earlier_one_waits() -> None:
    tuner = Tuner("hyperband", RANGES, "loss", "minimize", max_trials=69, max_parallel=30, options=ROUNDS)
    proposals = tuner.ask(30)
    assert [proposal.resource["value"] for proposal in proposals] == [10] * 27 + [30] * 3
    assert {trial.placement["bracket"] for trial in tuner.trials} == {0, 1}


def test_one_trial_at_a_time_runs_the_brackets_in_order() -> None:
    tuner = Tuner("hyperband", RANGES, "loss", "minimize", options=ROUNDS)
    while not tuner.done():
        (proposal,) = tuner.ask(5)
        tuner.tell(proposal.number, proposal.params["x"])
    assert len(tuner.trials) == 69
    order = [(trial.placement["bracket"], trial.placement["rung"]) for trial in tuner.trials]
    assert order == sorted(order)
    best = tuner.best()
    assert best is not None and best.value == min(trial.params["x"] for trial in tuner.trials)


def test_each_algorithm_has_a_resource() -> None:
    assert resource_for("xgboost").name == "n_estimators"
    assert resource_for("random_forest").name == "n_estimators"
    assert resource_for("hist_gradient_boosting").name == "max_iter"
    assert resource_for("mlp").name == "epochs"
    assert resource_for("knn").name == "row_fraction"


def test_without_rounds_or_epochs_hyperband_spends_a_share_of_the_rows() -> None:
    tuner = Tuner("hyperband", {"n_neighbors": {"min": 1, "max": 30}}, "accuracy", algorithm="knn")
    assert tuner.max_trials == 9 + 3 + 1 + 5 + 1 + 3
    proposals = tuner.ask()
    assert proposals[0].resource == {"name": "row_fraction", "value": pytest.approx(1 / 9)}
    assert set(proposals[0].params) == {"n_neighbors"}


def test_the_algorithms_resource_limits_come_from_its_range_when_searched() -> None:
    tuner = Tuner("hyperband", {"n_estimators": {"min": 20, "max": 180}, "max_depth": {"min": 2, "max": 8}},
                  "roc_auc", algorithm="xgboost")
    assert tuner.state()["options"]["resource"] == {"name": "n_estimators", "min": 20, "max": 180}
    assert {proposal.resource["value"] for proposal in tuner.ask()} == {20}


@pytest.mark.parametrize(("ranges", "options", "message"), [
    ({"x": {"type": "continuous", "min": 0, "max": 1}}, {"resource": {"name": "n_estimators", "min": 10, "max": 20}},
     "span at least a factor of eta"),
    ({"n_estimators": {"min": 10, "max": 90}}, ROUNDS, "at least one range to search besides"),
    ({"x": {"type": "continuous", "min": 0, "max": 1}}, ROUNDS, "Give Hyperband's resource n_estimators a range"),
    ({"x": {"type": "continuous", "min": 0, "max": 1}}, {"eta": 1}, "eta must be a whole number from 2 to 10"),
    ({"x": {"type": "continuous", "min": 0, "max": 1}}, {"resource": {"name": "row_fraction", "min": 0.1, "max": 2}},
     "at most 1"),
])
def test_bad_hyperband_settings_are_refused(ranges: dict, options: dict, message: str) -> None:
    with pytest.raises(TuningError, match=message):
        Tuner("hyperband", ranges, "loss", "minimize", options=options)


def test_a_trial_budget_below_the_smallest_bracket_is_refused() -> None:
    with pytest.raises(TuningError, match="smallest bracket needs 4 trials.*one full pass takes 69") as error:
        Tuner("hyperband", RANGES, "loss", "minimize", max_trials=3, options=ROUNDS)
    assert error.value.field == "max_trials"
