"""Columns computed from a formula in the safe formula language (engine/wrangler/formula.py)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..errors import TransformError
from ..formula import formula_evaluate
from ..registry import Param, transform


@transform("formula_column", family="Columns",
           description="Add or replace a column computed by a formula, e.g. income / 12 or "
                       "\"adult\" if age >= 18 else \"minor\".",
           params=[Param("new_column", "string", help="the column to write; an existing one is replaced"),
                   Param("expression", "expression",
                         help="columns, numbers, \"text\", + - * / // % **, comparisons, and/or/not, "
                              "x if condition else y, and functions such as round, log, lower, coalesce, year")],
           example={"new_column": "monthly_income", "expression": "round(income / 12, 2)"},
           uses=(TransformError, formula_evaluate))
def formula_column(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    value = formula_evaluate(df, params["expression"])
    if isinstance(value, pd.Series) and value.dtype == object and pd.api.types.infer_dtype(value, skipna=True) in (
            "mixed", "mixed-integer"):
        raise TransformError("The formula gives values of different kinds (text and numbers); a column holds one "
                             "kind. Use text(...) or number(...) to convert.", param="expression")
    out = df.copy(deep=False)
    out[params["new_column"]] = value if isinstance(value, pd.Series) else pd.Series([value] * len(df), index=df.index)
    return out
