"""What the tuning job's charts show, as plain data (the app's charts.py turns it into plotly figures):
the objective over trials with the best so far, the importance of each hyperparameter, and the data of a
parallel-coordinates plot. Each function takes the trial records of `Tuner.records()` (or a saved state's
"trials")."""

from __future__ import annotations

import math
import warnings
from typing import Any

from .ranges import CategoricalRange, ContinuousRange, Range, parse_ranges

MIN_TRIALS_FOR_IMPORTANCE = 4


def _completed(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [record for record in records if record.get("status") == "completed" and record.get("value") is not None
            and math.isfinite(record["value"])]


def objective_over_trials(records: list[dict[str, Any]], direction: str) -> list[dict[str, Any]]:
    """Per trial in order: its number, status, value (None if it failed) and the best value so far among
    completed trials (None before the first)."""
    best: float | None = None
    out = []
    for record in sorted(records, key=lambda entry: entry["number"]):
        value = record.get("value")
        if record.get("status") == "completed" and value is not None:
            if best is None or (value > best if direction == "maximize" else value < best):
                best = value
        out.append({"number": record["number"], "status": record.get("status"), "value": value, "best": best})
    return out


def _ranges(records: list[dict[str, Any]], ranges: Any) -> list[Range]:
    """The given ranges, or ranges inferred from the values the trials took (numbers over their span,
    anything else as categories)."""
    if ranges is not None:
        return parse_ranges(ranges)
    names: list[str] = []
    for record in records:
        names.extend(name for name in record["params"] if name not in names)
    out: list[Range] = []
    for name in names:
        values = [record["params"][name] for record in records if name in record["params"]]
        numbers = [value for value in values if isinstance(value, int | float) and not isinstance(value, bool)]
        if len(numbers) == len(values) and numbers:
            if min(numbers) < max(numbers):
                out.append(ContinuousRange(name, min(numbers), max(numbers)))
        else:
            distinct = list(dict.fromkeys(values))
            if len(distinct) > 1:
                out.append(CategoricalRange(name, tuple(distinct)))
    return out


def parameter_importance(records: list[dict[str, Any]], ranges: Any = None, seed: int = 0) -> list[dict[str, Any]]:
    """How much of the variation of the objective each hyperparameter explains, as shares summing to 1,
    largest first. Method: fANOVA (Hutter et al., 2014) over a random forest fitted to the completed trials,
    as Optuna's FanovaImportanceEvaluator computes it; log-scale ranges are analysed on the log scale. Empty
    with fewer than MIN_TRIALS_FOR_IMPORTANCE completed trials."""
    import optuna
    from optuna.importance import FanovaImportanceEvaluator
    from optuna.trial import create_trial

    completed = _completed(records)
    if len(completed) < MIN_TRIALS_FOR_IMPORTANCE:
        return []
    searched = [entry for entry in _ranges(completed, ranges) if not (
        isinstance(entry, CategoricalRange) and len(entry.values) < 2)]
    distributions = {entry.name: entry.distribution() for entry in searched}
    usable = [record for record in completed
              if all(entry.name in record["params"] and entry.contains(record["params"][entry.name])
                     for entry in searched)]
    if len(usable) < MIN_TRIALS_FOR_IMPORTANCE or not distributions:
        return []
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study()
    study.add_trials([create_trial(value=float(record["value"]), distributions=distributions,
                                   params={name: record["params"][name] for name in distributions})
                      for record in usable])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        shares = optuna.importance.get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=seed))
    return [{"name": name, "importance": float(share)} for name, share in shares.items()]


def parallel_coordinates(records: list[dict[str, Any]], ranges: Any = None,
                         objective_metric: str = "objective") -> dict[str, Any]:
    """One axis per hyperparameter and one for the objective, over completed trials: numeric axes carry
    their values and scale ("linear" or "log"), categorical axes carry codes and the category labels."""
    completed = sorted(_completed(records), key=lambda record: record["number"])
    dimensions: list[dict[str, Any]] = []
    for entry in _ranges(completed, ranges):
        values = [record["params"].get(entry.name) for record in completed]
        if isinstance(entry, CategoricalRange):
            labels = [str(value) for value in entry.values]
            codes = [labels.index(str(value)) if str(value) in labels else None for value in values]
            dimensions.append({"name": entry.name, "scale": "categorical", "values": codes, "categories": labels})
        else:
            dimensions.append({"name": entry.name, "scale": entry.scale, "values": values,
                               "range": [entry.min, entry.max]})
    return {"numbers": [record["number"] for record in completed], "dimensions": dimensions,
            "objective": {"name": objective_metric, "values": [record["value"] for record in completed]}}
