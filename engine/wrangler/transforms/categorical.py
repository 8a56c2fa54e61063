"""Encode categorical: turn text categories into numbers a model can use. Categories, frequencies and target
means are learned from the training rows; categories not seen in training get a stated fallback.

Every encoder compares categories as text (a whole-number column's 3 is the category "3"), so fitted states
are plain JSON and the same in the studio and in an exported script."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import TransformError
from ..registry import Param, fitter, transform

FAMILY = "Encode categorical"
COLUMN = Param("column", "column", help="a column of categories")
NEW_COLUMN = Param("new_column", "string", required=False, default="",
                   help="name of the output column; empty replaces the column")


def category_text(values: pd.Series) -> pd.Series:
    """Categories as text (missing stays missing), so numbers, booleans and strings compare the same way."""
    if isinstance(values.dtype, pd.StringDtype):
        return values
    return values.astype("string")


@transform("one_hot_encode", family=FAMILY,
           description="Add a 0/1 column per frequent training category; rarer or unseen categories get all zeros.",
           params=[COLUMN,
                   Param("max_categories", "integer", default=20, required=False, minimum=1, maximum=500,
                         help="keep this many of the most frequent categories"),
                   Param("drop_original", "boolean", default=True, required=False)],
           example={"column": "plan"}, uses=(category_text,))
def one_hot_encode(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    column = params["column"]
    text = category_text(df[column])
    out = df.copy(deep=False)
    for category in state["categories"]:
        out[f"{column}_{category}"] = (text == category).fillna(False).astype("int8")
    if params["drop_original"]:
        out = out.drop(columns=[column])
    return out


@fitter("one_hot_encode")
def _fit_one_hot_encode(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    counts = category_text(df[params["column"]]).value_counts(dropna=True)
    # Most frequent first; ties by name, so refitting on the same rows gives the same columns.
    ranked = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
    return {"categories": [str(category) for category, _ in ranked[: params["max_categories"]]]}


@transform("ordinal_encode", family=FAMILY,
           description="Replace categories by whole numbers (0, 1, 2...) in the order you give or in sorted order; "
                       "unseen categories become missing.",
           params=[COLUMN,
                   Param("order", "string_list", required=False, default=[],
                         help="categories from lowest to highest; empty sorts the training categories"),
                   NEW_COLUMN],
           example={"column": "plan", "order": ["basic", "plus", "pro"]}, uses=(category_text,))
def ordinal_encode(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    column = params["column"]
    codes = {category: position for position, category in enumerate(state["categories"])}
    out = df.copy(deep=False)
    out[params["new_column"] or column] = category_text(df[column]).map(codes).astype("Int64")
    return out


@fitter("ordinal_encode")
def _fit_ordinal_encode(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    if params["order"]:
        if len(set(params["order"])) != len(params["order"]):
            raise TransformError("Each category may appear once in the order.", param="order")
        return {"categories": list(params["order"])}
    categories = category_text(df[params["column"]]).dropna().unique()
    return {"categories": sorted(str(category) for category in categories)}


@transform("target_encode", family=FAMILY,
           description="Replace each category by the training mean of the target for it, smoothed toward the "
                       "overall mean for rare categories.",
           params=[COLUMN,
                   Param("target", "column", help="a numeric target, or one with two values (yes/no, true/false)"),
                   Param("smoothing", "number", default=10.0, required=False, minimum=0,
                         help="how many rows of the overall mean are blended into each category's mean"),
                   Param("positive", "string", required=False, default="",
                         help="for a two-valued target, the value counted as 1 (default: the later one in "
                              "sorted order, e.g. 'yes' or 'true')"),
                   NEW_COLUMN],
           example={"column": "city", "target": "churned", "smoothing": 10, "new_column": "city_churn_rate"},
           uses=(category_text,))
def target_encode(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    column = params["column"]
    means = category_text(df[column]).map(state["means"]).astype("float64")
    out = df.copy(deep=False)
    # Missing and unseen categories get the overall training mean.
    out[params["new_column"] or column] = means.fillna(state["prior"])
    return out


def _target_numbers(target: pd.Series, positive: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(target.dtype):
        return target.astype("float64")
    if pd.api.types.is_numeric_dtype(target.dtype):
        return pd.Series(target.to_numpy(dtype="float64", na_value=np.nan), index=target.index)
    text = category_text(target)
    values = sorted(str(value) for value in text.dropna().unique())
    if len(values) != 2:
        raise TransformError(
            f"The target {target.name!r} has {len(values)} distinct values; target encoding needs a numeric "
            f"target or one with exactly two values (such as yes/no).", param="target")
    chosen = positive or values[1]
    if chosen not in values:
        raise TransformError(f"The target has the values {values[0]!r} and {values[1]!r}; 'positive' must be "
                             f"one of them, not {chosen!r}.", param="positive")
    hits = (text == chosen).to_numpy(dtype="float64", na_value=np.nan)
    return pd.Series(np.where(text.isna().to_numpy(), np.nan, hits), index=target.index)


@fitter("target_encode")
def _fit_target_encode(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    if params["column"] == params["target"]:
        raise TransformError("The target must be another column than the one encoded.", param="target")
    target = _target_numbers(df[params["target"]], params["positive"])
    known = target.notna()
    if not known.any():
        raise TransformError("The target has no values in the training rows.", param="target")
    prior = float(target[known].mean())
    categories = category_text(df[params["column"]])[known]
    grouped = target[known].groupby(categories, dropna=True).agg(["sum", "count"])
    smoothing = float(params["smoothing"])
    means = {str(category): float((row["sum"] + smoothing * prior) / (row["count"] + smoothing))
             for category, row in grouped.iterrows() if row["count"] + smoothing > 0}
    return {"prior": prior, "means": means}


@transform("frequency_encode", family=FAMILY,
           description="Replace each category by its share (or count) of the training rows; unseen categories "
                       "get 0.",
           params=[COLUMN, Param("normalize", "boolean", default=True, required=False,
                                 help="shares between 0 and 1; off gives row counts"),
                   NEW_COLUMN],
           example={"column": "city"}, uses=(category_text,))
def frequency_encode(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    column = params["column"]
    out = df.copy(deep=False)
    encoded = category_text(df[column]).map(state["frequencies"]).astype("float64")
    # Missing values are a category of their own: they get the share of missing training rows.
    encoded = encoded.mask(df[column].isna(), state["missing"]).fillna(0.0)
    out[params["new_column"] or column] = encoded
    return out


@fitter("frequency_encode")
def _fit_frequency_encode(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    text = category_text(df[params["column"]])
    divisor = float(len(text)) if params["normalize"] else 1.0
    counts = text.value_counts(dropna=True)
    return {"frequencies": {str(category): float(count) / divisor for category, count in counts.items()},
            "missing": float(text.isna().sum()) / divisor}


@transform("hash_encode", family=FAMILY,
           description="Replace categories by a stable bucket number from hashing their text (for columns with "
                       "very many categories); missing stays missing.",
           params=[COLUMN, Param("buckets", "integer", default=32, required=False, minimum=2, maximum=1_000_000),
                   NEW_COLUMN],
           example={"column": "customer_id", "buckets": 16, "new_column": "customer_bucket"},
           uses=(category_text,))
def hash_encode(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    import hashlib

    column = params["column"]
    text = category_text(df[column])
    buckets = params["buckets"]
    cache: dict[str, int] = {}

    def bucket(value: str) -> int:
        # md5 of the UTF-8 text: the same number on every machine and Python run (unlike hash()).
        if value not in cache:
            digest = hashlib.md5(value.encode("utf-8"), usedforsecurity=False).digest()
            cache[value] = int.from_bytes(digest[:8], "big") % buckets
        return cache[value]

    numbers = [pd.NA if pd.isna(value) else bucket(str(value)) for value in text.astype(object)]
    out = df.copy(deep=False)
    out[params["new_column"] or column] = pd.array(numbers, dtype="Int64")
    return out


@transform("group_rare", family=FAMILY,
           description="Replace categories rarer than a share of the training rows (and unseen ones) with one "
                       "label such as 'Other'.",
           params=[COLUMN,
                   Param("min_frequency", "number", default=0.05, required=False, minimum=0, maximum=1,
                         help="categories below this share of training rows are grouped"),
                   Param("other_label", "string", default="Other", required=False)],
           example={"column": "city", "min_frequency": 0.05}, uses=(category_text,))
def group_rare(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    column = params["column"]
    text = category_text(df[column])
    out = df.copy(deep=False)
    out[column] = text.where(text.isin(state["keep"]) | text.isna(), params["other_label"])
    return out


@fitter("group_rare")
def _fit_group_rare(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    text = category_text(df[params["column"]])
    shares = text.value_counts(dropna=True) / max(1, len(text))
    return {"keep": sorted(str(category) for category, share in shares.items() if share >= params["min_frequency"])}
