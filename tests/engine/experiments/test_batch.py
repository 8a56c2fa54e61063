"""Checks of logged values and the choice of each metric's latest value."""

from __future__ import annotations

import math

import pytest

from engine.experiments import (
    BatchError,
    MetricPoint,
    check_metrics,
    check_strings,
    differing_keys,
    latest_values,
)


def test_metrics_get_a_step_and_a_time_when_left_out():
    points = check_metrics([{"key": "loss", "value": 1}, {"key": "loss", "value": 0.5, "step": 3, "timestamp": 9}],
                           now_ms=1000)
    assert points == [MetricPoint("loss", 1.0, 0, 1000), MetricPoint("loss", 0.5, 3, 9)]


@pytest.mark.parametrize("metric, message", [
    ({"key": "auc", "value": math.nan}, "Metric #2 ('auc'): the value nan is not a finite number"),
    ({"key": "auc", "value": math.inf}, "the value inf is not a finite number"),
    ({"key": "auc", "value": "0.9"}, "the value '0.9' is not a number"),
    ({"key": "auc", "value": True}, "is not a number"),
    ({"value": 1}, "Metric #2 has no key"),
    ({"key": "a..b", "value": 1}, "may hold only"),
    ({"key": "auc", "value": 1, "step": -1}, "the step -1 is not a whole number"),
    ({"key": "auc", "value": 1, "step": 1.5}, "the step 1.5"),
    ({"key": "auc", "value": 1, "timestamp": "now"}, "the timestamp 'now'"),
    ("auc", "Metric #2 is not an object"),
])
def test_a_bad_metric_is_named(metric, message):
    with pytest.raises(BatchError) as caught:
        check_metrics([{"key": "ok", "value": 1}, metric])
    assert message in caught.value.message


def test_params_become_text_and_bad_ones_are_named():
    assert check_strings({"depth": 6, "lr": 0.1, "early": True}, what="params", max_value_length=10) == {
        "depth": "6", "lr": "0.1", "early": "true"}
    with pytest.raises(BatchError, match="'lr' is nan"):
        check_strings({"lr": math.nan}, what="params", max_value_length=10)
    with pytest.raises(BatchError, match="longer than 10"):
        check_strings({"note": "x" * 11}, what="tags", max_value_length=10)


def test_the_latest_value_is_the_highest_step_and_never_goes_back():
    points = [MetricPoint("loss", 3, 0, 10), MetricPoint("loss", 1, 2, 5), MetricPoint("loss", 2, 1, 20),
              MetricPoint("acc", 0.5, 0, 1)]
    assert latest_values(points) == {"loss": (1, 2, 5), "acc": (0.5, 0, 1)}
    assert latest_values([MetricPoint("loss", 9, 1, 1)], known={"loss": (2, 5)}) == {}


def test_differing_keys_counts_a_missing_key_as_different():
    assert differing_keys([{"a": "1", "b": "2"}, {"a": "1", "b": "3"}, {"a": "1"}]) == {"b"}
    assert differing_keys([{"a": "1"}, {"a": "1", "c": "x"}]) == {"c"}
    assert differing_keys([]) == set()
