"""The run search language: filters that read, and for each kind of mistake, a message that says where."""

from __future__ import annotations

import pytest

from engine.experiments import (
    Comparison,
    OrderBy,
    SearchError,
    as_number,
    like_regex,
    parse_filter,
    parse_order_by,
)


@pytest.mark.parametrize("text, expected", [
    ("metrics.auc > 0.9 and params.max_depth = 6",
     [Comparison("metric", "auc", ">", 0.9), Comparison("param", "max_depth", "=", 6.0)]),
    ("tags.team = 'vision'", [Comparison("tag", "team", "=", "vision")]),
    ("attributes.status = 'FINISHED'", [Comparison("attribute", "status", "=", "FINISHED")]),
    ("attributes.status = 'finished'", [Comparison("attribute", "status", "=", "FINISHED")]),
    ("params.algorithm != 'xgboost'", [Comparison("param", "algorithm", "!=", "xgboost")]),
    ("metrics.rmse <= 3.5", [Comparison("metric", "rmse", "<=", 3.5)]),
    ("metric.rmse >= -1e-3", [Comparison("metric", "rmse", ">=", -0.001)]),
    ("params.optimizer LIKE 'ad%'", [Comparison("param", "optimizer", "LIKE", "ad%")]),
    ("tags.owner ilike \"%ADA%\"", [Comparison("tag", "owner", "ILIKE", "%ADA%")]),
    ("metrics.`val loss` < 1 AND params.`model.depth` = '3'",
     [Comparison("metric", "val loss", "<", 1.0), Comparison("param", "model.depth", "=", 3.0)]),
    ('tags."mlflow.user" = \'ada\'', [Comparison("tag", "mlflow.user", "=", "ada")]),
    ("attributes.run_name = 'best'", [Comparison("attribute", "name", "=", "best")]),
    ("params.lr == 0.1", [Comparison("param", "lr", "=", 0.1)]),
    ("tags.note = 'it''s'", [Comparison("tag", "note", "=", "it's")]),
    ("", []),
    ("   ", []),
])
def test_it_reads_mlflow_style_filters(text, expected):
    assert parse_filter(text) == expected


@pytest.mark.parametrize("text, message, position", [
    ("metrics.auc >", "Expected a number or a quoted string after metrics.auc > at position 14", 13),
    ("metrics.auc 0.9", "Expected a comparison", 12),
    ("metrics.auc > 0.9 or params.a = 1", "'or' at position 19 is not supported", 18),
    ("not metrics.auc > 1", "'not' at position 1 is not supported", 0),
    ("foo.bar = 1", "Unknown kind 'foo'", 0),
    ("auc > 1", "'auc' at position 1 is not a key", 0),
    ("metrics. > 1", "A key name is missing after 'metrics.'", 8),
    ("metrics.auc = 'high'", "metrics.auc is a metric: compare it with a number", 14),
    ("metrics.auc LIKE '%1'", "LIKE at position 13 compares strings; metrics are numbers", 12),
    ("tags.team > 'a'", "tags.team holds text: use =, !=, LIKE or ILIKE, not >", 10),
    ("params.lr < 'small'", "< at position 11 compares numbers", 12),
    ("params.name LIKE 3", "LIKE at position 13 needs a quoted string pattern", 17),
    ("attributes.colour = 'red'", "Unknown attribute 'colour'", 0),
    ("params.a = 'unclosed", "The quote ' opened at position 12 is never closed", 11),
    ("metrics.a > 1 and", "The filter ends with 'and'", 14),
    ("metrics.a > 1 metrics.b < 2", "Expected 'and' or the end of the filter at position 15", 14),
    ("metrics.a ~ 1", "Unexpected character '~' at position 11", 10),
    ("metrics.`a b > 1", "The quote ` opened at position 9 is never closed", 8),
    ("and metrics.a > 1", "Expected a key such as metrics.auc at position 1, found 'and'", 0),
])
def test_each_mistake_is_named_with_its_position(text, message, position):
    with pytest.raises(SearchError) as caught:
        parse_filter(text)
    assert message in caught.value.message
    assert caught.value.position == position


def test_a_very_long_filter_is_refused():
    with pytest.raises(SearchError, match="longer than 4000"):
        parse_filter("metrics.a > 1 and " * 300 + "metrics.a > 1")


@pytest.mark.parametrize("text, expected", [
    ("metrics.auc DESC", OrderBy("metric", "auc", True)),
    ("metrics.auc", OrderBy("metric", "auc", False)),
    ("params.max_depth asc", OrderBy("param", "max_depth", False)),
    ("-metrics.`val loss`", OrderBy("metric", "val loss", True)),
    ("attributes.start_time DESC", OrderBy("attribute", "started_at", True)),
    ("", None),
])
def test_it_reads_orders(text, expected):
    assert parse_order_by(text) == expected


@pytest.mark.parametrize("text", ["auc desc", "metrics.auc sideways", "attributes.colour", "1"])
def test_a_bad_order_is_refused(text):
    with pytest.raises(SearchError):
        parse_order_by(text)


def test_numbers_and_like_patterns():
    assert as_number("6") == 6.0 and as_number(" 1e-3 ") == 0.001 and as_number(True) is None
    assert as_number("auto") is None and as_number("nan") is None and as_number(float("inf")) is None
    assert like_regex("ad_m%") == "^ad.m.*$" and like_regex("a.b") == r"^a\.b$"
