"""Combine: join with another dataset on key columns, or append its rows."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..errors import TransformError
from ..registry import Param, transform

FAMILY = "Combine"


def value_kind(values: pd.Series) -> str:
    """A coarse kind of a column's values, for telling the user why two columns cannot be matched."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "date"
    if isinstance(dtype, pd.CategoricalDtype):
        return value_kind(pd.Series(dtype.categories))
    return "text"


@transform("join", family=FAMILY,
           description="Join another dataset on key columns (inner, left, right or outer): its other columns are "
                       "added, with a suffix where a name is taken. Semi keeps the rows that have a match, anti "
                       "those that have none, without adding columns.",
           params=[Param("other", "dataset", help="the dataset to join"),
                   Param("left_on", "columns", help="key columns of this data"),
                   Param("right_on", "string_list", required=False,
                         help="key columns of the other dataset, in the same order; default: the same names"),
                   Param("how", "choice", choices=("inner", "left", "right", "outer", "semi", "anti"), default="left",
                         required=False),
                   Param("suffix", "string", default="_other", required=False,
                         help="added to the other dataset's columns whose names are taken"),
                   Param("max_rows", "integer", default=10_000_000, required=False, minimum=1,
                         help="refuse a join whose repeated keys would make more rows than this")],
           example={"other": "other", "left_on": ["city"], "right_on": ["city"], "how": "left"},
           row_local=False, uses=(TransformError, value_kind))
def join(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    other: pd.DataFrame = params["other"]
    left_on = list(params["left_on"])
    right_on = list(params.get("right_on") or left_on)
    if len(right_on) != len(left_on):
        raise TransformError(f"Give as many key columns of the other dataset ({len(right_on)}) as of this data "
                             f"({len(left_on)}).", param="right_on")
    for name in right_on:
        if name not in other.columns:
            shown = ", ".join(repr(str(column)) for column in other.columns[:20])
            raise TransformError(f"The other dataset has no column {name!r}. Its columns: {shown}.", param="right_on")
    for left, right in zip(left_on, right_on, strict=True):
        left_kind, right_kind = value_kind(df[left]), value_kind(other[right])
        if left_kind != right_kind:
            raise TransformError(
                f"Cannot join {left!r} ({left_kind}, {df[left].dtype}) with {right!r} of the other dataset "
                f"({right_kind}, {other[right].dtype}): the keys must have the same type. Add a cast_column step "
                f"to make them match (on this data, or on the other dataset's flow).", param="left_on")
    if params["how"] in ("semi", "anti"):
        matched_keys = pd.MultiIndex.from_frame(df[left_on]).isin(pd.MultiIndex.from_frame(other[right_on]))
        return df[matched_keys if params["how"] == "semi" else ~matched_keys]
    # Keys repeated on both sides multiply rows; refuse a join that would blow up rather than run out of memory.
    left_counts = df.groupby(left_on, dropna=False).size().rename("left_rows").reset_index()
    right_counts = other.groupby(right_on, dropna=False).size().rename("right_rows").reset_index()
    matched = left_counts.merge(right_counts, left_on=left_on, right_on=right_on)
    rows = int((matched["left_rows"] * matched["right_rows"]).sum())
    limit = int(params.get("max_rows") or 10_000_000)
    if rows > limit:
        raise TransformError(f"This join would make {rows:,} matched rows: the keys repeat on both sides. Join on "
                             f"more columns, drop_duplicates on the other dataset's keys first, or raise max rows.",
                             param="left_on")
    suffix = params.get("suffix") or "_other"
    joined = df.merge(other, how=params["how"], left_on=left_on, right_on=right_on, suffixes=("", suffix))
    return joined.reset_index(drop=True)


@transform("concatenate", family=FAMILY,
           description="Append the rows of another dataset, matching columns by name (or by position); columns "
                       "missing on one side are empty there.",
           params=[Param("other", "dataset", help="the dataset whose rows are added"),
                   Param("align", "choice", choices=("by_name", "by_position"), default="by_name", required=False),
                   Param("columns", "choice", choices=("all", "common"), default="all", required=False,
                         help="keep every column, or only those both datasets have")],
           example={"other": "other", "align": "by_name", "columns": "all"}, row_local=False,
           uses=(TransformError, value_kind))
def concatenate(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    other: pd.DataFrame = params["other"]
    if params["align"] == "by_position":
        if len(other.columns) != len(df.columns):
            raise TransformError(f"Matching by position needs the same number of columns; this data has "
                                 f"{len(df.columns)}, the other {len(other.columns)}. Match by name instead.",
                                 param="align")
        other = other.set_axis(list(df.columns), axis=1)
    for column in df.columns:
        if column in other.columns and value_kind(df[column]) != value_kind(other[column]):
            raise TransformError(f"Column {column!r} holds {value_kind(df[column])} values here and "
                                 f"{value_kind(other[column])} values in the other dataset. Add a cast_column step "
                                 f"so that they match.", param="other")
    if params["columns"] == "common":
        common = [column for column in df.columns if column in other.columns]
        return pd.concat([df[common], other[common]], ignore_index=True)
    return pd.concat([df, other], ignore_index=True)
