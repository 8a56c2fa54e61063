"""Columns: rename, drop, select, duplicate, cast."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..registry import Param, transform

FAMILY = "Columns"


@transform("rename_columns", family=FAMILY, description="Rename columns (old name → new name).",
           params=[Param("mapping", "mapping", help="old name → new name")],
           example={"mapping": {"score": "risk_score"}})
def rename_columns(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    missing = [name for name in params["mapping"] if name not in df.columns]
    if missing:
        raise KeyError(f"no column {missing[0]!r} to rename")
    return df.rename(columns=params["mapping"])


@transform("drop_columns", family=FAMILY, description="Drop columns.",
           params=[Param("columns", "columns")], example={"columns": ["tags", "attributes"]})
def drop_columns(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    return df.drop(columns=params["columns"])


@transform("select_columns", family=FAMILY, description="Keep only these columns, in this order.",
           params=[Param("columns", "columns")], example={"columns": ["customer_id", "age", "churned"]})
def select_columns(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    return df[list(params["columns"])]


@transform("duplicate_column", family=FAMILY, description="Copy a column under a new name.",
           params=[Param("column", "column"), Param("new_name", "string")],
           example={"column": "income", "new_name": "income_raw"})
def duplicate_column(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    out = df.copy(deep=False)
    out[params["new_name"]] = df[params["column"]]
    return out


@transform("cast_column", family=FAMILY,
           description="Change a column's type; values that cannot be converted become missing or fail the step.",
           params=[Param("column", "column"),
                   Param("to", "choice", choices=("integer", "float", "string", "boolean", "datetime", "category")),
                   Param("on_error", "choice", choices=("missing", "fail"), default="missing", required=False)],
           example={"column": "visits", "to": "float"})
def cast_column(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    column, to, strict = params["column"], params["to"], params["on_error"] == "fail"
    values = df[column]
    errors = "raise" if strict else "coerce"
    if to in ("integer", "float"):
        converted = pd.to_numeric(values, errors=errors)
        if to == "integer":
            if strict and (converted.dropna() % 1 != 0).any():
                raise ValueError(f"{column!r} has values with decimals; they cannot become whole numbers")
            converted = converted.where(converted % 1 == 0).astype("Int64")
        else:
            converted = converted.astype("float64")
    elif to == "string":
        converted = values.astype("string")
    elif to == "boolean":
        text = values.astype("string").str.strip().str.lower()
        mapping = {"true": True, "1": True, "yes": True, "y": True, "false": False, "0": False, "no": False, "n": False}
        converted = text.map(mapping).astype("boolean")
        if strict and (converted.isna() & values.notna()).any():
            raise ValueError(f"{column!r} has values that are not true/false, yes/no or 1/0")
    elif to == "datetime":
        converted = pd.to_datetime(values, errors=errors)
    else:
        converted = values.astype("category")
    out = df.copy(deep=False)
    out[column] = converted
    return out
