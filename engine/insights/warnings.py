"""Data quality warnings. Each says what was measured, the threshold it crossed, and proposes one transform
(by the name and parameters the wrangler registers) that would fix it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .profile import CATEGORICAL, NUMERIC, TEXT, as_numbers, is_stringish, numeric_share, plain

HIGH, MEDIUM, LOW = "high", "medium", "low"
SEVERITY_ORDER = {HIGH: 0, MEDIUM: 1, LOW: 2}

HIGH_CARDINALITY_RATIO = 0.5
HIGH_CARDINALITY_COUNT = 100
HIGH_CORRELATION = 0.95
HIGH_SKEW = 3.0
OUTLIER_ROBUST_STDS = 5.0
MAD_TO_STD = 1.4826
MISSING_FILL = 0.05
MISSING_DROP = 0.5
IMBALANCE_RATIO = 0.2
LEAKAGE_POWER = 0.95
RARE_FREQUENCY = 0.01
DUPLICATE_EXAMPLES = 5
# Identifier and cardinality rules need enough rows to mean anything: three distinct names in three rows
# are not an identifier.
MIN_ROWS_FOR_CARDINALITY = 20
# Correlations of many columns cost rows × columns²; this many rows pin r to about ±0.005.
CORRELATION_ROWS = 50_000


def fix(transform: str, params: dict[str, Any], label: str) -> dict[str, Any]:
    return {"transform": transform, "params": params, "label": label}


def warning(kind: str, severity: str, columns: list[str], value: float | None, threshold: float | None, rule: str,
            message: str, proposal: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "severity": severity, "columns": columns, "value": plain(value),
            "threshold": threshold, "rule": rule, "message": message, "fix": proposal, **extra}


def _drop(column: str) -> dict[str, Any]:
    return fix("drop_columns", {"columns": [column]}, f"Drop column {column}")


def column_warnings(profile: dict[str, Any], full: pd.Series, sample: pd.Series, *, is_target: bool) -> list[dict]:
    """Warnings about one column on its own."""
    name, kind, rows = profile["name"], profile["type"], profile["rows"]
    found: list[dict[str, Any]] = []
    present = rows - profile["missing"]
    if profile.get("infinite"):
        count = profile["infinite"]
        found.append(warning(
            "infinite", HIGH, [name], count / rows, 0.0, "any infinite value",
            f"Column {name} holds {count:,} infinite value{'s' if count != 1 else ''}; most models refuse them.",
            fix("replace_infinite", {"columns": [name]}, f"Turn infinite values of {name} into missing values"),
            count=count))
    if rows and profile["distinct"] <= 1:
        found.append(warning(
            "constant", HIGH, [name], profile["distinct"], 1, "1 distinct value or fewer",
            f"Column {name} has {profile['distinct']} distinct value, so it cannot help a model.", _drop(name)))
        return found
    found += _missing(profile, is_target)
    if is_target:
        return found
    identifier = _identifier(profile, full)
    if identifier:
        found.append(identifier)
    elif kind == CATEGORICAL and present >= MIN_ROWS_FOR_CARDINALITY and (
            profile["distinct_ratio"] > HIGH_CARDINALITY_RATIO or profile["distinct"] > HIGH_CARDINALITY_COUNT):
        found.append(warning(
            "high_cardinality", MEDIUM, [name], profile["distinct"], HIGH_CARDINALITY_COUNT,
            f"distinct ratio > {HIGH_CARDINALITY_RATIO} or more than {HIGH_CARDINALITY_COUNT} distinct values",
            f"Column {name} has {profile['distinct']:,} distinct values ({profile['distinct_ratio']:.0%} of its "
            f"values); encoding it makes many sparse features.",
            fix("group_rare", {"column": name, "min_frequency": RARE_FREQUENCY},
                f"Group values of {name} rarer than {RARE_FREQUENCY:.0%} into one"),
            distinct_ratio=profile["distinct_ratio"], alternatives=[_drop(name)]))
    if kind == NUMERIC:
        found += _numeric_warnings(profile, sample)
    if is_stringish(full) and kind in (CATEGORICAL, TEXT):
        share = numeric_share(sample)
        if 0 < share < 1:
            found.append(warning(
                "mixed_types", MEDIUM, [name], share, None, "both numbers and text in one column",
                f"Column {name} mixes numbers ({share:.0%} of its values) with text; a model reads it as text.",
                fix("cast_column", {"column": name, "to": "float"},
                    f"Cast {name} to a number (values that are not numbers become missing)")))
    return found


def _missing(profile: dict[str, Any], is_target: bool) -> list[dict[str, Any]]:
    name, ratio = profile["name"], profile["missing_ratio"]
    if ratio > MISSING_DROP and not is_target:
        return [warning("missing", HIGH, [name], ratio, MISSING_DROP, f"missing ratio > {MISSING_DROP}",
                        f"Column {name} is missing in {ratio:.1%} of the rows.", _drop(name),
                        missing=profile["missing"])]
    if ratio > MISSING_FILL:
        if is_target:
            proposal = fix("drop_missing", {"columns": [name]}, f"Drop rows where the target {name} is missing")
        elif profile["type"] == NUMERIC:
            proposal = fix("fill_median", {"columns": [name]}, f"Fill missing values of {name} with its median")
        else:
            proposal = fix("fill_mode", {"columns": [name]}, f"Fill missing values of {name} with its most "
                                                             "frequent value")
        return [warning("missing", MEDIUM, [name], ratio, MISSING_FILL, f"missing ratio > {MISSING_FILL}",
                        f"Column {name} is missing in {ratio:.1%} of the rows.", proposal,
                        missing=profile["missing"])]
    return []


def _identifier(profile: dict[str, Any], full: pd.Series) -> dict[str, Any] | None:
    name, present = profile["name"], profile["rows"] - profile["missing"]
    if present < MIN_ROWS_FOR_CARDINALITY or profile["distinct"] != present:
        return None
    if profile["type"] in (CATEGORICAL, TEXT) and is_stringish(full) and profile["type"] == CATEGORICAL:
        reason = "every value is a different string"
    elif pd.api.types.is_integer_dtype(full.dtype) and (full.is_monotonic_increasing or full.is_monotonic_decreasing):
        reason = "its whole numbers are all different and in order"
    else:
        return None
    return warning("identifier", MEDIUM, [name], profile["distinct_ratio"], 1.0,
                   "all values distinct strings, or distinct monotonic integers",
                   f"Column {name} looks like a row identifier: {reason}. It carries no signal a model can "
                   "reuse on new rows.", _drop(name))


def _numeric_warnings(profile: dict[str, Any], sample: pd.Series) -> list[dict[str, Any]]:
    name = profile["name"]
    found: list[dict[str, Any]] = []
    skew = profile.get("skew")
    if skew is not None and abs(skew) > HIGH_SKEW:
        non_negative = profile["min"] is not None and profile["min"] >= 0
        proposal = (fix("log_transform", {"columns": [name]}, f"Log-transform {name}") if non_negative
                    else fix("yeo_johnson", {"columns": [name]}, f"Yeo-Johnson transform {name}"))
        found.append(warning("skew", LOW, [name], skew, HIGH_SKEW, f"|skew| > {HIGH_SKEW:g}",
                             f"Column {name} is strongly skewed (skew {skew:.2f}).", proposal))
    numbers = as_numbers(sample).to_numpy()
    finite = numbers[np.isfinite(numbers)]
    if finite.size:
        median = float(np.median(finite))
        robust_std = MAD_TO_STD * float(np.median(np.abs(finite - median)))
        if robust_std > 0:
            outside = int((np.abs(finite - median) > OUTLIER_ROBUST_STDS * robust_std).sum())
            if outside:
                ratio = outside / finite.size
                found.append(warning(
                    "outliers", MEDIUM if ratio >= 0.01 else LOW, [name], ratio, OUTLIER_ROBUST_STDS,
                    f"outside median ± {OUTLIER_ROBUST_STDS:g} robust std (1.4826·MAD)",
                    f"{outside:,} values of {name} ({ratio:.2%}) lie outside {median:.4g} ± "
                    f"{OUTLIER_ROBUST_STDS:g}×{robust_std:.4g}.",
                    fix("outliers_robust_std", {"columns": [name], "threshold": OUTLIER_ROBUST_STDS, "fix": "clip"},
                        f"Clip outliers of {name} to median ± {OUTLIER_ROBUST_STDS:g} robust std"),
                    count=outside, median=median, robust_std=robust_std))
    return found


def correlation_warnings(frame: pd.DataFrame, numeric: list[str]) -> list[dict[str, Any]]:
    """|Pearson r| above the threshold between two numeric columns: propose dropping the second one."""
    if len(numeric) < 2:
        return []
    if len(frame) > CORRELATION_ROWS:
        frame = frame.sample(CORRELATION_ROWS, random_state=0)
    matrix = frame[numeric].apply(as_numbers).replace([np.inf, -np.inf], np.nan).corr().to_numpy()
    found: list[dict[str, Any]] = []
    dropped: set[str] = set()
    for i, first in enumerate(numeric):
        for j in range(i + 1, len(numeric)):
            second, r = numeric[j], matrix[i, j]
            if not np.isfinite(r) or abs(r) <= HIGH_CORRELATION or first in dropped or second in dropped:
                continue
            dropped.add(second)
            found.append(warning(
                "high_correlation", LOW, [first, second], float(r), HIGH_CORRELATION,
                f"|Pearson r| > {HIGH_CORRELATION}",
                f"Columns {first} and {second} are almost the same signal (r = {r:.3f}); one of them is enough.",
                _drop(second)))
    return found


def duplicate_warning(frame: pd.DataFrame) -> tuple[int, dict[str, Any] | None]:
    """Exact duplicate rows over every row: (count, warning or None)."""
    if frame.empty or frame.shape[1] == 0:
        return 0, None
    try:
        hashed = pd.util.hash_pandas_object(frame, index=False)
    except TypeError:  # cells holding lists or dicts: compare their text
        hashed = pd.util.hash_pandas_object(frame.astype(str), index=False)
    duplicated = hashed.duplicated().to_numpy()
    count = int(duplicated.sum())
    if not count:
        return 0, None
    ratio = count / len(frame)
    examples = [int(i) for i in np.flatnonzero(duplicated)[:DUPLICATE_EXAMPLES]]
    return count, warning(
        "duplicate_rows", MEDIUM if ratio >= 0.01 else LOW, [], ratio, 0.0, "any row repeated exactly",
        f"{count:,} rows ({ratio:.2%}) repeat an earlier row exactly.",
        fix("drop_duplicates", {}, "Drop duplicate rows"), count=count, example_rows=examples)


def imbalance_warning(target: str, counts: dict[str, int]) -> dict[str, Any] | None:
    if len(counts) < 2:
        return None
    minority, majority = min(counts.values()), max(counts.values())
    ratio = minority / majority
    if ratio >= IMBALANCE_RATIO:
        return None
    return warning(
        "target_imbalance", HIGH, [target], ratio, IMBALANCE_RATIO, f"minority / majority < {IMBALANCE_RATIO}",
        f"The rarest class of {target} has {minority:,} rows against {majority:,} for the most common one.",
        fix("random_oversample", {"target": target}, f"Oversample the rarer classes of {target}"))


def leakage_warning(feature: str, power: float, target: str) -> dict[str, Any]:
    return warning(
        "target_leakage", HIGH, [feature], power, LEAKAGE_POWER, f"prediction power ≥ {LEAKAGE_POWER}",
        f"Column {feature} alone predicts {target} almost perfectly (prediction power {power:.3f}); it probably "
        "leaks the answer and will not be known when predicting.", _drop(feature))


def sort_warnings(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(found, key=lambda w: (SEVERITY_ORDER[w["severity"]], w["kind"], w["columns"]))
