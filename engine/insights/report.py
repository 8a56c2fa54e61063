"""The data quality and insights report of a table: column profiles, warnings with proposed fixes, and with a
target, a quick model, prediction power, leakage flags and the target's distribution; anomalous rows.

Exact counts (rows, missing values, distinct values, duplicate rows) use every row. Anything that sorts,
bins, correlates or trains uses a random sample of at most SAMPLE_ROWS rows, and the report says so."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from engine.runtime import JobContext, LocalContext

from .errors import InsightsError
from .model import (
    REGRESSION,
    anomalous_rows,
    check_target,
    encode_features,
    encode_target,
    infer_problem_type,
    prediction_power,
    quick_model,
    validate_problem_type,
)
from .profile import NUMERIC, column_profile, infer_type
from .warnings import (
    LEAKAGE_POWER,
    correlation_warnings,
    duplicate_warning,
    imbalance_warning,
    leakage_warning,
    sort_warnings,
)
from .warnings import column_warnings as warnings_of_column

SAMPLE_ROWS = 200_000
MIN_MODEL_ROWS = 10
MAX_CLASSES_SHOWN = 50
REPORT_VERSION = 1


def _sample(frame: pd.DataFrame, limit: int) -> tuple[pd.DataFrame, np.ndarray]:
    if len(frame) <= limit:
        return frame, np.arange(len(frame))
    positions = np.sort(np.random.default_rng(0).choice(len(frame), limit, replace=False))
    return frame.iloc[positions], positions


def _check_input(frame: pd.DataFrame, target: str | None, problem_type: str | None) -> pd.DataFrame:
    validate_problem_type(problem_type)
    if frame.shape[1] == 0:
        raise InsightsError("The dataset has no columns, so there is nothing to report on.")
    names = [str(name) for name in frame.columns]
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    if repeated:
        raise InsightsError(f"Column names must be unique; these repeat: {', '.join(repeated)}.")
    if target is not None and target not in names:
        shown = ", ".join(names[:20]) + (" …" if len(names) > 20 else "")
        raise InsightsError(f"There is no column called '{target}' to use as the target. The columns are: {shown}.",
                            field="target")
    if problem_type and not target:
        raise InsightsError("A problem type needs a target column.", field="problem_type")
    return frame.set_axis(names, axis=1).reset_index(drop=True)


def insights_report(frame: pd.DataFrame, *, target: str | None = None, problem_type: str | None = None,
                    ctx: JobContext | None = None, sample_rows: int = SAMPLE_ROWS) -> dict[str, Any]:
    """The report as JSON-able dict. Raises InsightsError for a target or problem type that cannot be used
    at all; a target that exists but cannot be modelled (one class, all missing) is explained in the report."""
    context: JobContext = ctx if ctx is not None else LocalContext()
    target = target or None
    frame = _check_input(frame, target, problem_type)
    rows = len(frame)
    sample, positions = _sample(frame, sample_rows)
    notes: list[str] = []
    if rows == 0:
        notes.append("The dataset has no rows: the report lists its columns and nothing more.")
    context.progress(2, "Inferring column types")
    types = {name: infer_type(sample[name]) for name in frame.columns}
    profiles, found = _profile_columns(frame, sample, types, target, context)

    context.raise_if_stopped()
    context.progress(40, "Looking for duplicate rows and correlated columns")
    duplicates, duplicate = duplicate_warning(frame)
    found += [duplicate] if duplicate else []
    numeric = [name for name in frame.columns if types[name] == NUMERIC and name != target]
    found += correlation_warnings(sample, numeric)

    target_section = None
    if target:
        target_section, target_warnings = _target_part(frame, sample, types, target, problem_type, context)
        found += target_warnings

    context.raise_if_stopped()
    context.progress(90, "Looking for anomalous rows")
    anomalies = anomalous_rows(encode_features(sample[numeric], types), positions) if numeric else None

    report = {
        "version": REPORT_VERSION, "rows": rows, "column_count": len(profiles),
        "sample": {"rows": len(sample), "limit": sample_rows, "sampled": len(sample) < rows,
                   "note": (f"Histograms, statistics, correlations, the quick model and anomalies use a random "
                            f"sample of {len(sample):,} of the {rows:,} rows; counts of rows, missing values, "
                            f"distinct values and duplicates use every row.") if len(sample) < rows else
                   "Every row was used."},
        "summary": _summary(profiles, duplicates, found),
        "columns": profiles, "warnings": sort_warnings(found), "target": target_section,
        "anomalies": anomalies, "notes": notes,
    }
    context.progress(100, "Report ready")
    return report


def _profile_columns(frame: pd.DataFrame, sample: pd.DataFrame, types: dict[str, str], target: str | None,
                     context: JobContext) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    profiles: list[dict[str, Any]] = []
    found: list[dict[str, Any]] = []
    for index, name in enumerate(frame.columns):
        context.raise_if_stopped()
        profile = column_profile(name, frame[name], sample[name], types[name])
        profiles.append(profile)
        found += warnings_of_column(profile, frame[name], sample[name], is_target=name == target)
        context.progress(2 + 36 * (index + 1) / len(frame.columns), f"Profiled column {index + 1} of "
                                                                    f"{len(frame.columns)}: {name}")
    return profiles, found


def _summary(profiles: list[dict[str, Any]], duplicates: int, found: list[dict[str, Any]]) -> dict[str, Any]:
    rows = profiles[0]["rows"] if profiles else 0
    missing = sum(profile["missing"] for profile in profiles)
    cells = rows * len(profiles)
    return {
        "rows": rows, "columns": len(profiles), "missing_cells": missing,
        "missing_ratio": missing / cells if cells else 0.0, "duplicate_rows": duplicates,
        "duplicate_ratio": duplicates / rows if rows else 0.0,
        "column_types": dict(Counter(profile["type"] for profile in profiles)),
        "warnings": dict(Counter(warning["severity"] for warning in found)),
    }


def _target_part(frame: pd.DataFrame, sample: pd.DataFrame, types: dict[str, str], target: str,
                 problem_type: str | None, context: JobContext) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    kind = types[target]
    inferred = infer_problem_type(frame[target], kind)
    chosen = problem_type or inferred
    section: dict[str, Any] = {"column": target, "type": kind, "problem_type": chosen,
                               "inferred_problem_type": inferred, "problem_type_given": bool(problem_type),
                               "error": None, "model_error": None, "model_note": None, "model": None,
                               "prediction_power": [],
                               "leakage_threshold": LEAKAGE_POWER}
    problem = check_target(frame[target], target, kind, chosen)
    if problem:
        section["error"] = problem
        return section, []
    found: list[dict[str, Any]] = []
    if chosen == REGRESSION:
        section["distribution"] = {"kind": "histogram"}
    else:
        counts = frame[target].dropna().astype(str).value_counts()
        section["distribution"] = {"kind": "classes", "classes": [
            {"value": str(value)[:200], "count": int(count)} for value, count in counts.head(MAX_CLASSES_SHOWN).items()
        ], "class_count": len(counts)}
        imbalance = imbalance_warning(target, {str(k): int(v) for k, v in counts.items()})
        found += [imbalance] if imbalance else []

    feature_names = [name for name in frame.columns if name != target]
    labelled = sample[sample[target].notna()]
    features = encode_features(labelled[feature_names], types)
    y, classes = encode_target(labelled[target], chosen)
    if chosen == REGRESSION:
        finite = np.isfinite(y)
        features, y = features[finite], y[finite]
    else:  # a class seen once can be either trained on or tested on, not both: leave it out of the model
        counts = np.bincount(y)
        rare = sorted(classes[code] for code in np.flatnonzero(counts == 1))
        if rare:
            shown = ", ".join(rare[:10]) + (" …" if len(rare) > 10 else "")
            section["model_note"] = (f"{len(rare):,} classes have a single row and are left out of the quick model "
                                     f"and prediction power: {shown}.")
            keep = counts[y] >= 2
            features, y = features[keep], y[keep]
            classes = [name for code, name in enumerate(classes) if counts[code] >= 2]
            y = np.unique(y, return_inverse=True)[1]
        if len(classes) < 2:
            section["model_error"] = (f"Fewer than two classes of {target} have at least two rows, so no model can "
                                      "be trained and tested.")
            return section, found
    if not feature_names:
        section["model_error"] = "The dataset has no column besides the target, so there is nothing to model with."
        return section, found
    if len(y) < MIN_MODEL_ROWS:
        section["model_error"] = (f"Only {len(y)} rows have a target value; the quick model needs at least "
                                  f"{MIN_MODEL_ROWS}.")
        return section, found
    context.raise_if_stopped()
    context.progress(50, "Training a quick XGBoost model")
    section["model"] = quick_model(features, y, chosen, classes)
    context.log(f"Quick model scores: {section['model']['scores']}")
    context.raise_if_stopped()
    context.progress(65, "Measuring each feature's prediction power")
    powers = prediction_power(features, y, chosen, ctx=context)
    section["prediction_power"] = [{"column": name, "power": power, "leakage": power >= LEAKAGE_POWER}
                                   for name, power in powers.items()]
    found += [leakage_warning(name, power, target) for name, power in powers.items() if power >= LEAKAGE_POWER]
    return section, found
