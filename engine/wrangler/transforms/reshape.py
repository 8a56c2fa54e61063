"""Reshape: group and aggregate, pivot, melt, explode lists, unnest JSON objects."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..errors import TransformError
from ..registry import Param, transform
from .combine import value_kind

FAMILY = "Reshape"
FUNCTIONS = ("mean", "sum", "min", "max", "median", "std", "count", "nunique", "first", "last")


@transform("group_by_aggregate", family=FAMILY,
           description="One row per group, with aggregates of other columns (column → mean, sum, count...; "
                       "several functions separated by commas).",
           params=[Param("group_by", "columns"),
                   Param("aggregations", "mapping", help="column → " + ", ".join(FUNCTIONS))],
           example={"group_by": ["plan"], "aggregations": {"income": "mean,max", "visits": "sum",
                                                           "customer_id": "count"}},
           row_local=False, uses=(TransformError,))
def group_by_aggregate(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    allowed = ("mean", "sum", "min", "max", "median", "std", "count", "nunique", "first", "last")
    group_by = list(params["group_by"])
    named: dict[str, tuple[str, str]] = {}
    # Sorted: a stored or exported flow keeps mappings with sorted keys, so their order cannot matter.
    for column, functions in sorted(params["aggregations"].items()):
        if column not in df.columns:
            raise TransformError(f"Column {column!r} is not in the data at this step.", param="aggregations")
        for function in [item.strip() for item in functions.split(",") if item.strip()]:
            if function not in allowed:
                raise TransformError(f"{function!r} is not an aggregation; use {', '.join(allowed)}.",
                                     param="aggregations")
            numeric = pd.api.types.is_numeric_dtype(df[column].dtype) and not pd.api.types.is_bool_dtype(
                df[column].dtype)
            if function in ("mean", "sum", "median", "std") and not numeric:
                raise TransformError(f"{function} needs a number column; {column!r} is not. Use count, nunique, "
                                     f"first or last.", param="aggregations")
            named[f"{column}_{function}"] = (column, function)
    if not named:
        raise TransformError("Give at least one column → function.", param="aggregations")
    return df.groupby(group_by, dropna=False).agg(**named).reset_index()


@transform("pivot", family=FAMILY,
           description="Turn the values of one column into columns: one row per index, one column per value, "
                       "filled with an aggregate.",
           params=[Param("index", "columns", help="the columns that identify an output row"),
                   Param("columns", "column", help="its values become the new columns"),
                   Param("values", "column", help="the column aggregated into the cells"),
                   Param("aggregation", "choice", choices=FUNCTIONS, default="mean", required=False),
                   Param("max_columns", "integer", default=1000, required=False, minimum=1,
                         help="refuse a pivot that would create more columns")],
           example={"index": ["plan"], "columns": "churned", "values": "income", "aggregation": "mean"},
           row_local=False, uses=(TransformError,))
def pivot(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    index, columns, values = list(params["index"]), params["columns"], params["values"]
    count = int(df[columns].nunique())
    if count > int(params["max_columns"]):
        raise TransformError(f"Pivoting on {columns!r} would create {count} columns, more than the limit of "
                             f"{params['max_columns']}. Add a group_rare step first to merge its rare values, or "
                             f"raise max columns.", param="columns")
    if columns in index or values in index or columns == values:
        raise TransformError("The index, columns and values must be different columns.", param="columns")
    numeric = pd.api.types.is_numeric_dtype(df[values].dtype) and not pd.api.types.is_bool_dtype(df[values].dtype)
    if params["aggregation"] in ("mean", "sum", "median", "std") and not numeric:
        raise TransformError(f"{params['aggregation']} needs a number column; {values!r} is not. Use count, "
                             f"nunique, first or last.", param="aggregation")
    # groupby + unstack rather than pivot_table: it keeps rows with a missing index value without making
    # every combination of index values.
    table = df.groupby([*index, columns], dropna=False, sort=True)[values].agg(params["aggregation"]).unstack(columns)
    table.columns = [f"{columns}_{'missing' if pd.isna(value) else value}" for value in table.columns]
    return table.reset_index()


@transform("melt", family=FAMILY,
           description="Turn columns into rows: one row per id and melted column, with its name and value.",
           params=[Param("id_columns", "columns", help="columns kept on every row"),
                   Param("value_columns", "columns", required=False, help="columns turned into rows; default: the rest"),
                   Param("variable_name", "string", default="variable", required=False),
                   Param("value_name", "string", default="value", required=False)],
           example={"id_columns": ["customer_id"], "value_columns": ["age", "income", "visits"]},
           row_local=False, uses=(TransformError, value_kind))
def melt(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    melted = params.get("value_columns") or [column for column in df.columns if column not in params["id_columns"]]
    kinds = {value_kind(df[column]) for column in melted}
    if len(kinds) > 1:
        # One value column holds them all, so it must be of one kind to be stored.
        raise TransformError(f"The melted columns hold {' and '.join(sorted(kinds))} values; melt columns of one "
                             f"kind, or cast them to text first with cast_column.", param="value_columns")
    return df.melt(id_vars=list(params["id_columns"]), value_vars=params.get("value_columns") or None,
                   var_name=params["variable_name"], value_name=params["value_name"], ignore_index=True)


@transform("explode_list", family=FAMILY,
           description="Split a text list such as \"a,b,c\" and give each item its own row.",
           params=[Param("column", "column", dtype="text"),
                   Param("separator", "string", default=",", required=False)],
           example={"column": "tags", "separator": ","})
def explode_list(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    column = params["column"]
    items = df[column].astype("string").str.split(params["separator"], regex=False)
    out = df.copy(deep=False)
    out[column] = items
    out = out.explode(column, ignore_index=True)
    cleaned = out[column].astype("string").str.strip()
    out[column] = cleaned.where(cleaned != "")
    return out


@transform("unnest_json", family=FAMILY,
           description="Give each key of a JSON object column its own column; rows that are not a JSON object "
                       "become missing (or fail the step).",
           params=[Param("column", "column", dtype="text"),
                   Param("prefix", "string", required=False, help="default: the column name and _"),
                   Param("on_invalid", "choice", choices=("missing", "fail"), default="missing", required=False,
                         help="what a row that is not a JSON object does")],
           example={"column": "attributes"}, uses=(TransformError,))
def unnest_json(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    import json

    column = params["column"]
    prefix = params.get("prefix") if params.get("prefix") is not None else f"{column}_"
    records: list[dict[str, Any]] = []
    invalid, first_invalid = 0, None
    for value in df[column].tolist():
        record: Any = None
        if isinstance(value, str):
            try:
                record = json.loads(value)
            except ValueError:
                record = None
        elif isinstance(value, dict):
            record = value
        if not isinstance(record, dict):
            if value is not None and not (isinstance(value, float) and value != value) and value is not pd.NA:
                invalid += 1
                first_invalid = first_invalid if first_invalid is not None else value
            record = {}
        records.append(record)
    if invalid and params["on_invalid"] == "fail":
        raise TransformError(f"{invalid} rows of {column!r} are not JSON objects, for example {first_invalid!r}.",
                             param="column")
    keys: dict[str, None] = {}
    for record in records:
        keys.update(dict.fromkeys(str(key) for key in record))
    if len(keys) > 1000:
        raise TransformError(f"{column!r} has {len(keys)} different keys; unnesting them would add too many columns.",
                             param="column")
    out = df.copy(deep=False)
    for key in keys:
        values = pd.Series([record.get(key) for record in records], index=df.index, dtype="object").infer_objects()
        if values.dtype == object:
            # Mixed or nested values: keep them as JSON text so the column has one type.
            values = values.map(lambda item: item if item is None or isinstance(item, str) else json.dumps(item))
            values = values.astype("string")
        out[f"{prefix}{key}"] = values
    return out
