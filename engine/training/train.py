"""Train one built-in algorithm on a table: check the target, split (holdout, k-fold, or the split column a
flow wrote), fit the feature plan on the training rows, fit, evaluate, explain, and hand back a
TrainedModel with everything the job page and the model bundle need."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from engine.insights.profile import BOOLEAN, DATETIME, NUMERIC, infer_type
from engine.runtime import JobContext, LocalContext

from .algorithms import Algorithm, FitSession, algorithm_get
from .errors import TrainingError
from .features import MAX_ONE_HOT, feature_names, feature_sources, plan_fit, plan_transform
from .hyperparams import clean_hyperparameters
from .metrics import (
    ANOMALY,
    BINARY,
    CLASSIFICATION,
    CLUSTERING,
    DIMENSIONALITY,
    MULTICLASS,
    REGRESSION,
    SUPERVISED,
    curves,
    default_metric,
    evaluate,
)
from .model import TrainedModel, predict_proba

VALIDATIONS = ("holdout", "kfold")
SPLIT_COLUMN = "split"
MAX_CLASSES = 200
MAX_CLASSES_FROM_NUMBERS = 10
MIN_TRAIN_ROWS = 10
IMPORTANCE_ROWS = 2000  # rows used for permutation importance (models without their own importances)
SILHOUETTE_ROWS = 5000
LATENCY_ROWS = 1000


@dataclass
class TrainingSpec:
    algorithm: str
    target: str | None = None
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    problem_type: str | None = None  # None: inferred from the target
    validation: str = "holdout"
    test_share: float = 0.2
    folds: int = 5
    seed: int = 0
    checkpoint_every: int = 10
    threads: int = 1
    exclude: tuple[str, ...] = ()  # columns not to learn from (ids, leaks)
    max_one_hot: int = MAX_ONE_HOT  # categorical columns with at most this many categories are one-hot encoded


@dataclass
class TrainingResult:
    model: TrainedModel
    problem_type: str
    metrics: dict[str, float]  # validation (or cross-validated) metrics
    train_metrics: dict[str, float]
    fold_metrics: list[dict[str, float]]
    test_metrics: dict[str, float]  # on rows a split column marked "test", if any
    charts: dict[str, Any]
    feature_importance: list[dict[str, Any]]
    warnings: list[str]
    rows: dict[str, int]
    objective: str
    seconds: float
    latency_ms_per_row: float | None
    resumed_from: int = 0

    def summary(self) -> dict[str, Any]:
        return {"problem_type": self.problem_type, "metrics": self.metrics, "train_metrics": self.train_metrics,
                "test_metrics": self.test_metrics, "fold_metrics": self.fold_metrics, "rows": self.rows,
                "objective": self.objective, "seconds": self.seconds, "latency_ms_per_row": self.latency_ms_per_row,
                "warnings": self.warnings, "feature_importance": self.feature_importance, "charts": self.charts,
                "resumed_from": self.resumed_from, "classes": self.model.classes}


class _Scaled:
    """A job context whose progress 0–100 maps into [low, high] of the job's bar."""

    def __init__(self, ctx: JobContext, low: float, high: float) -> None:
        self.ctx, self.low, self.high = ctx, low, high

    def progress(self, percent: float, message: str = "") -> None:
        self.ctx.progress(self.low + (self.high - self.low) * max(0.0, min(100.0, percent)) / 100, message)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ctx, name)


