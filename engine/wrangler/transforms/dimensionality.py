"""Dimensionality: principal components of number columns."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import TransformError
from ..registry import Param, fitter, transform

FAMILY = "Dimensionality"


@transform("pca", family=FAMILY,
           description="Replace number columns by their first principal components (pc1, pc2...), fitted on the "
                       "training rows; missing values count as the column's mean.",
           params=[Param("columns", "columns", dtype="numeric"),
                   Param("components", "integer", default=2, required=False, minimum=1),
                   Param("standardize", "boolean", default=True, required=False,
                         help="scale each column to unit variance first, so large units do not dominate"),
                   Param("keep_columns", "boolean", default=False, required=False,
                         help="keep the original columns next to the components"),
                   Param("prefix", "string", default="pc", required=False)],
           example={"columns": ["age", "income", "visits", "score"], "components": 2})
def pca(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    columns = list(params["columns"])
    values = df[columns].astype("float64").to_numpy()
    mean, scale = np.asarray(state["mean"]), np.asarray(state["scale"])
    centred = (np.where(np.isnan(values), mean, values) - mean) / scale
    projected = centred @ np.asarray(state["components"]).T
    out = df if params["keep_columns"] else df.drop(columns=columns)
    out = out.copy(deep=False)
    for index in range(projected.shape[1]):
        out[f"{params['prefix']}{index + 1}"] = projected[:, index]
    return out


@fitter("pca")
def pca_fit(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    columns, count = list(params["columns"]), int(params["components"])
    for column in columns:
        if not pd.api.types.is_numeric_dtype(df[column].dtype) or pd.api.types.is_bool_dtype(df[column].dtype):
            raise TransformError(f"Column {column!r} is not numeric; PCA needs number columns.", param="columns")
    values = df[columns].astype("float64").to_numpy()
    if count > min(len(columns), len(values)):
        raise TransformError(f"Ask for at most {min(len(columns), len(values))} components: there are "
                             f"{len(columns)} columns and {len(values)} training rows.", param="components")
    mean = np.nanmean(values, axis=0)
    if np.isnan(mean).any():
        empty = columns[int(np.flatnonzero(np.isnan(mean))[0])]
        raise TransformError(f"Column {empty!r} has no values in the training rows.", param="columns")
    filled = np.where(np.isnan(values), mean, values) - mean
    scale = filled.std(axis=0) if params["standardize"] else np.ones(len(columns))
    scale = np.where(scale > 0, scale, 1.0)
    _, singular, rows = np.linalg.svd(filled / scale, full_matrices=False)
    components = rows[:count]
    # An eigenvector's sign is arbitrary: make each one's largest loading positive so refits agree.
    signs = np.sign(components[np.arange(count), np.abs(components).argmax(axis=1)])
    components = components * np.where(signs == 0, 1.0, signs)[:, None]
    variance = singular**2
    return {"mean": mean.tolist(), "scale": scale.tolist(), "components": components.tolist(),
            "explained_variance_ratio": (variance[:count] / variance.sum()).tolist() if variance.sum() else []}


def numeric_columns_checked(df: pd.DataFrame, columns: list[str] | None) -> list[str]:
    """The columns given (checked to be numeric), or every number column."""
    def numeric(column: str) -> bool:
        dtype = df[column].dtype
        return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)

    if not columns:
        return [str(column) for column in df.columns if numeric(column)]
    for column in columns:
        if not numeric(column):
            raise TransformError(f"Column {column!r} is not numeric.", param="columns")
    return list(columns)


@transform("drop_correlated", family=FAMILY,
           description="Drop number columns that are almost a copy of an earlier one (absolute correlation above "
                       "the threshold on the training rows).",
           params=[Param("columns", "columns", required=False, help="default: every number column"),
                   Param("threshold", "number", default=0.95, required=False, minimum=0, maximum=1)],
           example={"threshold": 0.9})
def drop_correlated(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    return df.drop(columns=[column for column in state["drop"] if column in df.columns])


@fitter("drop_correlated")
def drop_correlated_fit(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    columns = numeric_columns_checked(df, params.get("columns"))
    correlation = df[columns].astype("float64").corr().abs().to_numpy()
    dropped: list[str] = []
    # Walk in column order and drop a column when it follows a kept one too closely: the first of a pair stays.
    for later in range(len(columns)):
        for earlier in range(later):
            if columns[earlier] not in dropped and correlation[earlier, later] > float(params["threshold"]):
                dropped.append(columns[later])
                break
    return {"drop": dropped, "columns": columns}


@transform("variance_threshold", family=FAMILY,
           description="Drop number columns whose variance on the training rows is at most the threshold (0 drops "
                       "constant columns).",
           params=[Param("columns", "columns", required=False, help="default: every number column"),
                   Param("threshold", "number", default=0.0, required=False, minimum=0)],
           example={"columns": ["age", "visits", "score"], "threshold": 1.5})
def variance_threshold(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    return df.drop(columns=[column for column in state["drop"] if column in df.columns])


@fitter("variance_threshold")
def variance_threshold_fit(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    columns = numeric_columns_checked(df, params.get("columns"))
    variances = df[columns].astype("float64").var(ddof=0)
    # A column with no values in the training rows has no variance either: it goes too.
    dropped = [column for column in columns if not variances[column] > float(params["threshold"])]
    return {"drop": dropped, "variances": {column: (None if pd.isna(value) else float(value))
                                           for column, value in variances.items()}}
