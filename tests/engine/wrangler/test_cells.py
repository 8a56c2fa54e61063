"""The preview's JSON-ready cells, converted a column at a time: exactly the values (and types) that converting
each value of each row gave, for every kind of column a flow can produce."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from engine.datasets import table_view
from engine.wrangler.cells import display_kind, json_cell, json_column, json_columns

ROWS = 130


def value_by_value(value: Any) -> Any:
    """The preview's earlier conversion of one value, kept here as the reference."""
    if isinstance(value, list | dict):
        return json.loads(json.dumps(value, default=str))
    if value is None or (np.ndim(value) == 0 and bool(pd.isna(value))):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, int | float | bool | str):
        return table_view.json_value(value)
    return str(value)


def reference_rows(frame: pd.DataFrame) -> list[list[Any]]:
    return [[value_by_value(value) for value in row] for row in frame.itertuples(index=False, name=None)]


def column_rows(frame: pd.DataFrame) -> list[list[Any]]:
    return [list(row) for row in zip(*json_columns(frame), strict=True)]


def typed(rows: list[list[Any]]) -> list[list[tuple[str, str]]]:
    """Values with their types (1, 1.0 and True are equal in Python, not in JSON)."""
    return [[(type(value).__name__, repr(value)) for value in row] for row in rows]


def every_kind(rows: int = ROWS) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = np.arange(rows)
    floats = rng.normal(0, 1e3, rows)
    floats[[1, 2, 3, 4, 5, 6]] = [np.nan, np.inf, -np.inf, 1e20, -0.0, 1e-7]
    objects: list[Any] = [
        [1, 2, {"k": 1.5, "t": "<i>"}], {"a": dt.date(2024, 1, 2), "n": None}, None, float("nan"),
        decimal.Decimal("1.10"), dt.datetime(2024, 1, 2, 3, 4, 5), b"by<tes", "text", 7,
    ]
    frame = pd.DataFrame({
        "int": n * 7 - 50,
        "uint8": n.astype("uint8"),
        "float": floats,
        "float32": np.where(n % 9 == 0, np.nan, rng.normal(0, 1, rows)).astype("float32"),
        "bool": n % 3 == 0,
        "str": pd.Series([f"<b>&'\"{i}" if i % 3 else None for i in n], dtype="str"),
        "string": pd.Series([f"v{i}" if i % 4 else None for i in n], dtype="string"),
        "string_python": pd.Series([f"p{i}" if i % 5 else None for i in n], dtype=pd.StringDtype("python")),
        "str_python": pd.Series([f"q{i}" if i % 6 else None for i in n], dtype=pd.StringDtype("python", na_value=np.nan)),
        "long_text": ["x" * (150 + i * 3) if i % 5 else "2024-01-01T10:00:00" for i in n],
        "Int64": pd.array([i if i % 6 else None for i in n], dtype="Int64"),
        "UInt8": pd.array([i % 200 if i % 7 else None for i in n], dtype="UInt8"),
        "Float64": pd.array([i / 3 if i % 6 else None for i in n], dtype="Float64"),
        "boolean": pd.array([bool(i % 2) if i % 5 else None for i in n], dtype="boolean"),
        "timestamp": pd.Series(pd.date_range("2024-03-30 22:00", periods=rows, freq="37min")).where(n % 11 != 2),
        "timestamp_s": pd.Series(pd.date_range("1900-01-01", periods=rows, freq="7D")).astype("datetime64[s]"),
        "timestamp_ms": pd.Series(pd.date_range("1960-01-01", periods=rows, freq="1001ms")).astype("datetime64[ms]"),
        "timestamp_ns": pd.Series(pd.to_datetime(1_700_000_000_000_000_000 + n * 1_234_567, unit="ns")),
        "far_years": pd.Series(np.array(["0099-01-01", "9999-12-31T23:59:59.999999"] * (rows // 2),
                                        dtype="datetime64[us]")),
        "paris": pd.Series(pd.date_range("2024-03-30 22:00", periods=rows, freq="37min", tz="Europe/Paris")
                           ).where(n % 13 != 3),
        "new_york": pd.date_range("2024-03-09", periods=rows, freq="3h", tz="America/New_York"),
        "utc": pd.date_range("2024-01-01", periods=rows, freq="1D", tz="UTC"),
        # Paris kept local mean time (+00:09:21) until 1911: an offset with seconds.
        "paris_1850": pd.Series(pd.to_datetime(["1850-06-01 12:00", None] * (rows // 2))).dt.tz_localize(
            "Europe/Paris"),
        "category": pd.Categorical([["a", "b<", None][i % 3] for i in n]),
        "int_category": pd.Categorical([[1, 2, None][i % 3] for i in n]),
        "float_category": pd.Categorical([[1.5, 2.0, None][i % 3] for i in n]),
        "date_category": pd.Categorical(pd.to_datetime(["2024-01-01", None] * (rows // 2))),
        "duration": pd.to_timedelta(n, unit="h"),
        "objects": pd.Series([objects[i % len(objects)] for i in n], dtype=object),
        "complex": np.array([1 + 2j, np.nan] * (rows // 2)),
        "arrow_int": pd.array([1, None] * (rows // 2), dtype="int64[pyarrow]"),
        "period": pd.period_range("2024-01", periods=rows, freq="M"),
    })
    return pd.concat([frame, frame[["int"]]], axis=1)  # a repeated column name


def test_columns_convert_to_the_same_values_and_types_as_value_by_value():
    frame = every_kind()
    assert typed(column_rows(frame)) == typed(reference_rows(frame))


@pytest.mark.parametrize("start, stop", [(0, 100), (37, 61), (129, 130), (5, 5)])
def test_a_page_of_the_frame_converts_the_same_way(start, stop):
    page = every_kind().iloc[start:stop]
    assert typed(column_rows(page)) == typed(reference_rows(page))


def test_each_column_alone_and_each_value_alone_agree():
    frame = every_kind()
    for position in range(frame.shape[1]):
        series = frame.iloc[:, position]
        expected = [value_by_value(value) for value in series]
        assert typed([json_column(series)]) == typed([expected]), frame.columns[position]
        assert typed([[json_cell(value) for value in series]]) == typed([expected]), frame.columns[position]


def test_number_and_bool_columns_hold_only_what_their_short_display_path_expects():
    frame = every_kind()
    kinds = {}
    for position in range(frame.shape[1]):
        series = frame.iloc[:, position]
        kind = display_kind(series.dtype)
        kinds[frame.columns[position]] = kind
        for value in json_column(series):
            if kind == "number":
                assert value is None or value in ("inf", "-inf") or (
                    type(value) in (int, float) and len(str(value)) < table_view.DISPLAY_CHARS)
            elif kind == "bool":
                assert value is None or type(value) is bool
    assert kinds["float"] == kinds["Int64"] == kinds["uint8"] == "number" and kinds["boolean"] == "bool"
    assert kinds["str"] == kinds["objects"] == kinds["category"] == kinds["timestamp"] == ""


def test_timestamps_are_written_as_isoformat_writes_them():
    stamps = pd.Series(pd.to_datetime(["2024-03-31 01:30", "2024-03-31 03:30:00.25", None], format="ISO8601")).dt.tz_localize(
        "Europe/Paris")
    assert json_column(stamps) == ["2024-03-31T01:30:00+01:00", "2024-03-31T03:30:00.250000+02:00", None]
    nanos = pd.Series(pd.to_datetime([1, 1_000, 1_000_001], unit="ns"))
    assert json_column(nanos) == [stamp.isoformat() for stamp in nanos]
