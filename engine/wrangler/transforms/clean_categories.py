"""Clean categories: merge spellings of the same value ("Paris", "paris", "Paris ") into the most frequent one."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..errors import TransformError
from ..registry import Param, fitter, transform

FAMILY = "Clean categories"


def fingerprint(value: str) -> str:
    """OpenRefine's key-collision fingerprint: accents and punctuation dropped, lower case, the distinct words in
    sorted order. "Saint-Étienne " and "saint etienne" share one."""
    import re
    import unicodedata

    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s]", " ", text.strip().lower())
    return " ".join(sorted(set(text.split())))


def levenshtein(first: str, second: str, limit: int) -> int:
    """The edit distance between two texts, or limit + 1 as soon as it is known to exceed `limit`."""
    if abs(len(first) - len(second)) > limit:
        return limit + 1
    previous = list(range(len(second) + 1))
    for row, char in enumerate(first, start=1):
        current = [row]
        for column, other in enumerate(second, start=1):
            current.append(min(previous[column] + 1, current[column - 1] + 1,
                               previous[column - 1] + (char != other)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


@transform("cluster_categories", family=FAMILY,
           description="Merge spellings of the same category into its most frequent spelling: by key collision "
                       "(case, spaces, punctuation, accents, word order) or by edit distance.",
           params=[Param("column", "column", dtype="text"),
                   Param("method", "choice", choices=("key_collision", "edit_distance"), default="key_collision",
                         required=False),
                   Param("max_distance", "integer", default=2, required=False, minimum=1, maximum=10,
                         help="for edit distance: the most single-letter edits between two spellings merged")],
           example={"column": "city", "method": "key_collision"}, uses=(fingerprint,))
def cluster_categories(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    column, mapping, by_key = params["column"], state["mapping"], state.get("by_key", {})

    def merged(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if value in mapping:
            return mapping[value]
        # A spelling not seen in the training rows still joins its key's cluster.
        return by_key.get(fingerprint(value), value) if by_key else value  # "" is never a key

    values = df[column]
    out = df.copy(deep=False)
    out[column] = pd.Series([merged(value) for value in values.tolist()], index=df.index, dtype=values.dtype) \
        if not isinstance(values.dtype, pd.CategoricalDtype) else values.astype("string").map(merged)
    return out


@fitter("cluster_categories")
def cluster_categories_fit(df: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    values = df[params["column"]].dropna()
    counts = values[values.map(lambda value: isinstance(value, str))].value_counts()
    # Most frequent first, ties by spelling, so the canonical spelling is the same on every run.
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    mapping: dict[str, str] = {}
    if params["method"] == "key_collision":
        by_key: dict[str, str] = {}
        for value, _ in ranked:
            key = fingerprint(value)
            if not key:  # only punctuation or spaces: nothing to compare on
                continue
            canonical = by_key.setdefault(key, value)
            if canonical != value:
                mapping[value] = canonical
        return {"mapping": mapping, "by_key": by_key}
    if len(ranked) > 1000:
        raise TransformError(f"{params['column']!r} has {len(ranked)} distinct values; edit distance compares every "
                             f"pair and would be too slow. Use key_collision.", param="method")
    limit = int(params["max_distance"])
    canonicals: list[tuple[str, str]] = []
    for value, _ in ranked:
        key = value.strip().lower()
        match = next((canonical for canonical, canonical_key in canonicals
                      if levenshtein(key, canonical_key, limit) <= limit), None)
        if match is None:
            canonicals.append((value, key))
        else:
            mapping[value] = match
    return {"mapping": mapping, "by_key": {}}


@transform("map_categories", family=FAMILY,
           description="Replace category values by hand (old value → new value); other values are kept.",
           params=[Param("column", "column"), Param("mapping", "mapping", help="old value → new value")],
           example={"column": "plan", "mapping": {"plus": "paid", "pro": "paid"}}, uses=(TransformError,))
def map_categories(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    column = params["column"]
    values = df[column]
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype("string")
    if not pd.api.types.is_string_dtype(values.dtype):
        raise TransformError(f"Column {column!r} holds {values.dtype} values; map_categories replaces text. Add a "
                             f"cast_column step to string first.", param="column")
    out = df.copy(deep=False)
    out[column] = values.replace(params["mapping"])
    return out
