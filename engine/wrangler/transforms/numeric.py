"""Numeric: scalers, power transforms, binning, clipping and rounding. Fitted values (means, scales, lambdas,
bin edges) come from the training rows so validation and test rows are transformed the same way.

The helpers `numeric_columns` and `as_float` are shared with the missing-value and outlier families; they are
copied into exported scripts through `uses=`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import TransformError
from ..registry import Param, fitter, transform

FAMILY = "Numeric"


def numeric_columns(df: pd.DataFrame, columns: list[str], param: str = "columns") -> list[str]:
    """The columns, checked to hold numbers (true/false columns do not count)."""
    for column in columns:
        dtype = df[column].dtype
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            raise TransformError(
                f"Column {column!r} holds {dtype} values, not numbers. Pick numeric columns, or convert it "
                f"first with a cast_column step.", param=param)
    return list(columns)


def as_float(values: pd.Series) -> pd.Series:
    """A numeric column as float64 with NaN for missing (nullable integer columns included)."""
    return pd.Series(values.to_numpy(dtype="float64", na_value=np.nan), index=values.index, name=values.name)


COLUMNS = Param("columns", "columns", help="numeric columns", dtype="numeric")
COLUMN = Param("column", "column", help="a numeric column", dtype="numeric")
NEW_COLUMN = Param("new_column", "string", required=False, default="",
                   help="name of the output column; empty replaces the column")
HELPERS = (TransformError, numeric_columns, as_float)


def _finite(values: pd.Series, column: str) -> np.ndarray:
    array = as_float(values).to_numpy()
    array = array[np.isfinite(array)]
    if array.size == 0:
        raise TransformError(f"Column {column!r} has no values in the training rows to fit on.", param="columns")
    return array


# --- scalers ------------------------------------------------------------------------------------------------

@transform("scale_standard", family=FAMILY,
           description="Center numeric columns on the training mean and divide by the training standard deviation.",
           params=[COLUMNS], example={"columns": ["income", "score"]}, uses=HELPERS)
def scale_standard(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    out = df.copy(deep=False)
    for column in numeric_columns(df, params["columns"]):
        center, scale = state["center"][column], state["scale"][column]
        out[column] = (as_float(df[column]) - center) / scale
    return out


@fitter("scale_standard")
def _fit_scale_standard(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    center: dict[str, float] = {}
    scale: dict[str, float] = {}
    for column in numeric_columns(df, params["columns"]):
        values = _finite(df[column], column)
        center[column] = float(values.mean())
        # A constant column keeps its spread rather than dividing by zero.
        scale[column] = float(values.std()) or 1.0
    return {"center": center, "scale": scale}


@transform("scale_robust", family=FAMILY,
           description="Center numeric columns on the training median and divide by the interquartile range "
                       "(little affected by outliers).",
           params=[COLUMNS], example={"columns": ["income", "age"]}, uses=HELPERS)
def scale_robust(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    out = df.copy(deep=False)
    for column in numeric_columns(df, params["columns"]):
        out[column] = (as_float(df[column]) - state["center"][column]) / state["scale"][column]
    return out


@fitter("scale_robust")
def _fit_scale_robust(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    center: dict[str, float] = {}
    scale: dict[str, float] = {}
    for column in numeric_columns(df, params["columns"]):
        values = _finite(df[column], column)
        low, median, high = np.quantile(values, [0.25, 0.5, 0.75])
        center[column] = float(median)
        scale[column] = float(high - low) or 1.0
    return {"center": center, "scale": scale}


@transform("scale_minmax", family=FAMILY,
           description="Rescale numeric columns to 0–1 using the training minimum and maximum.",
           params=[COLUMNS], example={"columns": ["income", "visits"]}, uses=HELPERS)
def scale_minmax(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    out = df.copy(deep=False)
    for column in numeric_columns(df, params["columns"]):
        low, high = state["range"][column]
        out[column] = (as_float(df[column]) - low) / ((high - low) or 1.0)
    return out


@fitter("scale_minmax")
def _fit_scale_minmax(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    ranges = {}
    for column in numeric_columns(df, params["columns"]):
        values = _finite(df[column], column)
        ranges[column] = [float(values.min()), float(values.max())]
    return {"range": ranges}


@transform("scale_maxabs", family=FAMILY,
           description="Divide numeric columns by their largest absolute training value, keeping zero and signs.",
           params=[COLUMNS], example={"columns": ["score"]}, uses=HELPERS)
def scale_maxabs(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    out = df.copy(deep=False)
    for column in numeric_columns(df, params["columns"]):
        out[column] = as_float(df[column]) / state["scale"][column]
    return out


@fitter("scale_maxabs")
def _fit_scale_maxabs(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    return {"scale": {column: float(np.abs(_finite(df[column], column)).max()) or 1.0
                      for column in numeric_columns(df, params["columns"])}}


# --- power transforms ---------------------------------------------------------------------------------------

@transform("log_transform", family=FAMILY,
           description="Take log(1 + x) of numeric columns to tame long right tails.",
           params=[COLUMNS,
                   Param("negatives", "choice", choices=("error", "shift"), default="error", required=False,
                         help="with 'shift', columns with negative training values are shifted so their "
                              "training minimum becomes 0 before the log")],
           example={"columns": ["income", "visits"]}, uses=HELPERS)
def log_transform(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    out = df.copy(deep=False)
    for column in numeric_columns(df, params["columns"]):
        shifted = as_float(df[column]) + state["shift"][column]
        # Values below the fitted range (only possible on rows not seen in training) have no log: missing.
        out[column] = np.log1p(shifted.where(shifted >= 0))
    return out


@fitter("log_transform")
def _fit_log_transform(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    shift: dict[str, float] = {}
    for column in numeric_columns(df, params["columns"]):
        low = float(_finite(df[column], column).min())
        if low < 0 and params["negatives"] != "shift":
            raise TransformError(
                f"Column {column!r} has negative values (down to {low:g}); log(1 + x) needs values of 0 or more. "
                f"Set 'negatives' to 'shift', or use yeo_johnson, which handles negative values.", param="negatives")
        shift[column] = -low if low < 0 else 0.0
    return {"shift": shift}


@transform("box_cox", family=FAMILY,
           description="Box-Cox power transform of positive numeric columns, lambda fitted on the training rows.",
           params=[COLUMNS], example={"columns": ["income"]}, uses=HELPERS)
def box_cox(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    out = df.copy(deep=False)
    for column in numeric_columns(df, params["columns"]):
        values = as_float(df[column])
        if (values <= 0).any():
            raise TransformError(f"Column {column!r} has values of 0 or less; Box-Cox needs positive values. "
                                 f"Use yeo_johnson instead, which handles zero and negative values.",
                                 param="columns")
        lam = state["lambda"][column]
        out[column] = np.log(values) if lam == 0 else (np.power(values, lam) - 1) / lam
    return out


@fitter("box_cox")
def _fit_box_cox(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    from scipy import stats

    lambdas: dict[str, float] = {}
    for column in numeric_columns(df, params["columns"]):
        values = _finite(df[column], column)
        if (values <= 0).any():
            raise TransformError(f"Column {column!r} has values of 0 or less; Box-Cox needs positive values. "
                                 f"Use yeo_johnson instead, which handles zero and negative values.",
                                 param="columns")
        if np.ptp(values) == 0:
            raise TransformError(f"Column {column!r} has one value only in the training rows; there is no "
                                 f"shape to transform.", param="columns")
        lambdas[column] = float(stats.boxcox_normmax(values, method="mle"))
    return {"lambda": lambdas}


@transform("yeo_johnson", family=FAMILY,
           description="Yeo-Johnson power transform (works with zero and negative values), lambda fitted on "
                       "the training rows.",
           params=[COLUMNS], example={"columns": ["income", "score"]}, uses=HELPERS)
def yeo_johnson(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    out = df.copy(deep=False)
    for column in numeric_columns(df, params["columns"]):
        x = as_float(df[column]).to_numpy()
        lam = state["lambda"][column]
        result = np.full_like(x, np.nan)
        positive, negative = x >= 0, x < 0
        if abs(lam) < 1e-12:
            result[positive] = np.log1p(x[positive])
        else:
            result[positive] = (np.power(x[positive] + 1, lam) - 1) / lam
        if abs(lam - 2) < 1e-12:
            result[negative] = -np.log1p(-x[negative])
        else:
            result[negative] = -(np.power(1 - x[negative], 2 - lam) - 1) / (2 - lam)
        out[column] = pd.Series(result, index=df.index)
    return out


@fitter("yeo_johnson")
def _fit_yeo_johnson(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    from scipy import stats

    lambdas: dict[str, float] = {}
    for column in numeric_columns(df, params["columns"]):
        values = _finite(df[column], column)
        if np.ptp(values) == 0:
            raise TransformError(f"Column {column!r} has one value only in the training rows; there is no "
                                 f"shape to transform.", param="columns")
        # scipy's optimiser works on standardised-magnitude data more reliably; lambda is scale dependent,
        # so it is fitted on the values as they are.
        with np.errstate(over="ignore", invalid="ignore"):
            lambdas[column] = float(stats.yeojohnson_normmax(values))
    return {"lambda": lambdas}


@transform("quantile_rank", family=FAMILY,
           description="Replace numeric values by their quantile (0–1) among the training values.",
           params=[COLUMNS, Param("quantiles", "integer", required=False, default=100, minimum=2, maximum=10_000,
                                  help="how many training quantiles to keep")],
           example={"columns": ["income"]}, uses=HELPERS)
def quantile_rank(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    out = df.copy(deep=False)
    for column in numeric_columns(df, params["columns"]):
        x = as_float(df[column]).to_numpy()
        edges = np.asarray(state["quantiles"][column], dtype="float64")
        ranks = np.linspace(0, 1, len(edges))
        # Averaging the forward and backward interpolation puts tied training values in the middle of their
        # rank range (as scikit-learn's QuantileTransformer does).
        forward = np.interp(x, edges, ranks)
        backward = -np.interp(-x, -edges[::-1], -ranks[::-1])
        out[column] = pd.Series(np.where(np.isnan(x), np.nan, 0.5 * (forward + backward)), index=df.index)
    return out


@fitter("quantile_rank")
def _fit_quantile_rank(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    return {"quantiles": {
        column: [float(value) for value in np.quantile(_finite(df[column], column), np.linspace(0, 1, params["quantiles"]))]
        for column in numeric_columns(df, params["columns"])}}


@transform("math_function", family=FAMILY,
           description="Apply a function (square root, square, reciprocal, absolute value, exp, log10) to numeric "
                       "columns; undefined results become missing.",
           params=[COLUMNS, Param("function", "choice",
                                  choices=("sqrt", "square", "reciprocal", "abs", "exp", "log10"))],
           example={"columns": ["visits"], "function": "sqrt"}, uses=HELPERS)
def math_function(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    out = df.copy(deep=False)
    name = params["function"]
    for column in numeric_columns(df, params["columns"]):
        x = as_float(df[column])
        if name == "sqrt":
            result = np.sqrt(x.where(x >= 0))
        elif name == "square":
            result = x * x
        elif name == "reciprocal":
            result = 1.0 / x.where(x != 0)
        elif name == "abs":
            result = x.abs()
        elif name == "exp":
            with np.errstate(over="ignore"):
                result = np.exp(x)
            result = result.where(~np.isinf(result))  # too large to hold: missing
        else:
            result = np.log10(x.where(x > 0))
        out[column] = result
    return out


# --- binning ------------------------------------------------------------------------------------------------

def bin_index(values: pd.Series, inner_edges: list[float]) -> pd.Series:
    """The bin number (0 for the lowest) of each value, given the edges between bins; missing stays missing."""
    x = as_float(values).to_numpy()
    bins = np.searchsorted(np.asarray(inner_edges, dtype="float64"), x, side="right")
    return pd.Series(pd.array(np.where(np.isnan(x), 0, bins), dtype="Int64"), index=values.index).mask(np.isnan(x))


bin_index.uses = (as_float,)  # type: ignore[attr-defined]
BIN_HELPERS = (*HELPERS, bin_index)
BIN_PARAMS = [COLUMN, Param("bins", "integer", default=4, required=False, minimum=2, maximum=1000), NEW_COLUMN]


@transform("bin_quantile", family=FAMILY,
           description="Cut a numeric column into bins holding about as many training rows each; the output is "
                       "the bin number.",
           params=BIN_PARAMS, example={"column": "income", "bins": 4, "new_column": "income_quartile"},
           uses=BIN_HELPERS)
def bin_quantile(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    column = numeric_columns(df, [params["column"]], "column")[0]
    out = df.copy(deep=False)
    out[params["new_column"] or column] = bin_index(df[column], state["edges"])
    return out


@fitter("bin_quantile")
def _fit_bin_quantile(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    column = numeric_columns(df, [params["column"]], "column")[0]
    values = _finite(df[column], column)
    inner = np.unique(np.quantile(values, np.linspace(0, 1, params["bins"] + 1)[1:-1]))
    return {"edges": [float(edge) for edge in inner]}


@transform("bin_uniform", family=FAMILY,
           description="Cut a numeric column into bins of equal width over the training range; the output is "
                       "the bin number.",
           params=BIN_PARAMS, example={"column": "age", "bins": 5}, uses=BIN_HELPERS)
def bin_uniform(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    column = numeric_columns(df, [params["column"]], "column")[0]
    out = df.copy(deep=False)
    out[params["new_column"] or column] = bin_index(df[column], state["edges"])
    return out


@fitter("bin_uniform")
def _fit_bin_uniform(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    column = numeric_columns(df, [params["column"]], "column")[0]
    values = _finite(df[column], column)
    inner = np.unique(np.linspace(values.min(), values.max(), params["bins"] + 1)[1:-1])
    return {"edges": [float(edge) for edge in inner]}


@transform("bin_custom", family=FAMILY,
           description="Cut a numeric column at the edges you give; the output is the bin number.",
           params=[COLUMN, Param("edges", "string_list", help="increasing numbers, e.g. 18, 30, 50"), NEW_COLUMN],
           example={"column": "age", "edges": ["30", "50", "65"], "new_column": "age_band"}, uses=BIN_HELPERS)
def bin_custom(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    column = numeric_columns(df, [params["column"]], "column")[0]
    try:
        edges = [float(edge) for edge in params["edges"]]
    except ValueError:
        raise TransformError(f"Edges must be numbers; got {', '.join(params['edges'])}.", param="edges") from None
    if any(low >= high for low, high in zip(edges, edges[1:], strict=False)):
        raise TransformError("Edges must increase from left to right.", param="edges")
    out = df.copy(deep=False)
    out[params["new_column"] or column] = bin_index(df[column], edges)
    return out


# --- cleaning -----------------------------------------------------------------------------------------------

@transform("clip_values", family=FAMILY,
           description="Limit numeric columns to a lower and/or upper bound you give.",
           params=[COLUMNS, Param("lower", "number", required=False), Param("upper", "number", required=False)],
           example={"columns": ["age"], "lower": 18, "upper": 100}, uses=HELPERS)
def clip_values(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    lower, upper = params.get("lower"), params.get("upper")
    if lower is None and upper is None:
        raise TransformError("Set a lower bound, an upper bound, or both.", param="lower")
    if lower is not None and upper is not None and lower > upper:
        raise TransformError(f"The lower bound ({lower:g}) is above the upper bound ({upper:g}).", param="lower")
    out = df.copy(deep=False)
    for column in numeric_columns(df, params["columns"]):
        out[column] = as_float(df[column]).clip(lower=lower, upper=upper)
    return out


@transform("round_values", family=FAMILY,
           description="Round numeric columns to a number of decimals (negative rounds to tens, hundreds...).",
           params=[COLUMNS, Param("decimals", "integer", default=0, required=False, minimum=-15, maximum=15)],
           example={"columns": ["income", "score"], "decimals": 1}, uses=HELPERS)
def round_values(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    out = df.copy(deep=False)
    for column in numeric_columns(df, params["columns"]):
        if pd.api.types.is_integer_dtype(df[column].dtype) and params["decimals"] >= 0:
            continue  # whole numbers are already rounded; keep their type
        out[column] = as_float(df[column]).round(params["decimals"])
    return out


@transform("replace_infinite", family=FAMILY,
           description="Turn infinite values (from a division by zero, for example) into missing values.",
           params=[COLUMNS], example={"columns": ["income", "score"]}, uses=HELPERS)
def replace_infinite(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    out = df.copy(deep=False)
    for column in numeric_columns(df, params["columns"]):
        if pd.api.types.is_float_dtype(df[column].dtype):
            values = as_float(df[column])
            out[column] = values.where(~np.isinf(values))
    return out
