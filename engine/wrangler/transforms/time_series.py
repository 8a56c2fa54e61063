"""Time series: resample to a regular frequency, lags, rolling windows, filling gaps in time."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..errors import TransformError
from ..registry import Param, transform

FAMILY = "Time series"
AGGREGATIONS = ("mean", "sum", "min", "max", "median", "count", "first", "last")


def frequency_checked(rule: str, param: str) -> str:
    """A pandas frequency such as D, W, MS, h, 15min; a TransformError otherwise."""
    try:
        pd.tseries.frequencies.to_offset(rule)
    except ValueError:
        raise TransformError(f"{rule!r} is not a frequency. Use D (day), W (week), MS (month start), ME (month "
                             f"end), QS, YS, h (hour) or 15min.", param=param) from None
    return rule


frequency_checked.uses = (TransformError,)  # type: ignore[attr-defined]


def time_checked(df: pd.DataFrame, column: str, param: str) -> pd.Series:
    values = df[column]
    if not pd.api.types.is_datetime64_any_dtype(values.dtype):
        raise TransformError(f"Column {column!r} holds {values.dtype} values, not dates. Add a parse_datetime "
                             f"step before this one.", param=param)
    return values


time_checked.uses = (TransformError,)  # type: ignore[attr-defined]


def ordered_positions(df: pd.DataFrame, order_by: str | None) -> Any:
    """Row positions in time order (stable, missing times last); the rows' own order without order_by."""
    import numpy as np

    if not order_by:
        return np.arange(len(df))
    return np.argsort(df[order_by].reset_index(drop=True).rank(method="first", na_option="bottom").to_numpy(),
                      kind="stable")


@transform("resample", family=FAMILY,
           description="Aggregate rows into regular time periods (days, weeks, months...), per group if given.",
           params=[Param("time_column", "column", dtype="datetime"),
                   Param("rule", "string", default="D", help="D, W, MS, ME, QS, YS, h, 15min..."),
                   Param("aggregation", "choice", choices=AGGREGATIONS, default="mean", required=False),
                   Param("group_by", "columns", required=False)],
           example={"time_column": "signup_date", "rule": "MS", "aggregation": "mean", "group_by": ["plan"]},
           row_local=False, uses=(TransformError, frequency_checked, time_checked))
