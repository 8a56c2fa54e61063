"""Global importance of a trained model, per input column (pure pandas/numpy/shap: no Django).

Tree models (random forest, extra trees, XGBoost, histogram boosting) get exact SHAP values from shap's
TreeExplainer on a sample of rows; every other model, ensembles included, gets permutation importance on the
same sample (the drop in the score when one column's values are shuffled), which only needs predictions.
Both are added up per input column, so a one-hot encoded column counts once, and scaled to shares of 1."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from engine.training.features import feature_sources
from engine.training.metrics import CLASSIFICATION
from engine.training.model import EnsembleEstimator, TrainedModel

SAMPLE_ROWS = 500
TREE_ALGORITHMS = ("random_forest", "extra_trees", "xgboost", "hist_gradient_boosting")
METHOD_TREE = "SHAP (TreeExplainer): mean |SHAP value| per column"
METHOD_PERMUTATION = "permutation importance: the drop in the score when a column is shuffled"


def _shares(totals: dict[str, float]) -> list[dict[str, Any]]:
    total = sum(max(value, 0.0) for value in totals.values())
    rows = [{"column": name, "importance": (max(value, 0.0) / total) if total > 0 else 0.0}
            for name, value in totals.items()]
    return sorted(rows, key=lambda row: -row["importance"])


def _tree_shap(model: TrainedModel, frame: pd.DataFrame) -> list[dict[str, Any]]:
    import shap

    x = model.features(frame)
    explainer = shap.TreeExplainer(model.estimator)
    values = np.abs(np.asarray(explainer.shap_values(x, check_additivity=False), dtype="float64"))
    # Shapes differ by library and class count: (rows, features), (classes, rows, features) or
    # (rows, features, classes); the feature axis is the one of the matrix's width.
    feature_axis = next(axis for axis in range(values.ndim - 1, -1, -1) if values.shape[axis] == x.shape[1])
    per_feature = values.mean(axis=tuple(axis for axis in range(values.ndim) if axis != feature_axis))
    totals: dict[str, float] = {}
    for source, value in zip(feature_sources(model.plan), per_feature, strict=True):
        totals[source] = totals.get(source, 0.0) + float(value)
    return _shares(totals)


def _score(model: TrainedModel, frame: pd.DataFrame, y: pd.Series) -> float:
    predictions = model.predict_frame(frame)
    if model.problem_type in CLASSIFICATION:
        return float(np.mean(predictions["prediction"].astype(str).to_numpy() == y.astype(str).to_numpy()))
    truth = pd.to_numeric(y, errors="coerce").to_numpy(dtype="float64")
    return -float(np.sqrt(np.nanmean((predictions["prediction"].to_numpy(dtype="float64") - truth) ** 2)))


def _permutation(model: TrainedModel, frame: pd.DataFrame, y: pd.Series, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    base = _score(model, frame, y)
    totals = {}
    for column in [entry["name"] for entry in model.signature]:
        shuffled = frame.copy()
        shuffled[column] = rng.permutation(shuffled[column].to_numpy())
        totals[column] = base - _score(model, shuffled, y)
    return _shares(totals)


def global_importance(model: TrainedModel, frame: pd.DataFrame, *, seed: int = 0) -> dict[str, Any]:
    """{"method", "rows", "importance": [{"column", "importance"}] largest first}; `frame` holds the input
    columns and the target (rows the model was evaluated on, or training rows when none were kept aside)."""
    target = model.target or ""
    frame = frame[frame[target].notna()] if target in frame.columns else frame
    if len(frame) > SAMPLE_ROWS:
        frame = frame.sample(SAMPLE_ROWS, random_state=seed)
    y = frame[target] if target in frame.columns else pd.Series(dtype=object)
    inputs = frame.drop(columns=[target]) if target in frame.columns else frame
    single_tree = model.algorithm in TREE_ALGORITHMS and not isinstance(model.estimator, EnsembleEstimator)
    if single_tree:
        try:
            return {"method": METHOD_TREE, "rows": len(inputs), "importance": _tree_shap(model, inputs)}
        except Exception:  # noqa: BLE001, S110 - an estimator shap cannot read gets permutation importance
            pass
    return {"method": METHOD_PERMUTATION, "rows": len(inputs), "importance": _permutation(model, inputs, y, seed)}
