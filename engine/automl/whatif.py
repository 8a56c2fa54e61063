"""What if: a model's prediction for one row, the prediction after changing some of its values, and how much
each column moves it: the change in the prediction (the predicted class's probability, or the predicted
value) when that column alone is set to its typical training value (the median of a number, the most
frequent category). Works for any trained model, ensembles included: it only asks for predictions."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from engine.training.errors import TrainingError
from engine.training.metrics import CLASSIFICATION, REGRESSION
from engine.training.model import TrainedModel


def _typical(column: dict[str, Any]) -> Any:
    """The training median of a numeric column, or its most frequent category; None when unknown."""
    if column["encoding"] == "number":
        value = column.get("fill")
        if column["kind"] == "boolean" and value is not None:
            return bool(round(value))
        if column["kind"] == "datetime" and value is not None:
            return pd.Timestamp(value, unit="s", tz="UTC").isoformat()
        return value
    categories = column.get("categories") or []
    return categories[0] if categories else None


def _outcome(model: TrainedModel, predictions: pd.DataFrame, label: Any) -> pd.Series:
    """The number each variant is compared by: the probability of `label` (classification) or the value."""
    if model.problem_type in CLASSIFICATION and f"probability_{label}" in predictions.columns:
        return predictions[f"probability_{label}"].astype("float64")
    return predictions["prediction"].astype("float64")


def what_if(model: TrainedModel, row: dict[str, Any], changes: dict[str, Any] | None = None) -> dict[str, Any]:
    """{"prediction", "probabilities" (classification), "changes", "impacts": [{"column", "value", "typical",
    "prediction_with_typical", "impact"}] by decreasing |impact|}. `changes` are applied to the row first."""
    if model.problem_type not in (*CLASSIFICATION, REGRESSION):
        raise TrainingError("What-if explanations are for classification and regression models.")
    columns = [column for column in model.plan["columns"] if column["encoding"] != "dropped"]
    known = {column["name"] for column in columns}
    unknown = sorted(set(changes or {}) - known)
    if unknown:
        raise TrainingError(f"The model does not use a column called '{unknown[0]}'.", unknown[0])
    values = {**row, **(changes or {})}
    missing = [name for name in known if name not in values]
    for name in missing:
        values[name] = None  # a column left out counts as missing, as in a prediction request
    variants = [values]
    compared = []
    for column in columns:
        typical = _typical(column)
        if typical is None or _same(values.get(column["name"]), typical):
            continue
        variants.append({**values, column["name"]: typical})
        compared.append((column["name"], typical))
    frame = pd.DataFrame(variants)
    predictions = model.predict_frame(frame)
    prediction = predictions["prediction"].iloc[0]
    outcome = _outcome(model, predictions, prediction)
    base = float(outcome.iloc[0])
    impacts = []
    for index, (name, typical) in enumerate(compared, start=1):
        changed = float(outcome.iloc[index])
        impacts.append({"column": name, "value": _plain(values.get(name)), "typical": _plain(typical),
                        "prediction_with_typical": _plain(predictions["prediction"].iloc[index]),
                        "impact": base - changed})
    impacts.sort(key=lambda entry: -abs(entry["impact"]))
    out: dict[str, Any] = {"prediction": _plain(prediction), "changes": dict(changes or {}), "impacts": impacts,
                           "compared_by": f"probability of {prediction}" if model.problem_type in CLASSIFICATION
                           else "predicted value"}
    if model.problem_type in CLASSIFICATION:
        out["probabilities"] = {label: float(predictions[f"probability_{label}"].iloc[0])
                                for label in model.classes if f"probability_{label}" in predictions.columns}
    return out


def _same(value: Any, typical: Any) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    try:
        return bool(float(value) == float(typical))
    except (TypeError, ValueError):
        return str(value) == str(typical)


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return value