def resample(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    time_column, aggregation = params["time_column"], params["aggregation"]
    group_by = list(params.get("group_by") or [])
    time_checked(df, time_column, "time_column")
    rule = frequency_checked(params["rule"], "rule")
    rest = [column for column in df.columns if column != time_column and column not in group_by]
    if aggregation not in ("count", "first", "last"):
        rest = [column for column in rest if pd.api.types.is_numeric_dtype(df[column].dtype)
                and not pd.api.types.is_bool_dtype(df[column].dtype)]
    if not rest:
        raise TransformError("There are no number columns to aggregate; choose count, first or last.",
                             param="aggregation")
    grouped = df.groupby([*group_by, pd.Grouper(key=time_column, freq=rule)], dropna=False)[rest]
    out = getattr(grouped, aggregation)().reset_index()
    return out[[*group_by, time_column, *rest]]


@transform("lag", family=FAMILY,
           description="Add the value of a column some rows earlier (or later, with negative periods), in time "
                       "order within each group.",
           params=[Param("column", "column"), Param("periods", "integer", default=1, required=False),
                   Param("group_by", "columns", required=False), Param("order_by", "column", required=False),
                   Param("new_column", "string", required=False, help="default: column_lag_periods")],
           example={"column": "visits", "periods": 1, "group_by": ["city"], "order_by": "signup_date"},
           row_local=False, uses=(ordered_positions,))
def lag(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    column, periods = params["column"], int(params["periods"])
    group_by = list(params.get("group_by") or [])
    positions = ordered_positions(df, params.get("order_by"))
    ordered = df.iloc[positions].reset_index(drop=True)
    if group_by:
        shifted = ordered.groupby(group_by, dropna=False, sort=False)[column].shift(periods)
    else:
        shifted = ordered[column].shift(periods)
    values = shifted.copy()
    values.index = positions
    out = df.copy(deep=False)
    out[params.get("new_column") or f"{column}_lag_{periods}"] = values.sort_index().to_numpy()
    return out


@transform("rolling_window", family=FAMILY,
           description="Add a rolling statistic (mean, sum, min, max, median, std) over the last N rows, in time "
                       "order within each group.",
           params=[Param("column", "column", dtype="numeric"), Param("window", "integer", default=3, minimum=1),
                   Param("aggregation", "choice", choices=("mean", "sum", "min", "max", "median", "std"),
                         default="mean", required=False),
                   Param("order_by", "column", required=False), Param("group_by", "columns", required=False),
                   Param("min_periods", "integer", default=1, required=False, minimum=1,
                         help="rows needed before a value is given"),
                   Param("new_column", "string", required=False, help="default: column_rolling_aggregation_window")],
           example={"column": "income", "window": 3, "aggregation": "mean", "order_by": "signup_date",
                    "group_by": ["plan"]},
           row_local=False, uses=(TransformError, ordered_positions))
def rolling_window(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    column, window, aggregation = params["column"], int(params["window"]), params["aggregation"]
    minimum = min(int(params["min_periods"]), window)
    values = df[column]
    if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        raise TransformError(f"Column {column!r} is not numeric; a rolling {aggregation} needs numbers.",
                             param="column")
    group_by = list(params.get("group_by") or [])
    positions = ordered_positions(df, params.get("order_by"))
    ordered = df.iloc[positions].reset_index(drop=True)
    numbers = ordered[column].astype("float64")

    def roll(series: pd.Series) -> pd.Series:
        return getattr(series.rolling(window, min_periods=minimum), aggregation)()

    if group_by:
        rolled = numbers.groupby([ordered[key] for key in group_by], dropna=False, sort=False).transform(roll)
    else:
        rolled = roll(numbers)
    rolled = rolled.copy()
    rolled.index = positions
    out = df.copy(deep=False)
    out[params.get("new_column") or f"{column}_rolling_{aggregation}_{window}"] = rolled.sort_index().to_numpy()
    return out


@transform("fill_time_gaps", family=FAMILY,
           description="Add a row for each missing time on a regular grid between the first and last time (of each "
                       "group, if given), with empty, carried-forward or zero values; rows come out in time order.",
           params=[Param("time_column", "column", dtype="datetime"),
                   Param("frequency", "string", default="D", help="D, W, MS, h, 15min..."),
                   Param("method", "choice", choices=("missing", "forward", "zero"), default="missing",
                         required=False, help="what the added rows hold"),
                   Param("group_by", "columns", required=False,
                         help="fill each group's own series (a shop, a sensor), keeping its key on added rows")],
           example={"time_column": "signup_date", "frequency": "D", "method": "forward", "group_by": ["plan"]},
           row_local=False, uses=(TransformError, frequency_checked, time_checked))
def fill_time_gaps(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    time_column, method = params["time_column"], params["method"]
    group_by = list(params.get("group_by") or [])
    times = time_checked(df, time_column, "time_column")
    rule = frequency_checked(params["frequency"], "frequency")
    parts = df.groupby(group_by, dropna=False, sort=True) if group_by else [((), df)]
    pieces, total = [], 0
    for keys, part in parts:
        present = part[time_column].dropna()
        if present.empty:
            continue
        grid = pd.Series(pd.date_range(present.min(), present.max(), freq=rule)).astype(times.dtype)
        total += len(grid)
        if total > 1_000_000:
            raise TransformError(f"Filling gaps at {rule!r} would add more than a million rows; choose a coarser "
                                 f"frequency.", param="frequency")
        added = pd.DataFrame({time_column: grid[~grid.isin(present)].to_numpy()})
        for key, value in zip(group_by, keys, strict=True):
            added[key] = pd.Series([value] * len(added), dtype=df[key].dtype)
        pieces.append(added)
    if not pieces:
        return df
    added = pd.concat(pieces, ignore_index=True)
    combined = pd.concat([df.reset_index(drop=True), added], ignore_index=True)
    new = pd.Series([False] * len(df) + [True] * len(added))
    order = combined[time_column].rank(method="first", na_option="bottom").to_numpy().argsort(kind="stable")
    combined, new = combined.iloc[order].reset_index(drop=True), new.iloc[order].reset_index(drop=True)
    if group_by:
        # Each group's series together, in time order within it.
        grouped = combined.sort_values(group_by, kind="mergesort", na_position="last").index
        combined, new = combined.loc[grouped].reset_index(drop=True), new.loc[grouped].reset_index(drop=True)
    for column in combined.columns:
        if column == time_column or column in group_by:
            continue
        if method == "forward":
            earlier = combined.groupby(group_by, dropna=False, sort=False)[column].ffill() if group_by \
                else combined[column].ffill()
            combined[column] = combined[column].where(~new, earlier)
        elif method == "zero" and pd.api.types.is_numeric_dtype(df[column].dtype) and not \
                pd.api.types.is_bool_dtype(df[column].dtype):
            combined[column] = combined[column].where(~new, 0)
    return combined


@transform("difference", family=FAMILY,
           description="Add the change of a column from some rows earlier (difference or percent change), in time "
                       "order within each group.",
           params=[Param("column", "column", dtype="numeric"), Param("periods", "integer", default=1, required=False),
                   Param("method", "choice", choices=("difference", "percent_change"), default="difference",
                         required=False),
                   Param("group_by", "columns", required=False), Param("order_by", "column", required=False),
                   Param("new_column", "string", required=False, help="default: column_difference_periods")],
           example={"column": "income", "periods": 1, "method": "percent_change", "group_by": ["plan"],
                    "order_by": "signup_date"},
           row_local=False, uses=(TransformError, ordered_positions))
def difference(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    column, periods, method = params["column"], int(params["periods"]), params["method"]
    if not pd.api.types.is_numeric_dtype(df[column].dtype) or pd.api.types.is_bool_dtype(df[column].dtype):
        raise TransformError(f"Column {column!r} is not numeric; a {method.replace('_', ' ')} needs numbers.",
                             param="column")
    group_by = list(params.get("group_by") or [])
    positions = ordered_positions(df, params.get("order_by"))
    ordered = df.iloc[positions].reset_index(drop=True)
    numbers = ordered[column].astype("float64")
    earlier = numbers.groupby([ordered[key] for key in group_by], dropna=False, sort=False).shift(periods) \
        if group_by else numbers.shift(periods)
    if method == "difference":
        change = numbers - earlier
    else:
        # A change from zero has no percentage: missing rather than infinite.
        change = (numbers - earlier) / earlier.where(earlier != 0)
    change.index = positions
    out = df.copy(deep=False)
    out[params.get("new_column") or f"{column}_{method}_{periods}"] = change.sort_index().to_numpy()
    return out


@transform("expanding_window", family=FAMILY,
           description="Add a running total, mean, minimum, maximum or count of a column from the first row up to "
                       "each row, in time order within each group.",
           params=[Param("column", "column", dtype="numeric"),
                   Param("aggregation", "choice", choices=("sum", "mean", "min", "max", "count"), default="sum",
                         required=False),
                   Param("group_by", "columns", required=False), Param("order_by", "column", required=False),
                   Param("new_column", "string", required=False, help="default: column_cumulative_aggregation")],
           example={"column": "visits", "aggregation": "sum", "group_by": ["city"], "order_by": "signup_date"},
           row_local=False, uses=(TransformError, ordered_positions))
def expanding_window(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    column, aggregation = params["column"], params["aggregation"]
    if not pd.api.types.is_numeric_dtype(df[column].dtype) or pd.api.types.is_bool_dtype(df[column].dtype):
        raise TransformError(f"Column {column!r} is not numeric; a running {aggregation} needs numbers.",
                             param="column")
    group_by = list(params.get("group_by") or [])
    positions = ordered_positions(df, params.get("order_by"))
    ordered = df.iloc[positions].reset_index(drop=True)
    numbers = ordered[column].astype("float64")

    def running(series: pd.Series) -> pd.Series:
        return getattr(series.expanding(min_periods=1), aggregation)()

    if group_by:
        result = numbers.groupby([ordered[key] for key in group_by], dropna=False, sort=False).transform(running)
    else:
        result = running(numbers)
    result = result.copy()
    result.index = positions
    out = df.copy(deep=False)
    out[params.get("new_column") or f"{column}_cumulative_{aggregation}"] = result.sort_index().to_numpy()
    return out
