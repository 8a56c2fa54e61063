"""What each strategy proposes: inside the ranges, on their scales, exactly the grid, never a point tried."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from engine.tuning import (
    CategoricalRange,
    ContinuousRange,
    IntegerRange,
    Tuner,
    TuningError,
    strategy_list,
)

from .conftest import run


def test_the_registry_lists_every_strategy() -> None:
    listed = {entry["name"]: entry for entry in strategy_list()}
    assert set(listed) == {"random", "grid", "bayesian", "hyperband"}
    assert listed["grid"]["options"]["grid_points"]
    assert all(entry["label"] and entry["description"] for entry in listed.values())


@pytest.mark.parametrize("strategy", ["random", "bayesian", "hyperband"])
def test_each_strategy_proposes_inside_the_ranges(strategy: str, toy_ranges) -> None:
    ranges = [*toy_ranges, IntegerRange("n_estimators", 10, 90)]
    tuner = run(Tuner(strategy, ranges, "loss", "minimize", max_trials=24, max_parallel=3, seed=1), batch=3)
    assert len(tuner.trials) >= 12
    for trial in tuner.trials:
        assert -5 <= trial.params["x"] <= 5 and 1e-4 <= trial.params["lr"] <= 1
        assert isinstance(trial.params["depth"], int) and 1 <= trial.params["depth"] <= 10
        assert trial.params["kind"] in ("a", "b", "c")
        assert isinstance(trial.params["n_estimators"], int) and 10 <= trial.params["n_estimators"] <= 90


@pytest.mark.parametrize("strategy", ["random", "hyperband"])
def test_log_scale_values_are_spread_evenly_over_the_log_axis(strategy: str) -> None:
    ranges = [ContinuousRange("lr", 1e-6, 1, "log"), IntegerRange("leaves", 1, 1000, "log"),
              IntegerRange("n_estimators", 3, 27)]
    tuner = Tuner(strategy, ranges, "loss", "minimize", max_trials=400, max_parallel=400, seed=3)
    proposals = tuner.ask(400)
    exponents = np.log10([proposal.params["lr"] for proposal in proposals])
    leaves = np.array([proposal.params["leaves"] for proposal in proposals])
    # Linear sampling would put 99.9% of the rates above 10^-3 and of the leaves above 10.
    assert 0.4 < np.mean(exponents < -3) < 0.6
    assert 0.25 < np.mean(leaves < 10) < 0.42  # log10(9.5) / log10(1000.5)
    counts = np.histogram(exponents, bins=6, range=(-6, 0))[0]
    assert counts.min() > 0.5 * counts.mean()


def test_grid_enumerates_every_combination_exactly_once() -> None:
    ranges = [CategoricalRange("kind", ("a", "b")), IntegerRange("depth", 2, 4),
              ContinuousRange("lr", 0.001, 0.1, "log")]
    tuner = Tuner("grid", ranges, "loss", "minimize", options={"grid_points": 3})
    assert tuner.max_trials == 2 * 3 * 3
    tuner = run(tuner, batch=4, objective=lambda params: params["depth"])
    points = {(t.params["kind"], t.params["depth"], round(t.params["lr"], 6)) for t in tuner.trials}
    assert points == set(itertools.product(("a", "b"), (2, 3, 4), (0.001, 0.01, 0.1)))
    assert len(tuner.trials) == 18 and tuner.done()


def test_a_grid_above_the_limit_is_refused_naming_the_largest_axes() -> None:
    ranges = [IntegerRange("n_estimators", 1, 500), CategoricalRange("kind", ("a", "b", "c"))]
    with pytest.raises(TuningError, match=r"1,500 combinations \(n_estimators 500 × kind 3\), more than the 1,000"):
        Tuner("grid", ranges, "loss", "minimize")


def test_a_grid_larger_than_the_trial_limit_is_refused() -> None:
    with pytest.raises(TuningError, match="12 combinations to try but the tuning job may run 5 trials") as error:
        Tuner("grid", [IntegerRange("depth", 1, 12)], "loss", "minimize", max_trials=5)
    assert error.value.field == "max_trials"


def test_random_never_repeats_a_point_and_ends_when_a_small_space_is_used_up() -> None:
    ranges = [IntegerRange("depth", 1, 3), CategoricalRange("kind", ("a", "b"))]
    tuner = run(Tuner("random", ranges, "loss", "minimize", max_trials=50, seed=4), objective=lambda params: 0.0)
    assert len(tuner.trials) == 6 and tuner.done()
    assert len({(t.params["depth"], t.params["kind"]) for t in tuner.trials}) == 6


def test_random_needs_a_trial_limit_and_an_unknown_strategy_is_named() -> None:
    with pytest.raises(TuningError, match="Set the most trials") as error:
        Tuner("random", [ContinuousRange("x", 0, 1)], "loss", "minimize")
    assert error.value.field == "max_trials"
    with pytest.raises(TuningError, match="no tuning strategy called 'annealing'. Choose one of: random"):
        Tuner("annealing", [ContinuousRange("x", 0, 1)], "loss", "minimize", max_trials=5)
