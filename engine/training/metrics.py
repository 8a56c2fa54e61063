"""The registry of evaluation metrics by problem type, and the curves the job page draws (confusion matrix,
ROC and precision-recall curves, residuals). Every metric says whether higher is better, so tuning and
AutoML can optimise any of them."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

BINARY, MULTICLASS, REGRESSION, CLUSTERING, DIMENSIONALITY, ANOMALY = (
    "binary", "multiclass", "regression", "clustering", "dimensionality", "anomaly")
SUPERVISED = (BINARY, MULTICLASS, REGRESSION)
UNSUPERVISED = (CLUSTERING, DIMENSIONALITY, ANOMALY)
PROBLEM_TYPES = SUPERVISED + UNSUPERVISED
CLASSIFICATION = (BINARY, MULTICLASS)
CURVE_POINTS = 200  # points kept per ROC/PR curve
RESIDUAL_POINTS = 1000


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    problem_types: tuple[str, ...]
    greater_is_better: bool
    needs_probabilities: bool
    function: Callable[..., float]


METRICS: dict[str, Metric] = {}


def metric(name: str, label: str, problem_types: tuple[str, ...], *, greater_is_better: bool = True,
           needs_probabilities: bool = False) -> Callable[[Callable[..., float]], Callable[..., float]]:
    def register(function: Callable[..., float]) -> Callable[..., float]:
        if name in METRICS:
            raise ValueError(f"metric {name!r} is registered twice")
        METRICS[name] = Metric(name, label, problem_types, greater_is_better, needs_probabilities, function)
        return function
    return register


def metrics_for(problem_type: str) -> list[Metric]:
    return [entry for entry in METRICS.values() if problem_type in entry.problem_types]


def default_metric(problem_type: str) -> str:
    return {BINARY: "roc_auc", MULTICLASS: "balanced_accuracy", REGRESSION: "rmse", CLUSTERING: "silhouette",
            DIMENSIONALITY: "explained_variance", ANOMALY: "anomaly_share"}[problem_type]


def _average(y_true: np.ndarray) -> str:
    return "binary" if len(np.unique(y_true)) <= 2 else "macro"


@metric("accuracy", "Accuracy", CLASSIFICATION)
def accuracy(y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None = None) -> float:
    return float(np.mean(y_true == y_pred))


@metric("balanced_accuracy", "Balanced accuracy", CLASSIFICATION)
def balanced_accuracy(y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None = None) -> float:
    from sklearn.metrics import balanced_accuracy_score
    return float(balanced_accuracy_score(y_true, y_pred))


@metric("precision", "Precision", CLASSIFICATION)
def precision(y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None = None) -> float:
    from sklearn.metrics import precision_score
    return float(precision_score(y_true, y_pred, average="binary" if _binary(y_true, y_pred) else "macro",
                                 zero_division=0))


@metric("recall", "Recall", CLASSIFICATION)
def recall(y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None = None) -> float:
    from sklearn.metrics import recall_score
    return float(recall_score(y_true, y_pred, average="binary" if _binary(y_true, y_pred) else "macro",
                              zero_division=0))


@metric("f1", "F1", CLASSIFICATION)
def f1(y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None = None) -> float:
    from sklearn.metrics import f1_score
    return float(f1_score(y_true, y_pred, average="binary" if _binary(y_true, y_pred) else "macro", zero_division=0))


def _binary(y_true: np.ndarray, y_pred: np.ndarray) -> bool:
    # Labels are class codes 0..k-1; class 1 is the positive class of a binary problem.
    return bool(max(np.max(y_true, initial=0), np.max(y_pred, initial=0)) <= 1)


@metric("roc_auc", "ROC AUC", CLASSIFICATION, needs_probabilities=True)
def roc_auc(y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None = None) -> float:
    from sklearn.metrics import roc_auc_score
    if proba is None or len(np.unique(y_true)) < 2:
        return math.nan
    if proba.shape[1] == 2:
        return float(roc_auc_score(y_true, proba[:, 1]))
    present = np.unique(y_true)
    if len(present) < proba.shape[1]:
        # One-vs-rest over the classes present in this split; the columns of absent classes are left out.
        scores = proba[:, present]
        scores = scores / np.clip(scores.sum(axis=1, keepdims=True), 1e-12, None)
        return float(roc_auc_score(y_true, scores, multi_class="ovr", labels=present))
    return float(roc_auc_score(y_true, proba, multi_class="ovr"))


@metric("log_loss", "Log loss", CLASSIFICATION, greater_is_better=False, needs_probabilities=True)
def log_loss(y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None = None) -> float:
    from sklearn.metrics import log_loss as sklearn_log_loss
    if proba is None:
        return math.nan
    clipped = np.clip(proba, 1e-15, 1)
    return float(sklearn_log_loss(y_true, clipped / clipped.sum(axis=1, keepdims=True),
                                  labels=list(range(proba.shape[1]))))


@metric("rmse", "RMSE", (REGRESSION,), greater_is_better=False)
def rmse(y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None = None) -> float:
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


@metric("mae", "MAE", (REGRESSION,), greater_is_better=False)
def mae(y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None = None) -> float:
    return float(np.mean(np.abs(y_true - y_pred)))


@metric("r2", "R²", (REGRESSION,))
def r2(y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None = None) -> float:
    total = float(np.sum((y_true - np.mean(y_true)) ** 2))
    if total == 0:
        return math.nan
    return 1.0 - float(np.sum((y_true - y_pred) ** 2)) / total


@metric("mape", "MAPE", (REGRESSION,), greater_is_better=False)
def mape(y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None = None) -> float:
    # Rows whose true value is 0 have no percentage error; they are left out rather than made infinite.
    nonzero = y_true != 0
    if not np.any(nonzero):
        return math.nan
    return float(np.mean(np.abs((y_true[nonzero] - y_pred[nonzero]) / y_true[nonzero])))


def evaluate(problem_type: str, y_true: np.ndarray, y_pred: np.ndarray,
             proba: np.ndarray | None = None) -> dict[str, float]:
    """Every registered metric of the problem type; a metric that cannot be computed (e.g. ROC AUC with one
    class present) is left out rather than reported as a number."""
    out: dict[str, float] = {}
    for entry in metrics_for(problem_type):
        if entry.needs_probabilities and proba is None:
            continue
        try:
            value = entry.function(y_true, y_pred, proba)
        except ValueError:
            continue
        if math.isfinite(value):
            out[entry.name] = value
    return out


def _thin(points: np.ndarray, keep: int) -> np.ndarray:
    if len(points) <= keep:
        return points
    return points[np.unique(np.linspace(0, len(points) - 1, keep).round().astype(int))]


def curves(problem_type: str, y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None,
           classes: list[str], seed: int = 0) -> dict[str, Any]:
    """What the job page charts: a confusion matrix, ROC and PR curves (binary), or residuals (regression)."""
    out: dict[str, Any] = {}
    if problem_type in CLASSIFICATION:
        from sklearn.metrics import confusion_matrix, precision_recall_curve, roc_curve
        matrix = confusion_matrix(y_true, y_pred, labels=list(range(len(classes))))
        out["confusion_matrix"] = {"labels": classes, "matrix": matrix.tolist()}
        if problem_type == BINARY and proba is not None and len(np.unique(y_true)) == 2:
            fpr, tpr, _ = roc_curve(y_true, proba[:, 1])
            roc = _thin(np.column_stack([fpr, tpr]), CURVE_POINTS)
            precision_values, recall_values, _ = precision_recall_curve(y_true, proba[:, 1])
            pr = _thin(np.column_stack([recall_values, precision_values]), CURVE_POINTS)
            out["roc"] = {"fpr": roc[:, 0].tolist(), "tpr": roc[:, 1].tolist()}
            out["pr"] = {"recall": pr[:, 0].tolist(), "precision": pr[:, 1].tolist(),
                         "positive_rate": float(np.mean(y_true == 1))}
    elif problem_type == REGRESSION:
        rows = np.arange(len(y_true))
        if len(rows) > RESIDUAL_POINTS:
            rows = np.sort(np.random.default_rng(seed).choice(rows, RESIDUAL_POINTS, replace=False))
        out["residuals"] = {"predicted": y_pred[rows].tolist(), "residual": (y_true[rows] - y_pred[rows]).tolist()}
    return out
