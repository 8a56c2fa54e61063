"""Per-column profiles: the inferred type, missing values, distinct values, the numbers, a histogram or the
top values. Exact counts use every row; the numbers that need sorting or binning use the sample."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

NUMERIC, CATEGORICAL, TEXT, DATETIME, BOOLEAN = "numeric", "categorical", "text", "datetime", "boolean"
COLUMN_TYPES = (NUMERIC, CATEGORICAL, TEXT, DATETIME, BOOLEAN)
HISTOGRAM_BINS = 20
TOP_VALUES = 10
QUANTILES = (5, 25, 50, 75, 95)
# A string column is free text (not categories) when its values are long and mostly hold several words.
TEXT_MEAN_LENGTH = 30
TEXT_MIN_SPACE_SHARE = 0.5
BOOLEAN_STRINGS = {"true", "false", "yes", "no", "t", "f", "y", "n"}


def plain(value: Any) -> float | None:
    """A JSON-safe number: NaN and infinities become None."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def is_stringish(series: pd.Series) -> bool:
    return bool(pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype)
                or isinstance(series.dtype, pd.CategoricalDtype))


def numeric_share(values: pd.Series) -> float:
    """The share of non-missing values of a text column that read as numbers."""
    present = values.dropna()
    if present.empty:
        return 0.0
    parsed = pd.to_numeric(present.astype(str).str.strip(), errors="coerce")
    return float(parsed.notna().mean())


def infer_type(series: pd.Series) -> str:
    """One of COLUMN_TYPES, from the dtype and, for text columns, from the values."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return BOOLEAN
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return DATETIME
    if pd.api.types.is_numeric_dtype(dtype):
        return NUMERIC
    present = series.dropna()
    if present.empty:
        return CATEGORICAL
    if all(isinstance(value, bool | np.bool_) for value in present.head(1000)):
        return BOOLEAN
    text = present.astype(str)
    if set(text.str.strip().str.lower().unique()[:3]) <= BOOLEAN_STRINGS and text.nunique() <= 2:
        return BOOLEAN
    if numeric_share(present) == 1.0:
        return NUMERIC
    lengths = text.str.len()
    if lengths.mean() >= TEXT_MEAN_LENGTH and text.str.contains(" ").mean() >= TEXT_MIN_SPACE_SHARE:
        return TEXT
    return CATEGORICAL


def as_numbers(series: pd.Series) -> pd.Series:
    """A float view of a numeric, boolean or number-like text column (infinities kept)."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("float64")
    if pd.api.types.is_numeric_dtype(series.dtype):
        return pd.to_numeric(series, errors="coerce").astype("float64")
    return pd.to_numeric(series.astype(str).str.strip(), errors="coerce").where(series.notna()).astype("float64")


def _histogram(finite: np.ndarray) -> dict[str, list[float]] | None:
    if finite.size == 0:
        return None
    bins = max(1, min(HISTOGRAM_BINS, int(np.unique(finite[:100_000]).size)))
    counts, edges = np.histogram(finite, bins=bins)
    return {"edges": [float(edge) for edge in edges], "counts": [int(count) for count in counts]}


def _numeric_stats(values: pd.Series) -> dict[str, Any]:
    numbers = as_numbers(values).to_numpy()
    finite = numbers[np.isfinite(numbers)]
    stats: dict[str, Any] = {"infinite": int(np.isinf(numbers).sum())}
    if finite.size == 0:
        stats.update({"min": None, "max": None, "mean": None, "std": None, "skew": None,
                      "quantiles": {f"p{q}": None for q in QUANTILES}, "histogram": None})
        return stats
    quantiles = np.percentile(finite, QUANTILES)
    stats.update({
        "min": plain(finite.min()), "max": plain(finite.max()), "mean": plain(finite.mean()),
        "std": plain(finite.std(ddof=1)) if finite.size > 1 else None,
        "skew": plain(pd.Series(finite).skew()) if finite.size > 2 else None,
        "quantiles": {f"p{q}": plain(v) for q, v in zip(QUANTILES, quantiles, strict=True)},
        "histogram": _histogram(finite),
    })
    return stats


def _datetime_stats(values: pd.Series) -> dict[str, Any]:
    stamps = pd.to_datetime(values, errors="coerce").dropna()
    if stamps.empty:
        return {"min": None, "max": None, "histogram": None}
    histogram = _histogram(epoch_seconds(stamps).to_numpy())
    if histogram is not None:
        histogram["edges"] = [pd.Timestamp(edge, unit="s").isoformat() for edge in histogram["edges"]]
    return {"min": stamps.min().isoformat(), "max": stamps.max().isoformat(), "histogram": histogram}


def epoch_seconds(stamps: pd.Series) -> pd.Series:
    """Seconds since 1970 as floats, whatever the datetime resolution or time zone (missing stays missing)."""
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return (stamps - pd.Timestamp(0)) / pd.Timedelta(seconds=1)


def _top_values(values: pd.Series) -> list[dict[str, Any]]:
    counts = values.dropna().astype(str).value_counts().head(TOP_VALUES)
    return [{"value": str(value)[:200], "count": int(count)} for value, count in counts.items()]


def column_profile(name: str, full: pd.Series, sample: pd.Series, kind: str) -> dict[str, Any]:
    """The profile of one column: counts on every row (`full`), the rest on `sample`."""
    rows = len(full)
    missing = int(full.isna().sum())
    distinct = int(full.nunique(dropna=True)) if kind != TEXT else int(full.astype(str).nunique(dropna=True))
    profile: dict[str, Any] = {
        "name": str(name), "type": kind, "dtype": str(full.dtype), "rows": rows, "missing": missing,
        "missing_ratio": missing / rows if rows else 0.0, "distinct": distinct,
        "distinct_ratio": distinct / (rows - missing) if rows - missing else 0.0,
    }
    if kind == NUMERIC:
        profile.update(_numeric_stats(sample))
        profile["infinite"] = int(np.isinf(as_numbers(full).to_numpy()).sum())
    elif kind == DATETIME:
        profile.update(_datetime_stats(sample))
    else:
        profile["top"] = _top_values(sample)
        if kind == BOOLEAN:
            profile["true_ratio"] = plain(as_numbers(sample.map(truthy, na_action="ignore")).mean())
    return profile


def truthy(value: Any) -> float:
    if isinstance(value, str):
        return 1.0 if value.strip().lower() in {"true", "yes", "t", "y", "1"} else 0.0
    return 1.0 if bool(value) else 0.0
