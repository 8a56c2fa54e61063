"""Ranges: the JSON shapes they are read from, the checks against the algorithm, and the defaults."""

from __future__ import annotations

import pytest

from engine.training import ALGORITHMS
from engine.tuning import (
    CategoricalRange,
    ContinuousRange,
    IntegerRange,
    TuningError,
    check_ranges,
    default_ranges,
    parse_ranges,
    ranges_to_json,
    ranges_to_sagemaker,
)


def test_it_reads_sagemakers_parameter_ranges() -> None:
    ranges = parse_ranges({
        "ContinuousParameterRanges": [{"Name": "learning_rate", "MinValue": "0.01", "MaxValue": "0.3",
                                       "ScalingType": "Logarithmic"}],
        "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "2", "MaxValue": "8", "ScalingType": "Auto"}],
        "CategoricalParameterRanges": [{"Name": "max_features", "Values": ["sqrt", "log2"]}],
    })
    assert ranges == [ContinuousRange("learning_rate", 0.01, 0.3, "log"), IntegerRange("max_depth", 2, 8),
                      CategoricalRange("max_features", ("sqrt", "log2"))]


def test_auto_scaling_takes_the_hyperparameters_own_scale() -> None:
    ranges = parse_ranges({"ContinuousParameterRanges": [
        {"Name": "learning_rate", "MinValue": "0.01", "MaxValue": "0.3", "ScalingType": "Auto"}]}, "xgboost")
    assert ranges[0].scale == "log"


def test_it_reads_the_simple_shapes_and_writes_them_back() -> None:
    listed = parse_ranges([{"name": "learning_rate", "type": "continuous", "min": 0.01, "max": 0.3, "scale": "log"},
                           {"name": "max_depth", "min": 2, "max": 8}, {"name": "subsample", "min": 0.5, "max": 1}])
    mapped = parse_ranges({"learning_rate": {"min": 0.01, "max": 0.3, "scale": "log"},
                           "max_depth": {"min": 2, "max": 8}, "subsample": {"min": 0.5, "max": 1.0}})
    assert listed == mapped
    assert [entry.kind for entry in listed] == ["continuous", "integer", "continuous"]
    assert parse_ranges(ranges_to_json(listed)) == listed
    by_name = sorted(parse_ranges(ranges_to_sagemaker(listed)), key=lambda entry: entry.name)
    assert by_name == sorted(listed, key=lambda entry: entry.name)
    assert parse_ranges({"max_features": ["sqrt", "log2"]}) == [CategoricalRange("max_features", ("sqrt", "log2"))]


def test_a_whole_number_range_of_a_number_hyperparameter_stays_continuous() -> None:
    assert parse_ranges({"reg_lambda": {"min": 0, "max": 10}}, "xgboost")[0] == ContinuousRange("reg_lambda", 0, 10)


@pytest.mark.parametrize(("data", "message", "field"), [
    ({"learning_rate": {"min": 0.3, "max": 0.01}}, "starts above where it ends", "learning_rate"),
    ({"learning_rate": {"min": 0, "max": 1, "scale": "log"}}, "log scale, so it must start", "learning_rate"),
    ({"max_depth": {"type": "integer", "min": 1.5, "max": 4}}, "must be a whole number", "max_depth"),
    ({"max_depth": {"min": "deep", "max": 4}}, "must be a number, not 'deep'", "max_depth"),
    ({"max_depth": {"min": 1}}, "needs a minimum and a maximum", "max_depth"),
    ({"max_features": []}, "needs at least one value", "max_features"),
    ({"max_features": ["sqrt", "sqrt"]}, "lists 'sqrt' more than once", "max_features"),
    ({"x": {"min": 1, "max": 2, "scale": "quadratic"}}, "Linear, Logarithmic or Auto", "x"),
    ({"ContinuousParameterRanges": [{"Name": "x", "MinValue": "0.1", "MaxValue": "0.9",
                                     "ScalingType": "ReverseLogarithmic"}]}, "reverse logarithmic", "x"),
    ([{"name": "a", "values": [1]}, {"name": "a", "values": [2]}], "more than one range", "a"),
    ([], "at least one hyperparameter range", "ranges"),
    ("learning_rate", "must be a list of ranges", "ranges"),
])
def test_bad_ranges_are_refused_with_a_message_naming_the_range(data, message: str, field: str) -> None:
    with pytest.raises(TuningError, match=message) as error:
        parse_ranges(data)
    assert error.value.field == field


def test_a_range_beyond_the_declared_maximum_is_refused_naming_it() -> None:
    with pytest.raises(TuningError, match="maximum of the learning_rate range .* at most 1; got 2") as error:
        parse_ranges({"learning_rate": {"min": 0.1, "max": 2}}, "xgboost")
    assert error.value.field == "learning_rate"


def test_an_unknown_hyperparameter_lists_the_ones_there_are() -> None:
    with pytest.raises(TuningError, match="XGBoost has no hyperparameter called 'eta'. It has: n_estimators"):
        parse_ranges({"eta": {"min": 0.1, "max": 0.3}}, "xgboost")


def test_the_range_kind_must_fit_the_hyperparameter() -> None:
    with pytest.raises(TuningError, match="takes whole numbers: search it with an integer range"):
        parse_ranges({"max_depth": {"type": "continuous", "min": 2, "max": 8}}, "xgboost")
    with pytest.raises(TuningError, match="search it with a categorical range"):
        parse_ranges({"max_features": {"min": 1, "max": 2}}, "random_forest")
    with pytest.raises(TuningError, match="must be one of sqrt, log2, all, not 'half'"):
        parse_ranges({"max_features": ["sqrt", "half"]}, "random_forest")


def test_categorical_values_become_the_hyperparameters_kind() -> None:
    (depth,) = parse_ranges({"CategoricalParameterRanges": [{"Name": "max_depth", "Values": ["3", "6", ""]}]},
                            "random_forest")
    assert depth.values == (3, 6, None)


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_default_ranges_cover_the_searchable_hyperparameters_and_pass_the_checks(algorithm: str) -> None:
    ranges = default_ranges(algorithm)
    assert ranges and check_ranges(ranges, algorithm) == ranges
    declared = {parameter.name: parameter for parameter in ALGORITHMS[algorithm].hyperparameters}
    assert all(declared[entry.name].searchable for entry in ranges)
    for entry in ranges:
        if declared[entry.name].log:
            assert entry.scale == "log"


def test_default_ranges_narrow_wide_declarations() -> None:
    ranges = {entry.name: entry for entry in default_ranges("xgboost")}
    assert ranges["n_estimators"] == IntegerRange("n_estimators", 50, 500, "log")
    assert "early_stopping_rounds" not in ranges
