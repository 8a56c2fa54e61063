"""The data behind the tuning job's charts."""

from __future__ import annotations

import pytest

from engine.tuning import (
    CategoricalRange,
    ContinuousRange,
    Tuner,
    objective_over_trials,
    parallel_coordinates,
    parameter_importance,
)

from .conftest import run

RANGES = [ContinuousRange("lr", 1e-4, 1, "log"), ContinuousRange("noise", 0, 1), CategoricalRange("kind", ("a", "b"))]


@pytest.fixture(scope="module")
def records() -> list[dict]:
    # The objective depends strongly on lr, a little on kind, and not at all on noise.
    tuner = Tuner("random", RANGES, "loss", "minimize", max_trials=40, max_parallel=5, seed=0)
    run(tuner, batch=5, objective=lambda params: (params["lr"] - 0.5) ** 2 + 0.02 * (params["kind"] == "a"))
    return tuner.records()


def test_the_objective_over_trials_carries_the_best_so_far() -> None:
    records = [{"number": 0, "status": "completed", "value": 0.7}, {"number": 1, "status": "failed", "value": None},
               {"number": 2, "status": "completed", "value": 0.9}, {"number": 3, "status": "completed", "value": 0.8}]
    points = objective_over_trials(records, "maximize")
    assert [point["best"] for point in points] == [0.7, 0.7, 0.9, 0.9]
    assert [point["value"] for point in points] == [0.7, None, 0.9, 0.8]
    assert [point["best"] for point in objective_over_trials(records, "minimize")] == [0.7, 0.7, 0.7, 0.7]


def test_parameter_importance_ranks_the_parameter_that_matters_first(records) -> None:
    shares = parameter_importance(records, [entry.to_json() for entry in RANGES])
    assert [entry["name"] for entry in shares][0] == "lr"
    assert shares[0]["importance"] > 0.6
    assert abs(sum(entry["importance"] for entry in shares) - 1) < 1e-9


def test_without_ranges_the_axes_are_inferred_from_the_values_tried(records) -> None:
    data = parallel_coordinates(records)
    axes = {axis["name"]: axis for axis in data["dimensions"]}
    assert axes["lr"]["scale"] == "linear" and axes["kind"]["categories"] in (["a", "b"], ["b", "a"])


def test_parameter_importance_needs_a_few_completed_trials(records) -> None:
    assert parameter_importance(records[:3]) == []


def test_parallel_coordinates_has_an_axis_per_parameter_and_the_objective(records) -> None:
    data = parallel_coordinates(records, [entry.to_json() for entry in RANGES], "rmse")
    axes = {axis["name"]: axis for axis in data["dimensions"]}
    assert axes["lr"]["scale"] == "log" and axes["lr"]["range"] == [1e-4, 1.0]
    assert axes["kind"]["categories"] == ["a", "b"] and set(axes["kind"]["values"]) == {0, 1}
    assert data["objective"]["name"] == "rmse"
    assert len(data["numbers"]) == len(data["objective"]["values"]) == len(axes["noise"]["values"]) == 40
