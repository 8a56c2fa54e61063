"""Outliers: find values outside bounds fitted on the training rows (standard deviations, median absolute
deviation, quantiles, interquartile range) and clip them, remove their rows, blank them, or flag them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import TransformError
from ..registry import Param, fitter, transform
from .numeric import as_float, numeric_columns

FAMILY = "Outliers"
COLUMNS = Param("columns", "columns", help="numeric columns", dtype="numeric")
FIX = Param("fix", "choice", choices=("clip", "remove", "missing", "flag"), default="clip", required=False,
            help="clip to the bounds, remove the row, make the value missing, or add a true/false "
                 "'<column>_outlier' column")


def outliers_fix(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    """Apply fitted bounds `state["bounds"][column] = [lower, upper]` with the chosen fix."""
    out = df.copy(deep=False)
    outside_any = pd.Series(False, index=df.index)
    for column in numeric_columns(df, params["columns"]):
        lower, upper = state["bounds"][column]
        values = as_float(df[column])
        outside = (values < lower) | (values > upper)
        if params["fix"] == "clip":
            out[column] = values.clip(lower=lower, upper=upper)
        elif params["fix"] == "missing":
            out[column] = values.mask(outside)
        elif params["fix"] == "flag":
            out[f"{column}_outlier"] = outside
        else:
            outside_any |= outside
    if params["fix"] == "remove":
        return out[~outside_any]
    return out


outliers_fix.uses = (TransformError, numeric_columns, as_float)  # type: ignore[attr-defined]


def _training_values(df: pd.DataFrame, column: str) -> np.ndarray:
    values = as_float(df[column]).to_numpy()
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise TransformError(f"Column {column!r} has no values in the training rows to fit bounds on.",
                             param="columns")
    return values


def _fit_bounds(df: pd.DataFrame, params: dict[str, Any], method: str) -> dict[str, Any]:
    bounds: dict[str, list[float]] = {}
    for column in numeric_columns(df, params["columns"]):
        values = _training_values(df, column)
        if method == "std":
            center, spread = values.mean(), params["threshold"] * values.std()
            lower, upper = center - spread, center + spread
        elif method == "robust_std":
            center = np.median(values)
            mad = 1.4826 * np.median(np.abs(values - center))
            if mad == 0:
                # More than half the values are equal: the MAD says nothing about spread, so fall back to the
                # standard deviation rather than calling every other value an outlier.
                mad = values.std()
            lower, upper = center - params["threshold"] * mad, center + params["threshold"] * mad
        elif method == "quantile":
            lower, upper = np.quantile(values, [params["lower"], params["upper"]])
        else:
            first, third = np.quantile(values, [0.25, 0.75])
            spread = params["factor"] * (third - first)
            lower, upper = first - spread, third + spread
        bounds[column] = [float(lower), float(upper)]
    return {"bounds": bounds}


@transform("outliers_std", family=FAMILY,
           description="Treat values more than a number of standard deviations from the training mean as outliers.",
           params=[COLUMNS, Param("threshold", "number", default=3.0, required=False, minimum=0.1), FIX],
           example={"columns": ["age", "income"], "threshold": 3, "fix": "clip"}, uses=(outliers_fix,))
def outliers_std(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    return outliers_fix(df, params, state)


@fitter("outliers_std")
def _fit_outliers_std(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    return _fit_bounds(df, params, "std")


@transform("outliers_robust_std", family=FAMILY,
           description="Treat values more than a number of robust deviations (1.4826 × median absolute deviation) "
                       "from the training median as outliers.",
           params=[COLUMNS, Param("threshold", "number", default=5.0, required=False, minimum=0.1), FIX],
           example={"columns": ["age"], "threshold": 5, "fix": "missing"}, uses=(outliers_fix,))
def outliers_robust_std(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    return outliers_fix(df, params, state)


@fitter("outliers_robust_std")
def _fit_outliers_robust_std(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    return _fit_bounds(df, params, "robust_std")


@transform("outliers_quantile", family=FAMILY,
           description="Treat values below a lower or above an upper training quantile as outliers "
                       "(clipping them is winsorizing).",
           params=[COLUMNS,
                   Param("lower", "number", default=0.01, required=False, minimum=0, maximum=1),
                   Param("upper", "number", default=0.99, required=False, minimum=0, maximum=1), FIX],
           example={"columns": ["income", "score"], "lower": 0.01, "upper": 0.99, "fix": "clip"},
           uses=(outliers_fix,))
def outliers_quantile(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    return outliers_fix(df, params, state)


@fitter("outliers_quantile")
def _fit_outliers_quantile(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    if params["lower"] >= params["upper"]:
        raise TransformError(f"The lower quantile ({params['lower']:g}) must be below the upper one "
                             f"({params['upper']:g}).", param="lower")
    return _fit_bounds(df, params, "quantile")


@transform("outliers_iqr", family=FAMILY,
           description="Treat values beyond a factor of the interquartile range below the first or above the third "
                       "training quartile as outliers (Tukey's fences).",
           params=[COLUMNS, Param("factor", "number", default=1.5, required=False, minimum=0), FIX],
           example={"columns": ["age", "visits"], "factor": 1.5, "fix": "remove"}, uses=(outliers_fix,))
def outliers_iqr(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    return outliers_fix(df, params, state)


@fitter("outliers_iqr")
def _fit_outliers_iqr(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    return _fit_bounds(df, params, "iqr")
