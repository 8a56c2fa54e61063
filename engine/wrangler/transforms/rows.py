"""Rows: filter by a condition, sort, sample, drop duplicates."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import TransformError
from ..formula import formula_evaluate
from ..registry import Param, transform

FAMILY = "Rows"


@transform("filter_rows", family=FAMILY,
           description="Keep the rows where a condition holds, e.g. age >= 18 and city == \"Paris\"; rows where "
                       "it is missing are dropped.",
           params=[Param("expression", "expression", help="a condition in the formula language")],
           example={"expression": "age >= 18 and plan != \"basic\""}, uses=(TransformError, formula_evaluate))
def filter_rows(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    condition = formula_evaluate(df, params["expression"])
    if not isinstance(condition, pd.Series):
        if not isinstance(condition, bool):
            raise TransformError("The filter must be a condition that is true or false for each row, for example "
                                 "age >= 18.", param="expression")
        condition = pd.Series([condition] * len(df), index=df.index, dtype="bool")
    if not pd.api.types.is_bool_dtype(condition.dtype):
        raise TransformError("The filter must be a condition that is true or false for each row, for example "
                             "age >= 18 or contains(city, \"Par\").", param="expression")
    if condition.dtype != bool:  # a nullable condition: a missing answer drops the row
        condition = condition.astype("boolean").fillna(False).astype(bool)
    return df[condition.to_numpy()]


@transform("sort_rows", family=FAMILY, description="Sort the rows by one or more columns; missing values go last.",
           params=[Param("columns", "columns"),
                   Param("ascending", "boolean", default=True, required=False, help="false sorts largest first")],
           example={"columns": ["plan", "income"], "ascending": False}, row_local=False)
def sort_rows(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    # A stable sort keeps the original order among equal keys, so the result is the same on every run.
    return df.sort_values(list(params["columns"]), ascending=bool(params["ascending"]), kind="mergesort",
                          na_position="last")


@transform("sample_rows", family=FAMILY,
           description="Keep a random sample of the rows (a fraction or a number of rows), in their original order.",
           params=[Param("fraction", "number", required=False, minimum=0, maximum=1,
                         help="the share of rows to keep; or set rows"),
                   Param("rows", "integer", required=False, minimum=0, help="the number of rows to keep"),
                   Param("seed", "integer", default=0, required=False)],
           example={"fraction": 0.5, "seed": 3}, row_local=False, uses=(TransformError,))
def sample_rows(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    fraction, rows = params.get("fraction"), params.get("rows")
    if (fraction is None) == (rows is None):
        raise TransformError("Set either a fraction or a number of rows, not both.", param="fraction")
    size = min(len(df), int(rows)) if rows is not None else int(round(float(fraction or 0) * len(df)))
    chosen = np.sort(np.random.default_rng(int(params["seed"])).choice(len(df), size=size, replace=False))
    return df.iloc[chosen]


@transform("drop_duplicates", family=FAMILY,
           description="Drop rows that repeat an earlier row (on all columns, or on the columns given).",
           params=[Param("columns", "columns", required=False, help="compare only these columns; all when empty"),
                   Param("keep", "choice", choices=("first", "last", "none"), default="first", required=False,
                         help="which copy to keep; none drops every copy")],
           example={"columns": ["city", "plan"], "keep": "first"}, row_local=False)
def drop_duplicates(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    keep = {"first": "first", "last": "last", "none": False}[params["keep"]]
    return df.drop_duplicates(subset=params["columns"] or None, keep=keep)