def infer_problem_type(target: pd.Series) -> str:
    present = target.dropna()
    kind = infer_type(present) if len(present) else NUMERIC
    distinct = int(present.nunique())
    if kind == NUMERIC:
        numbers = pd.to_numeric(present, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        finite = numbers[np.isfinite(numbers)]
        whole = bool(finite.size and np.all(finite == np.round(finite)))
        if not (whole and distinct <= MAX_CLASSES_FROM_NUMBERS):
            return REGRESSION
    return BINARY if distinct <= 2 else MULTICLASS


def _target_rows(frame: pd.DataFrame, target: str, problem_type: str, warnings: list[str]) -> np.ndarray:
    """The rows whose target can be learned from; says how many were left out and why."""
    column = frame[target]
    usable = column.notna().to_numpy().copy()
    if problem_type == REGRESSION:
        numbers = pd.to_numeric(column, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        not_number = usable & np.isnan(numbers)
        if not_number.any():
            example = column[not_number].iloc[0]
            raise TrainingError(f"The target {target} must be numeric for regression, but it holds values such as "
                                f"'{example!s:.40}'. Choose classification, or clean the column in a flow.", "target")
        infinite = np.isinf(numbers)
        if infinite.any():
            warnings.append(f"{int(infinite.sum()):,} rows have an infinite target and were left out.")
        usable &= np.isfinite(numbers)
    missing = int(column.isna().sum())
    if missing:
        warnings.append(f"{missing:,} rows have no target value and were left out.")
    if not usable.any():
        raise TrainingError(f"The target {target} is missing (or not a finite number) in every row, so there is "
                            "nothing to learn.", "target")
    return usable


def _encode_target(values: pd.Series, problem_type: str) -> tuple[np.ndarray, list[str]]:
    if problem_type == REGRESSION:
        return pd.to_numeric(values).to_numpy(dtype="float64"), []
    labels = values.map(_label)
    classes = sorted(labels.unique(), key=_class_order)
    lookup = {label: code for code, label in enumerate(classes)}
    return labels.map(lookup).to_numpy(dtype="int64"), list(classes)


def _label(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _class_order(label: str) -> tuple[int, Any]:
    try:
        return (0, float(label))
    except ValueError:
        return (1, label)


def _check_classes(y: np.ndarray, classes: list[str], target: str, problem_type: str) -> None:
    if len(classes) < 2:
        shown = classes[0] if classes else ""
        raise TrainingError(f"The target {target} has a single value ({shown!s:.40}) in the usable rows, so there "
                            "is nothing to predict.", "target")
    if problem_type == BINARY and len(classes) != 2:
        raise TrainingError(f"The target {target} has {len(classes)} classes, not 2; choose multiclass.",
                            "problem_type")
    if len(classes) > MAX_CLASSES:
        raise TrainingError(f"The target {target} has {len(classes):,} distinct values; classification handles at "
                            f"most {MAX_CLASSES}. If it is a number, choose regression.", "target")


def _splits(y: np.ndarray | None, frame: pd.DataFrame, spec: TrainingSpec, problem_type: str,
            warnings: list[str]) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray | None, str]:
    """The (train, validation) row positions of each fit, the test rows if a split column gave some, and how
    the rows were split, in words."""
    rows = len(frame)
    positions = np.arange(rows)
    if SPLIT_COLUMN in frame.columns and problem_type in SUPERVISED:
        marks = frame[SPLIT_COLUMN].astype("string").fillna("")
        train = positions[(marks == "train").to_numpy()]
        valid = positions[(marks == "validation").to_numpy()]
        test = positions[(marks == "test").to_numpy()]
        if len(train) and (len(valid) or len(test)):
            if not len(valid):
                valid, test = test, np.array([], dtype=int)
                warnings.append("The split column has no validation rows; the test rows are used for validation.")
            return [(train, valid)], (test if len(test) else None), (
                f"the flow's split column: {len(train):,} train, {len(valid):,} validation, {len(test):,} test")
    classification = problem_type in CLASSIFICATION
    if spec.validation == "kfold":
        from sklearn.model_selection import KFold, StratifiedKFold

        if spec.folds < 2:
            raise TrainingError("k-fold needs at least 2 folds.", "folds")
        if rows < spec.folds:
            raise TrainingError(f"k-fold with {spec.folds} folds needs at least {spec.folds} rows; there are {rows}. "
                                "Choose fewer folds or holdout.", "folds")
        if classification and y is not None:
            smallest = int(np.bincount(y).min())
            if smallest < spec.folds:
                raise TrainingError(f"k-fold with {spec.folds} folds needs at least {spec.folds} rows of every class; "
                                    f"the smallest class has {smallest}. Choose at most {max(2, smallest)} folds, or "
                                    "holdout.", "folds")
            splitter: Any = StratifiedKFold(n_splits=spec.folds, shuffle=True, random_state=spec.seed)
            return list(splitter.split(positions, y)), None, f"stratified {spec.folds}-fold cross-validation"
        splitter = KFold(n_splits=spec.folds, shuffle=True, random_state=spec.seed)
        return list(splitter.split(positions)), None, f"{spec.folds}-fold cross-validation"
    if not 0.05 <= spec.test_share <= 0.5:
        raise TrainingError("The validation share must be between 0.05 and 0.5.", "test_share")
    if problem_type not in SUPERVISED:
        return [(positions, np.array([], dtype=int))], None, "all rows (unsupervised)"
    from sklearn.model_selection import train_test_split

    stratify = y if classification and y is not None and np.bincount(y).min() >= 2 else None
    if classification and stratify is None:
        warnings.append("A class has a single row, so the holdout split is not stratified.")
    if rows < MIN_TRAIN_ROWS:
        raise TrainingError(f"There are only {rows} usable rows; training needs at least {MIN_TRAIN_ROWS}.")
    train, valid = train_test_split(positions, test_size=spec.test_share, random_state=spec.seed, stratify=stratify)
    return [(np.sort(train), np.sort(valid))], None, (
        f"holdout: {len(train):,} train, {len(valid):,} validation" + (" (stratified)" if stratify is not None else ""))


def target_problem_type(frame: pd.DataFrame, target: str, problem_type: str | None = None) -> str:
    """The supervised problem type of `target` (given, or inferred from its values); dates are refused."""
    kind = infer_type(frame[target].dropna()) if frame[target].notna().any() else NUMERIC
    if kind == DATETIME:
        raise TrainingError(f"The target {target} holds dates and times; choose a numeric or categorical column.",
                            "target")
    return problem_type or infer_problem_type(frame[target])


def target_encode(frame: pd.DataFrame, target: str, problem_type: str,
                  warnings: list[str]) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """(the rows with a usable target, the target as numbers or class codes, the class labels); a target that
    cannot be learned (one class, too many, text for regression) is a TrainingError that says why."""
    kind = infer_type(frame[target].dropna()) if frame[target].notna().any() else NUMERIC
    if problem_type == REGRESSION and kind not in (NUMERIC, BOOLEAN):
        raise TrainingError(f"The target {target} is not numeric, so it cannot be a regression target; choose "
                            "binary or multiclass classification.", "problem_type")
    usable = _target_rows(frame, target, problem_type, warnings)
    if not usable.all():
        frame = frame[usable]
    y, classes = _encode_target(frame[target], problem_type)
    if problem_type in CLASSIFICATION:
        _check_classes(y, classes, target, problem_type)
        counts = np.bincount(y)
        if counts.min() / counts.sum() < 0.05:
            warnings.append(f"The classes are imbalanced (the smallest, {classes[int(counts.argmin())]}, is "
                            f"{counts.min() / counts.sum():.1%} of rows); balanced accuracy and F1 say more than "
                            "accuracy. Consider class_weight=balanced.")
    return frame, y, classes


def fit_on_rows(algorithm_name: str, problem_type: str, hyperparameters: dict[str, Any], features: pd.DataFrame,
                y: np.ndarray, train_rows: np.ndarray, valid_rows: np.ndarray | None = None, *,
                ctx: JobContext | None = None, seed: int = 0, threads: int = 1, max_one_hot: int = MAX_ONE_HOT,
                warnings: list[str] | None = None) -> tuple[dict[str, Any], Any]:
    """(feature plan, fitted estimator) of one algorithm fitted on `train_rows` of `features` only: the unit of
    work that tuning and AutoML repeat. Validation rows, if given, feed the algorithm's own curves and early
    stopping; `ctx` receives its stop checks (its checkpoints are not used: checkpoint_every is off)."""
    algorithm = algorithm_get(algorithm_name)
    hps = clean_hyperparameters(algorithm.hyperparameters, hyperparameters, algorithm.label)
    spec = TrainingSpec(algorithm_name, seed=seed, threads=threads, max_one_hot=max_one_hot)
    session = FitSession(ctx or LocalContext(), stage="search", checkpoint_every=10**9, report_curves=False)
    valid = valid_rows if valid_rows is not None else np.array([], dtype=int)
    return _fit_one(algorithm, problem_type, hps, spec, features, y, train_rows, valid, session, warnings)


def _fit_one(algorithm: Algorithm, problem_type: str, hps: dict[str, Any], spec: TrainingSpec,
             features: pd.DataFrame, y: np.ndarray | None, train: np.ndarray, valid: np.ndarray,
             session: FitSession, warnings: list[str] | None) -> tuple[dict[str, Any], Any]:
    plan = plan_fit(features.iloc[train], scale=algorithm.scale, handles_missing=algorithm.handles_missing,
                    ordinal_ok=algorithm.ordinal_ok, warnings=warnings, max_one_hot=spec.max_one_hot)
    x_train = plan_transform(plan, features.iloc[train])
    estimator = algorithm.build(problem_type, hps, spec.seed, spec.threads)
    y_train = y[train] if y is not None else None
    if len(valid) and y is not None:
        session.x_valid, session.y_valid = plan_transform(plan, features.iloc[valid]), y[valid]
    if algorithm.name == "pca" and hps["n_components"] > min(x_train.shape):
        raise TrainingError(f"PCA can keep at most {min(x_train.shape)} components here (the number of features or "
                            "rows); lower n_components.", "n_components")
    if algorithm.name == "kmeans" and hps["n_clusters"] > len(x_train):
        raise TrainingError(f"k-means cannot make {hps['n_clusters']} clusters from {len(x_train)} rows.", "n_clusters")
    try:
        if algorithm.fit is not None:
            algorithm.fit(estimator, x_train, y_train, session)
        elif y_train is not None:
            estimator.fit(x_train, y_train)
        else:
            estimator.fit(x_train)
    except MemoryError:
        raise TrainingError("Training ran out of memory. Use fewer rows or features, or a smaller model.") from None
    except ValueError as error:
        raise TrainingError(f"{algorithm.label} could not be trained on this data: {error}") from None
    return plan, estimator


def _scores(problem_type: str, estimator: Any, x: np.ndarray, y: np.ndarray) -> tuple[dict[str, float], np.ndarray,
                                                                                      np.ndarray | None]:
    proba = predict_proba(estimator, x) if problem_type in CLASSIFICATION else None
    if proba is not None:
        predicted = np.argmax(proba, axis=1)
    else:
        predicted = np.asarray(estimator.predict(x))
        if problem_type in CLASSIFICATION:
            predicted = predicted.astype("int64")
    return evaluate(problem_type, y, predicted, proba), predicted, proba


def train(frame: pd.DataFrame, spec: TrainingSpec, ctx: JobContext | None = None,
          flow: dict[str, Any] | None = None) -> TrainingResult:
    """Train `spec.algorithm` on `frame` (already through its flow, if any); raises TrainingError for
    anything the user can fix."""
    ctx = ctx or LocalContext()
    started = time.perf_counter()
    warnings: list[str] = []
    algorithm = algorithm_get(spec.algorithm)
    hps = clean_hyperparameters(algorithm.hyperparameters, spec.hyperparameters, algorithm.label)
    if spec.validation not in VALIDATIONS:
        raise TrainingError(f"Validation must be one of {', '.join(VALIDATIONS)}.", "validation")
    supervised = algorithm.supervised
    target = (spec.target or "").strip() or None
    if supervised and not target:
        raise TrainingError(f"{algorithm.label} learns to predict a target: choose the target column.", "target")
    if target and target not in frame.columns:
        raise TrainingError(f"There is no column called '{target}'.", "target")
    if len(frame) == 0:
        raise TrainingError("The dataset has no rows.")
    ctx.progress(1, "Checking the data")
    y: np.ndarray | None = None
    classes: list[str] = []
    if supervised:
        assert target is not None
        problem_type = target_problem_type(frame, target, spec.problem_type)
        if problem_type not in algorithm.problem_types:
            raise TrainingError(f"{algorithm.label} does not solve {problem_type} problems; it solves "
                                f"{', '.join(algorithm.problem_types)}.", "problem_type")
        frame, y, classes = target_encode(frame, target, problem_type, warnings)
    else:
        problem_type = algorithm.problem_types[0]
        if spec.problem_type and spec.problem_type != problem_type:
            raise TrainingError(f"{algorithm.label} solves {problem_type} problems, not {spec.problem_type}.",
                                "problem_type")
    drop = [name for name in (target, SPLIT_COLUMN, *spec.exclude) if name and name in frame.columns]
    features = frame.drop(columns=drop)
    splits, test_rows, split_text = _splits(y, frame, spec, problem_type, warnings)
    ctx.log(f"{algorithm.label}, {problem_type}, {len(frame):,} rows × {features.shape[1]} feature columns; "
            f"validation by {split_text}.")
    rows = {"total": len(frame), "train": len(splits[0][0]), "validation": len(splits[0][1]),
            "test": 0 if test_rows is None else len(test_rows)}

    fold_metrics: list[dict[str, float]] = []
    out_of_fold: list[tuple[np.ndarray, np.ndarray, np.ndarray | None]] = []
    if spec.validation == "kfold" and len(splits) > 1:
        for number, (train_rows, valid_rows) in enumerate(splits, start=1):
            ctx.raise_if_stopped()
            ctx.progress(5 + 45 * (number - 1) / len(splits), f"Fold {number} of {len(splits)}")
            session = FitSession(_Scaled(ctx, 5, 5), stage=f"fold-{number}", checkpoint_every=10**9,
                                 report_curves=False)  # type: ignore[arg-type]
            plan, estimator = _fit_one(algorithm, problem_type, hps, spec, features, y, train_rows, valid_rows,
                                       session, None)
            assert y is not None
            scores, predicted, proba = _scores(problem_type, estimator, plan_transform(plan, features.iloc[valid_rows]),
                                               y[valid_rows])
            fold_metrics.append(scores)
            out_of_fold.append((valid_rows, predicted, proba))
            for name, value in scores.items():
                ctx.metric(f"fold_{name}", value, step=number)
        train_rows, valid_rows = np.arange(len(frame)), np.array([], dtype=int)
        rows.update(train=len(frame), validation=len(frame))
        final_low = 50.0
    else:
        train_rows, valid_rows = splits[0]
        final_low = 5.0
    ctx.progress(final_low, "Training the model")
    session = FitSession(_Scaled(ctx, final_low, 92), stage="final",  # type: ignore[arg-type]
                         checkpoint_every=spec.checkpoint_every)
    plan, estimator = _fit_one(algorithm, problem_type, hps, spec, features, y, train_rows, valid_rows, session,
                               warnings)
    ctx.raise_if_stopped()
    ctx.progress(93, "Evaluating")
    x_train = plan_transform(plan, features.iloc[train_rows])
    charts: dict[str, Any] = {}
    metrics: dict[str, float] = {}
    train_metrics: dict[str, float] = {}
    test_metrics: dict[str, float] = {}
    x_eval: np.ndarray = x_train
    if problem_type in SUPERVISED:
        assert y is not None
        train_metrics, _, _ = _scores(problem_type, estimator, x_train, y[train_rows])
        if fold_metrics:
            metrics = {name: float(np.mean([fold[name] for fold in fold_metrics if name in fold]))
                       for name in fold_metrics[0]}
            order = np.concatenate([rows_ for rows_, _, _ in out_of_fold])
            predicted = np.concatenate([p for _, p, _ in out_of_fold])
            probas = [p for _, _, p in out_of_fold]
            proba = np.concatenate(probas) if all(p is not None for p in probas) else None  # type: ignore[arg-type]
            charts = curves(problem_type, y[order], predicted, proba, classes, spec.seed)
            x_eval = x_train
        else:
            x_eval = plan_transform(plan, features.iloc[valid_rows])
            metrics, predicted, proba = _scores(problem_type, estimator, x_eval, y[valid_rows])
            charts = curves(problem_type, y[valid_rows], predicted, proba, classes, spec.seed)
        if test_rows is not None:
            test_metrics, _, _ = _scores(problem_type, estimator, plan_transform(plan, features.iloc[test_rows]),
                                         y[test_rows])
        if problem_type == REGRESSION:
            charts["target"] = {"mean": float(np.mean(y)), "std": float(np.std(y))}
    else:
        metrics, charts = _unsupervised_scores(problem_type, estimator, x_train, spec.seed)
    importance = _importance(estimator, plan, problem_type, x_eval, y if not fold_metrics else y, valid_rows,
                             fold_metrics, spec.seed)
    _leakage_warning(problem_type, metrics, importance, warnings)
    latency = _latency(estimator, x_eval if len(x_eval) else x_train, problem_type)
    objective = default_metric(problem_type)
    for name, value in metrics.items():
        ctx.metric(f"validation_{name}" if problem_type in SUPERVISED else name, value)
    model = TrainedModel(
        algorithm=algorithm.name, problem_type=problem_type, hyperparameters=hps, plan=plan, estimator=estimator,
        target=target, classes=classes, flow=flow, metrics=metrics,
        info={"validation": split_text, "rows": rows, "features": feature_names(plan), "seed": spec.seed},
    )
    seconds = time.perf_counter() - started
    ctx.progress(99, "Trained")
    return TrainingResult(model, problem_type, metrics, train_metrics, fold_metrics, test_metrics, charts,
                          importance, warnings, rows, objective, seconds, latency, session.resumed_from)


def _unsupervised_scores(problem_type: str, estimator: Any, x: np.ndarray,
                         seed: int) -> tuple[dict[str, float], dict[str, Any]]:
    if problem_type == CLUSTERING:
        from sklearn.metrics import silhouette_score

        labels = estimator.predict(x)
        metrics = {"inertia": float(estimator.inertia_)}
        if len(np.unique(labels)) > 1:
            sample = min(len(x), SILHOUETTE_ROWS)
            metrics["silhouette"] = float(silhouette_score(x, labels, sample_size=sample, random_state=seed))
        sizes = np.bincount(labels, minlength=estimator.n_clusters)
        return metrics, {"cluster_sizes": sizes.tolist()}
    if problem_type == DIMENSIONALITY:
        ratios = estimator.explained_variance_ratio_
        return {"explained_variance": float(np.sum(ratios))}, {"explained_variance_ratio": ratios.tolist()}
    if problem_type == ANOMALY:
        flagged = estimator.predict(x) == -1
        scores = -estimator.score_samples(x)
        histogram, edges = np.histogram(scores, bins=30)
        return {"anomaly_share": float(np.mean(flagged))}, {
            "anomaly_scores": {"counts": histogram.tolist(), "edges": edges.tolist()}}
    return {}, {}


def _importance(estimator: Any, plan: dict[str, Any], problem_type: str, x_eval: np.ndarray, y: np.ndarray | None,
                valid_rows: np.ndarray, fold_metrics: list[dict[str, float]], seed: int) -> list[dict[str, Any]]:
    """Importance per input column (one-hot features added up), as shares of the total."""
    values: np.ndarray | None = None
    raw = getattr(estimator, "feature_importances_", None)
    if raw is not None and problem_type != ANOMALY:
        values = np.asarray(raw, dtype="float64")
    elif hasattr(estimator, "coef_"):
        coefficients = np.abs(np.asarray(estimator.coef_, dtype="float64"))
        values = coefficients.reshape(-1, coefficients.shape[-1]).mean(axis=0) if coefficients.ndim > 1 \
            else coefficients
    elif problem_type in SUPERVISED and y is not None and len(x_eval):
        from sklearn.inspection import permutation_importance

        targets = y[valid_rows] if len(valid_rows) else y
        rows = np.random.default_rng(seed).permutation(len(x_eval))[:IMPORTANCE_ROWS]
        if len(targets) == len(x_eval):
            result = permutation_importance(estimator, x_eval[rows], targets[rows], n_repeats=3, random_state=seed,
                                            scoring=_permutation_score(problem_type))
            values = np.clip(result.importances_mean, 0, None)
    if values is None or not np.all(np.isfinite(values)) or values.sum() <= 0:
        return []
    sources = feature_sources(plan)
    totals: dict[str, float] = {}
    for source, value in zip(sources, values, strict=False):
        totals[source] = totals.get(source, 0.0) + float(value)
    whole = sum(totals.values()) or 1.0
    return sorted(({"column": name, "importance": value / whole} for name, value in totals.items()),
                  key=lambda entry: -entry["importance"])


def _permutation_score(problem_type: str) -> Any:
    def score(estimator: Any, x: np.ndarray, y: np.ndarray) -> float:
        predicted = np.asarray(estimator.predict(x))
        if problem_type == REGRESSION:
            return -float(np.sqrt(np.mean((y - predicted) ** 2)))
        return float(np.mean(predicted.astype("int64") == y))
    return score


def _leakage_warning(problem_type: str, metrics: dict[str, float], importance: list[dict[str, Any]],
                     warnings: list[str]) -> None:
    if not importance or problem_type not in SUPERVISED:
        return
    top = importance[0]
    near_perfect = metrics.get("balanced_accuracy", metrics.get("r2", 0.0)) >= 0.99
    if near_perfect and top["importance"] >= 0.6:
        warnings.append(f"The model is nearly perfect and relies mostly on {top['column']} "
                        f"({top['importance']:.0%} of the importance): check that this column is not known only after "
                        "the target (target leakage), and exclude it if so.")


def _latency(estimator: Any, x: np.ndarray, problem_type: str) -> float | None:
    if not len(x) or problem_type == DIMENSIONALITY:
        return None
    rows = x[:LATENCY_ROWS]
    started = time.perf_counter()
    estimator.predict(rows)
    return (time.perf_counter() - started) * 1000 / len(rows)


def objective_direction(metric: str) -> str:
    from .metrics import METRICS

    entry = METRICS.get(metric)
    if entry is None:
        return "maximize" if metric in ("silhouette", "explained_variance") else "minimize"
    return "maximize" if entry.greater_is_better else "minimize"


__all__ = ["TrainingResult", "TrainingSpec", "fit_on_rows", "infer_problem_type", "objective_direction",
           "target_encode", "target_problem_type", "train"]
