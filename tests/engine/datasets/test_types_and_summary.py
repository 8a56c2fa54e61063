"""Casting columns between studio types (with examples of bad values) and per-column summaries."""

import datetime as dt

import pyarrow as pa
import pytest

from engine.datasets.errors import DatasetFileError
from engine.datasets.summary import summarize
from engine.datasets.types import cast_table, schema_of


def test_text_casts_to_integer_float_boolean_and_datetime():
    table = pa.table({"i": [" 1", "+2", None], "f": ["1.5", "1e3", "nan"], "b": ["Yes", "no", "1"],
                      "d": ["2020-01-01", "2020-01-02T10:30:00", None]})
    cast = cast_table(table, {"i": "integer", "f": "float", "b": "boolean", "d": "datetime"})
    assert [c["type"] for c in schema_of(cast)] == ["integer", "float", "boolean", "datetime"]
    assert cast.column("i").to_pylist() == [1, 2, None]
    assert cast.column("b").to_pylist() == [True, False, True]
    assert cast.column("d").to_pylist()[1] == dt.datetime(2020, 1, 2, 10, 30)


def test_numbers_and_booleans_cast_to_text_and_back():
    table = pa.table({"n": [1, 2], "b": [True, False], "f": [1.0, 2.0]})
    cast = cast_table(table, {"n": "string", "b": "string", "f": "integer"})
    assert cast.column("n").to_pylist() == ["1", "2"] and cast.column("b").to_pylist() == ["true", "false"]
    assert cast.column("f").to_pylist() == [1, 2]


@pytest.mark.parametrize(("values", "target", "expected"), [
    (["1", "x", "2.5", "y"], "integer", ["4 values" if False else "3 values", "'x' (row 2)", "'2.5' (row 3)"]),
    ([1.5, 2.0], "integer", ["1 value are not whole numbers" if False else "not whole numbers", "'1.5' (row 1)"]),
    (["true", "maybe"], "boolean", ["'maybe' (row 2)", "true/false"]),
    (["2020-01-01", "someday"], "datetime", ["'someday' (row 2)", "not dates"]),
    (["1", "one"], "float", ["'one' (row 2)", "not numbers"]),
])
def test_values_that_cannot_be_cast_are_named_with_their_rows(values, target, expected):
    with pytest.raises(DatasetFileError) as caught:
        cast_table(pa.table({"col": values}), {"col": target})
    assert f"Column 'col' cannot become {target}" in caught.value.message
    for words in expected:
        assert words in caught.value.message


def test_a_cast_to_an_unknown_type_or_column_is_refused():
    with pytest.raises(DatasetFileError, match="Unknown type"):
        cast_table(pa.table({"a": [1]}), {"a": "decimal"})
    with pytest.raises(DatasetFileError, match="no column called"):
        cast_table(pa.table({"a": [1]}), {"b": "string"})


def test_the_summary_describes_numbers_text_booleans_and_dates():
    table = pa.table({
        "n": pa.array([1.0, 2.0, 3.0, None, float("nan"), float("inf")]),
        "s": ["a", "b", "a", None, "a", "c"],
        "b": [True, False, True, True, None, None],
        "d": pa.array([dt.datetime(2020, 1, 1), None, dt.datetime(2021, 5, 1), None, None, None], pa.timestamp("us")),
    })
    n, s, b, d = summarize(table)
    assert n["missing"] == 2 and n["count"] == 4 and n["max"] == "inf" and n["min"] == 1.0
    assert n["mean"] == pytest.approx(2.0) and n["median"] == pytest.approx(2.0) and n["std"] == pytest.approx(1.0)
    assert s["top"][0] == {"value": "a", "count": 3} and s["distinct"] == 3 and s["missing"] == 1
    assert b["top"][0] == {"value": True, "count": 3}
    assert d["min"] == "2020-01-01T00:00:00" and d["max"] == "2021-05-01T00:00:00"


def test_a_column_with_only_missing_values_is_summarised_without_statistics():
    (summary,) = summarize(pa.table({"x": pa.nulls(3, pa.float64())}))
    assert summary["missing"] == 3 and summary["count"] == 0 and "mean" not in summary
