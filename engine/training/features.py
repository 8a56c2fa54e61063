"""Turn a table into the numeric matrix an algorithm learns from, and remember how, as plain JSON.

The plan is fitted on the training rows only and saved in the model bundle, so a prediction service turns
a request's columns into exactly the features the model was trained on. Per inferred column type:

- numeric: as is; infinities count as missing; missing filled with the training median plus a
  "<column> is missing" indicator column, unless the algorithm handles missing values itself;
- boolean: 0/1; datetime: seconds since the epoch (then as numeric);
- categorical: one-hot up to `MAX_ONE_HOT` categories; above that, codes ordered by frequency (for trees)
  or the category's training frequency (for scaled algorithms); categories unseen in training get their own
  "unseen" value rather than an error;
- identifier-like text (every value distinct) is dropped with a warning: it cannot generalise;
- with `scale`, every feature is standardised with the training mean and standard deviation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from engine.insights.profile import BOOLEAN, CATEGORICAL, DATETIME, NUMERIC, TEXT, infer_type, truthy

from .errors import TrainingError

PLAN_VERSION = 1
MAX_ONE_HOT = 20
MAX_CATEGORIES = 1000  # categories kept by name; rarer ones share the "other" code
ID_MIN_ROWS = 50  # a text column is identifier-like only when there are enough rows to tell


def column_kinds(frame: pd.DataFrame) -> dict[str, str]:
    return {str(name): infer_type(frame[name]) for name in frame.columns}


def _numbers(series: pd.Series, kind: str) -> np.ndarray:
    if kind == BOOLEAN:
        values = series.map(truthy, na_action="ignore")
        return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    if kind == DATETIME:
        stamps = pd.to_datetime(series, errors="coerce", utc=True)
        seconds = (stamps - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds()
        return seconds.to_numpy(dtype="float64", na_value=np.nan)
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "fiu":
        # Already numbers: skipping the parse matters when a prediction is one row and the per-column cost
        # is most of the model's time.
        values = series.to_numpy(dtype="float64")
    else:
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return np.where(np.isfinite(values), values, np.nan)


def _labels(series: pd.Series) -> pd.Series:
    return series.astype("string").where(series.notna())


def plan_fit(frame: pd.DataFrame, *, scale: bool, handles_missing: bool, ordinal_ok: bool,
             warnings: list[str] | None = None, max_one_hot: int = MAX_ONE_HOT) -> dict[str, Any]:
    """Fit the feature plan on the training rows `frame` (the target already removed); a categorical column
    with at most `max_one_hot` categories is one-hot encoded."""
    warnings = warnings if warnings is not None else []
    if frame.shape[1] == 0:
        raise TrainingError("There are no feature columns left besides the target; add columns to learn from.")
    columns: list[dict[str, Any]] = []
    kinds = column_kinds(frame)
    for name in frame.columns:
        key = str(name)
        kind, series = kinds[key], frame[name]
        entry: dict[str, Any] = {"name": key, "kind": kind, "dtype": str(series.dtype)}
        if kind in (NUMERIC, BOOLEAN, DATETIME):
            values = _numbers(series, kind)
            present = values[~np.isnan(values)]
            if present.size == 0:
                warnings.append(f"Column {key} is missing in every training row and was left out.")
                entry["encoding"] = "dropped"
            else:
                entry["encoding"] = "number"
                entry["fill"] = float(np.median(present))
                entry["indicator"] = bool(present.size < values.size and not handles_missing)
        else:
            labels = _labels(series).dropna()
            counts = labels.value_counts()
            if counts.empty:
                warnings.append(f"Column {key} is missing in every training row and was left out.")
                entry["encoding"] = "dropped"
            elif len(labels) >= ID_MIN_ROWS and counts.size == len(labels):
                warnings.append(f"Column {key} has a different value in every row (an identifier?) and was left "
                                "out: it cannot help predict new rows.")
                entry["encoding"] = "dropped"
            else:
                kept = counts.head(MAX_CATEGORIES)
                if counts.size > MAX_CATEGORIES:
                    warnings.append(f"Column {key} has {counts.size:,} distinct values; the {MAX_CATEGORIES:,} most "
                                    "frequent are kept and the rest share one 'other' value.")
                entry["categories"] = [str(value) for value in kept.index]
                if counts.size <= max_one_hot:
                    entry["encoding"] = "one_hot"
                elif ordinal_ok:
                    entry["encoding"] = "ordinal"
                else:
                    entry["encoding"] = "frequency"
                    entry["frequencies"] = [float(count) / len(labels) for count in kept.to_numpy()]
                if kind == TEXT:
                    warnings.append(f"Column {key} looks like free text; it is used as categories. A TF-IDF step in "
                                    "a flow makes better features of text.")
        columns.append(entry)
    plan: dict[str, Any] = {"version": PLAN_VERSION, "columns": columns, "scale": scale,
                            "handles_missing": handles_missing, "max_one_hot": max_one_hot}
    plan["features"] = feature_names(plan)
    if not plan["features"]:
        raise TrainingError("None of the feature columns can be used (each is empty or an identifier); "
                            "add columns to learn from.")
    if scale:
        matrix = plan_transform(plan, frame, scaled=False)
        mean = np.nanmean(matrix, axis=0) if len(matrix) else np.zeros(matrix.shape[1])
        std = np.nanstd(matrix, axis=0) if len(matrix) else np.ones(matrix.shape[1])
        plan["mean"] = [float(value) if np.isfinite(value) else 0.0 for value in mean]
        plan["std"] = [float(value) if np.isfinite(value) and value > 0 else 1.0 for value in std]
    return plan


def feature_names(plan: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for column in plan["columns"]:
        encoding, name = column["encoding"], column["name"]
        if encoding == "number":
            names.append(name)
            if column.get("indicator"):
                names.append(f"{name} is missing")
        elif encoding == "one_hot":
            names.extend(f"{name}={category}" for category in column["categories"])
        elif encoding in ("ordinal", "frequency"):
            names.append(name)
    return names


def feature_sources(plan: dict[str, Any]) -> list[str]:
    """The input column of each feature, to add feature importances up per column."""
    sources: list[str] = []
    for column in plan["columns"]:
        count = {"number": 2 if column.get("indicator") else 1, "one_hot": len(column.get("categories", [])),
                 "ordinal": 1, "frequency": 1}.get(column["encoding"], 0)
        sources.extend([column["name"]] * count)
    return sources


def input_columns(plan: dict[str, Any]) -> list[str]:
    return [column["name"] for column in plan["columns"] if column["encoding"] != "dropped"]


def plan_transform(plan: dict[str, Any], frame: pd.DataFrame, *, scaled: bool = True) -> np.ndarray:
    """The feature matrix of `frame` (float64). A column the plan needs but the frame lacks is an error that
    names it; extra columns are ignored."""
    missing = [name for name in input_columns(plan) if name not in frame.columns]
    if missing:
        raise TrainingError(f"The input has no column called '{missing[0]}', which the model was trained on.",
                            missing[0])
    blocks: list[np.ndarray] = []
    for column in plan["columns"]:
        encoding = column["encoding"]
        if encoding == "dropped":
            continue
        series = frame[column["name"]]
        if encoding == "number":
            values = _numbers(series, column["kind"])
            absent = np.isnan(values)
            if not plan["handles_missing"]:
                values = np.where(absent, column["fill"], values)
            blocks.append(values)
            if column.get("indicator"):
                blocks.append(absent.astype("float64"))
            continue
        categories = column["categories"]
        # -1 for missing values and categories unseen in training.
        codes = pd.Index(categories).get_indexer(_labels(series).astype(object)).astype("int64")
        if encoding == "one_hot":
            block = np.zeros((len(series), len(categories)), dtype="float64")
            rows = np.nonzero(codes >= 0)[0]
            block[rows, codes[rows]] = 1.0
            blocks.extend(block.T)
        elif encoding == "ordinal":
            # Unseen and missing values get the code after the last category, so trees can set them apart.
            blocks.append(np.where(codes >= 0, codes, len(categories)).astype("float64"))
        else:
            frequencies = np.asarray(column["frequencies"] + [0.0], dtype="float64")
            blocks.append(frequencies[np.where(codes >= 0, codes, len(categories))])
    matrix = np.column_stack(blocks) if blocks else np.zeros((len(frame), 0))
    if scaled and plan.get("scale"):
        matrix = (matrix - np.asarray(plan["mean"])) / np.asarray(plan["std"])
    return matrix


def signature(plan: dict[str, Any]) -> list[dict[str, str]]:
    """The input columns a prediction needs, with their inferred type and training dtype."""
    return [{"name": column["name"], "type": column["kind"], "dtype": column["dtype"]}
            for column in plan["columns"] if column["encoding"] != "dropped"]


__all__ = ["BOOLEAN", "CATEGORICAL", "DATETIME", "NUMERIC", "TEXT", "column_kinds", "feature_names",
           "feature_sources", "input_columns", "plan_fit", "plan_transform", "signature"]
