"""Handle missing: drop, fill with a constant or a fitted statistic, carry values forward or backward, flag,
interpolate, or impute from the nearest training rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import TransformError
from ..registry import TRANSFORMS, Param, fitter, transform
from .numeric import as_float, numeric_columns

FAMILY = "Handle missing"
COLUMNS = Param("columns", "columns")
NUMERIC_COLUMNS = Param("columns", "columns", help="numeric columns", dtype="numeric")
HELPERS = (TransformError, numeric_columns, as_float)


def fill_with(values: pd.Series, fill: Any) -> pd.Series:
    """`values` with missing entries set to `fill`, widening whole numbers to decimals when the fill needs it."""
    if not values.isna().any():
        return values
    if pd.api.types.is_integer_dtype(values.dtype) and isinstance(fill, float) and not fill.is_integer():
        values = values.astype("Float64")  # only nullable whole numbers can be missing
    return values.fillna(fill)


@transform("drop_missing", family=FAMILY,
           description="Drop rows with a missing value in the chosen columns, or drop columns whose share of "
                       "missing training values is over a threshold.",
           params=[Param("columns", "columns", required=False, default=[], help="empty means every column"),
                   Param("drop", "choice", choices=("rows", "columns"), default="rows", required=False),
                   Param("threshold", "number", default=0.5, required=False, minimum=0, maximum=1,
                         help="for columns: drop those with more than this share of missing values")],
           example={"columns": ["age", "income"]})
def drop_missing(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    if params["drop"] == "columns":
        return df.drop(columns=[column for column in state["drop_columns"] if column in df.columns])
    columns = list(params["columns"] or df.columns)
    return df[df[columns].notna().all(axis=1)]


@fitter("drop_missing")
def _fit_drop_missing(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    if params["drop"] != "columns":
        return {"drop_columns": []}
    columns = list(params["columns"] or df.columns)
    share = df[columns].isna().mean()
    return {"drop_columns": [str(column) for column in columns if share[column] > params["threshold"]]}


@transform("fill_constant", family=FAMILY,
           description="Fill missing values in columns with a value you give.",
           params=[COLUMNS, Param("value", "string", help="numbers are read as numbers for numeric columns")],
           example={"columns": ["city"], "value": "Unknown"}, uses=(TransformError, fill_with))
def fill_constant(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    out = df.copy(deep=False)
    text = params["value"]
    for column in params["columns"]:
        values = df[column]
        fill: Any = text
        if pd.api.types.is_bool_dtype(values.dtype):
            if text.strip().lower() not in {"true", "false", "1", "0", "yes", "no"}:
                raise TransformError(f"Column {column!r} holds true/false values; give true or false, not {text!r}.",
                                     param="value")
            fill = text.strip().lower() in {"true", "1", "yes"}
        elif pd.api.types.is_numeric_dtype(values.dtype):
            try:
                fill = float(text)
            except ValueError:
                raise TransformError(f"Column {column!r} holds numbers; give a number, not {text!r}.",
                                     param="value") from None
        elif pd.api.types.is_datetime64_any_dtype(values.dtype):
            try:
                fill = pd.Timestamp(text)
            except ValueError:
                raise TransformError(f"Column {column!r} holds dates; give a date such as 2024-01-31, not {text!r}.",
                                     param="value") from None
        out[column] = fill_with(values, fill)
    return out


def _fit_statistic(df: pd.DataFrame, params: dict[str, Any], statistic: str) -> dict[str, Any]:
    values: dict[str, float] = {}
    for column in numeric_columns(df, params["columns"]):
        series = as_float(df[column])
        series = series[np.isfinite(series)]
        if series.empty:
            raise TransformError(f"Column {column!r} has no values in the training rows to take the {statistic} of.",
                                 param="columns")
        values[column] = float(series.mean() if statistic == "mean" else series.median())
    return {"values": values}


@transform("fill_mean", family=FAMILY,
           description="Fill missing values in numeric columns with the training mean.",
           params=[NUMERIC_COLUMNS], example={"columns": ["income"]}, uses=(fill_with,))
def fill_mean(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    out = df.copy(deep=False)
    for column in params["columns"]:
        out[column] = fill_with(df[column], state["values"][column])
    return out


@fitter("fill_mean")
def _fit_fill_mean(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    return _fit_statistic(df, params, "mean")


@transform("fill_median", family=FAMILY,
           description="Fill missing values in numeric columns with the training median (robust to outliers).",
           params=[NUMERIC_COLUMNS], example={"columns": ["age", "income"]}, uses=(fill_with,))
def fill_median(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    out = df.copy(deep=False)
    for column in params["columns"]:
        out[column] = fill_with(df[column], state["values"][column])
    return out


@fitter("fill_median")
def _fit_fill_median(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    return _fit_statistic(df, params, "median")


@transform("fill_mode", family=FAMILY,
           description="Fill missing values with the most frequent training value of each column (any type).",
           params=[COLUMNS], example={"columns": ["city", "age"]}, uses=(fill_with,))
def fill_mode(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    out = df.copy(deep=False)
    for column in params["columns"]:
        value = state["values"][column]
        if value is None:
            continue  # the column had no training values: nothing to fill with
        if pd.api.types.is_datetime64_any_dtype(df[column].dtype):
            value = pd.Timestamp(value)
        out[column] = fill_with(df[column], value)
    return out


@fitter("fill_mode")
def _fit_fill_mode(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for column in params["columns"]:
        modes = df[column].dropna().mode()  # sorted, so ties resolve the same way every time
        if modes.empty:
            values[column] = None
            continue
        value = modes.iloc[0]
        if isinstance(value, pd.Timestamp):
            value = value.isoformat()
        elif isinstance(value, np.generic):
            value = value.item()
        values[column] = value
    return {"values": values}


@transform("fill_forward", family=FAMILY,
           description="Fill missing values with the last value above them (for rows in time order).",
           params=[COLUMNS, Param("limit", "integer", required=False, minimum=1,
                                  help="fill at most this many missing values in a row")],
           example={"columns": ["income"]}, row_local=False)
def fill_forward(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    out = df.copy(deep=False)
    for column in params["columns"]:
        out[column] = df[column].ffill(limit=params.get("limit"))
    return out


@transform("fill_backward", family=FAMILY,
           description="Fill missing values with the next value below them (for rows in time order).",
           params=[COLUMNS, Param("limit", "integer", required=False, minimum=1,
                                  help="fill at most this many missing values in a row")],
           example={"columns": ["income", "city"]}, row_local=False)
def fill_backward(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    out = df.copy(deep=False)
    for column in params["columns"]:
        out[column] = df[column].bfill(limit=params.get("limit"))
    return out


@transform("fill_interpolate", family=FAMILY,
           description="Fill missing values in numeric columns by straight lines between the values around them "
                       "(for rows in time order).",
           params=[NUMERIC_COLUMNS], example={"columns": ["income"]}, row_local=False, uses=HELPERS)
def fill_interpolate(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    out = df.copy(deep=False)
    for column in numeric_columns(df, params["columns"]):
        out[column] = as_float(df[column]).interpolate(method="linear", limit_area="inside")
    return out


@transform("fill_group_median", family=FAMILY,
           description="Fill missing values in numeric columns with the training median of their group "
                       "(the overall median for groups not seen in training).",
           params=[NUMERIC_COLUMNS, Param("group", "column", help="the column that defines groups")],
           example={"columns": ["income"], "group": "plan"}, uses=(as_float,))
def fill_group_median(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    out = df.copy(deep=False)
    keys = df[params["group"]].astype("string").fillna("")
    for column in params["columns"]:
        medians = state["groups"][column]
        fill = pd.Series([medians.get(key, state["overall"][column]) for key in keys], index=df.index,
                         dtype="float64")
        values = df[column]
        if values.isna().any():
            out[column] = as_float(values).fillna(fill)
    return out


@fitter("fill_group_median")
def _fit_fill_group_median(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    overall = _fit_statistic(df, params, "median")["values"]
    keys = df[params["group"]].astype("string").fillna("")
    groups: dict[str, dict[str, float]] = {}
    for column in params["columns"]:
        medians = as_float(df[column]).groupby(keys).median().dropna()
        groups[column] = {str(key): float(value) for key, value in medians.items()}
    return {"overall": overall, "groups": groups}


@transform("missing_indicator", family=FAMILY,
           description="Add a true/false column per chosen column saying whether its value is missing.",
           params=[COLUMNS, Param("suffix", "string", default="_missing", required=False)],
           example={"columns": ["age", "income", "city"]})
def missing_indicator(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    out = df.copy(deep=False)
    for column in params["columns"]:
        out[f"{column}{params['suffix']}"] = df[column].isna()
    return out


@transform("fill_knn", family=FAMILY,
           description="Fill missing values in numeric columns from the average of the most similar training rows "
                       "(k nearest neighbours on the chosen columns, each scaled by its training spread).",
           params=[NUMERIC_COLUMNS,
                   Param("neighbors", "integer", default=5, required=False, minimum=1, maximum=100),
                   Param("max_rows", "integer", default=2000, required=False, minimum=10, maximum=20_000,
                         help="training rows kept to search neighbours in (a random sample when there are more)")],
           example={"columns": ["age", "income", "score"], "neighbors": 5}, uses=HELPERS)
def fill_knn(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    from sklearn.impute import KNNImputer

    columns = numeric_columns(df, params["columns"])
    center = np.asarray(state["center"], dtype="float64")
    scale = np.asarray(state["scale"], dtype="float64")
    reference = np.asarray(state["rows"], dtype="float64")
    values = np.column_stack([as_float(df[column]).to_numpy() for column in columns])
    # The imputer is refitted on the stored training rows, so the studio and an exported script that carries
    # the same rows find the same neighbours.
    imputer = KNNImputer(n_neighbors=params["neighbors"], keep_empty_features=True).fit(reference)
    searchable = np.where(np.isinf(values), np.nan, values)  # infinities are kept, not used as distances
    filled = imputer.transform((searchable - center) / scale) * scale + center
    out = df.copy(deep=False)
    for position, column in enumerate(columns):
        missing = np.isnan(values[:, position])
        if missing.any():
            original = as_float(df[column])
            out[column] = original.mask(missing, pd.Series(filled[:, position], index=df.index))
    return out


@fitter("fill_knn")
def _fit_fill_knn(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    columns = numeric_columns(df, params["columns"])
    values = np.column_stack([as_float(df[column]).to_numpy() for column in columns])
    values[~np.isfinite(values)] = np.nan
    if len(values) > params["max_rows"]:
        chosen = np.sort(np.random.default_rng(0).choice(len(values), size=params["max_rows"], replace=False))
        values = values[chosen]
    center = np.nanmean(values, axis=0)
    scale = np.nanstd(values, axis=0)
    empty = [column for column, mean in zip(columns, center, strict=True) if np.isnan(mean)]
    if empty:
        raise TransformError(f"Column {empty[0]!r} has no values in the training rows to learn from.",
                             param="columns")
    scale[scale == 0] = 1.0
    scaled = (values - center) / scale
    return {"center": [float(value) for value in center], "scale": [float(value) for value in scale],
            "rows": [[None if np.isnan(value) else float(value) for value in row] for row in scaled]}


TRANSFORMS["fill_knn"].extra["needs_sklearn"] = True
