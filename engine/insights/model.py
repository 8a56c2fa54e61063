"""The target's part of the report: the problem type, a quick XGBoost model with its score and feature
importance, each feature's prediction power on its own, and anomalous rows by IsolationForest."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .errors import InsightsError
from .profile import BOOLEAN, DATETIME, NUMERIC, as_numbers, epoch_seconds, plain, truthy

BINARY, MULTICLASS, REGRESSION = "binary", "multiclass", "regression"
PROBLEM_TYPES = (BINARY, MULTICLASS, REGRESSION)
# A numeric target with at most this many distinct whole numbers is read as classes.
MAX_CLASSES_FROM_NUMBERS = 10
MAX_CLASSES = 100
TEST_SHARE = 0.2
POWER_ROWS = 20_000
POWER_FOLDS = 3
POWER_TREE_DEPTH = 4
ANOMALY_ROWS_SHOWN = 10
# IsolationForest's anomaly score runs from 0 to 1; about 0.5 and below is ordinary. Its own "auto" cut at 0.5
# flagged a third of the Palmer penguins, so rows are counted as anomalous from this score up.
ANOMALY_SCORE = 0.6
SEED = 0
# One thread: a worker runs several jobs side by side, and XGBoost threads spinning on a busy machine made a
# 400-row model take seconds instead of a tenth of one.
MODEL_THREADS = 1


def infer_problem_type(target: pd.Series, kind: str) -> str:
    present = target.dropna()
    distinct = int(present.nunique())
    if kind == NUMERIC:
        numbers = as_numbers(present)
        whole = bool(np.all(np.isfinite(numbers)) and np.all(numbers == np.round(numbers)))
        if not (whole and distinct <= MAX_CLASSES_FROM_NUMBERS):
            return REGRESSION
    return BINARY if distinct <= 2 else MULTICLASS


def check_target(target: pd.Series, name: str, kind: str, problem_type: str) -> str | None:
    """Why the target cannot be modelled as `problem_type`, or None when it can."""
    present = target.dropna()
    if present.empty:
        return f"The target {name} is missing in every row, so there is nothing to learn."
    distinct = int(present.nunique())
    if kind == DATETIME:
        return f"The target {name} holds dates and times; choose a numeric or categorical column as the target."
    if distinct < 2:
        return f"The target {name} has a single value ({present.iloc[0]!s:.50}), so there is nothing to predict."
    if problem_type == REGRESSION and kind not in (NUMERIC, BOOLEAN):
        return f"The target {name} is not numeric, so it cannot be a regression target; choose binary or multiclass."
    if problem_type == BINARY and distinct != 2:
        return f"The target {name} has {distinct} classes, not 2; choose multiclass."
    if problem_type == MULTICLASS and distinct > MAX_CLASSES:
        return f"The target {name} has {distinct:,} classes; the report models at most {MAX_CLASSES}."
    return None


def encode_features(frame: pd.DataFrame, types: dict[str, str]) -> pd.DataFrame:
    """Every column as float: numbers as they are (infinities as missing), datetimes as seconds, categories and
    text as their category codes (missing stays missing)."""
    encoded = {}
    for name in frame.columns:
        column, kind = frame[name], types[name]
        if kind == NUMERIC:
            values = as_numbers(column)
        elif kind == BOOLEAN:
            values = as_numbers(column.map(truthy, na_action="ignore"))
        elif kind == DATETIME:
            stamps = pd.to_datetime(column, errors="coerce")
            values = epoch_seconds(stamps)
        else:
            codes = column.astype(str).where(column.notna()).astype("category").cat.codes.astype("float64")
            values = codes.where(codes >= 0)
        encoded[str(name)] = values.replace([np.inf, -np.inf], np.nan).astype("float64")
    return pd.DataFrame(encoded, index=frame.index)


def encode_target(target: pd.Series, problem_type: str) -> tuple[np.ndarray, list[str]]:
    if problem_type == REGRESSION:
        return as_numbers(target).to_numpy(), []
    labels = target.astype(str)
    classes = sorted(labels.unique())
    lookup = {label: code for code, label in enumerate(classes)}
    return labels.map(lookup).to_numpy(dtype="int64"), classes


def quick_model(features: pd.DataFrame, y: np.ndarray, problem_type: str, classes: list[str]) -> dict[str, Any]:
    """XGBoost with default parameters on an 80/20 split (stratified for classes); its score and importance."""
    from sklearn.metrics import (
        accuracy_score,
        balanced_accuracy_score,
        mean_squared_error,
        r2_score,
        roc_auc_score,
    )
    from sklearn.model_selection import train_test_split
    from xgboost import XGBClassifier, XGBRegressor

    stratify = y if problem_type != REGRESSION and np.bincount(y).min() >= 2 else None
    x_train, x_test, y_train, y_test = train_test_split(features, y, test_size=TEST_SHARE, random_state=SEED,
                                                        stratify=stratify)
    result: dict[str, Any] = {"algorithm": "XGBoost (default parameters)", "train_rows": len(x_train),
                              "test_rows": len(x_test), "split": f"{1 - TEST_SHARE:.0%}/{TEST_SHARE:.0%}" +
                              (" stratified" if stratify is not None else "")}
    if problem_type == REGRESSION:
        regressor = XGBRegressor(random_state=SEED, n_jobs=MODEL_THREADS)
        regressor.fit(x_train, y_train)
        predicted = regressor.predict(x_test)
        result["scores"] = {"r2": plain(r2_score(y_test, predicted)),
                            "rmse": plain(np.sqrt(mean_squared_error(y_test, predicted)))}
        model: Any = regressor
    else:
        # XGBoost wants the classes it trains on numbered 0..k-1.
        seen = np.unique(y_train)
        remap = {old: new for new, old in enumerate(seen)}
        classifier = XGBClassifier(random_state=SEED, n_jobs=MODEL_THREADS)
        classifier.fit(x_train, np.vectorize(remap.get)(y_train))
        kept = np.isin(y_test, seen)
        x_kept, truth = x_test[kept], np.vectorize(remap.get)(y_test[kept]) if kept.any() else y_test[kept]
        predicted = classifier.predict(x_kept)
        scores: dict[str, float | None] = {"accuracy": plain(accuracy_score(truth, predicted)),
                                           "balanced_accuracy": plain(balanced_accuracy_score(truth, predicted))}
        scores["roc_auc"] = _roc_auc(roc_auc_score, classifier.predict_proba(x_kept), truth, len(seen))
        result["scores"] = scores
        model = classifier
    importance = model.feature_importances_
    total = float(np.sum(importance)) or 1.0
    ranked = sorted(zip(features.columns, importance, strict=True), key=lambda pair: -pair[1])
    result["feature_importance"] = [{"column": str(c), "importance": plain(v / total)} for c, v in ranked]
    return result


def _roc_auc(score, probabilities: np.ndarray, truth: np.ndarray, classes: int) -> float | None:
    if len(np.unique(truth)) < classes or classes < 2:
        return None  # a class missing from the test rows makes the area undefined
    try:
        if classes == 2:
            return plain(score(truth, probabilities[:, 1]))
        return plain(score(truth, probabilities, multi_class="ovr"))
    except ValueError:
        return None


def prediction_power(features: pd.DataFrame, y: np.ndarray, problem_type: str, ctx: Any = None) -> dict[str, float]:
    """Each feature alone, in a shallow decision tree scored by cross-validation. For classes the balanced
    accuracy is rescaled so that chance scores 0 and a perfect prediction 1; for regression it is R² (at least 0)."""
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    if len(features) > POWER_ROWS:
        keep = np.random.default_rng(SEED).choice(len(features), POWER_ROWS, replace=False)
        features, y = features.iloc[keep], y[keep]
    if problem_type != REGRESSION:  # classes too rare to appear in every fold are left out of this part
        common = np.bincount(y)[y] >= POWER_FOLDS
        features, y = features[common], np.unique(y[common], return_inverse=True)[1]
    classes = 0 if problem_type == REGRESSION else len(np.unique(y))
    if len(y) < 2 * POWER_FOLDS or (problem_type != REGRESSION and classes < 2):
        return {}
    folds = POWER_FOLDS
    if classes:
        splitter: Any = StratifiedKFold(folds, shuffle=True, random_state=SEED)
        estimator: Any = DecisionTreeClassifier(max_depth=POWER_TREE_DEPTH, random_state=SEED)
        scoring = "balanced_accuracy"
    else:
        splitter = KFold(folds, shuffle=True, random_state=SEED)
        estimator = DecisionTreeRegressor(max_depth=POWER_TREE_DEPTH, random_state=SEED)
        scoring = "r2"
    powers: dict[str, float] = {}
    for name in features.columns:
        if ctx is not None:
            ctx.raise_if_stopped()
        column = features[[name]].fillna(features[name].min() - 1 if features[name].notna().any() else 0)
        score = float(np.mean(cross_val_score(estimator, column, y, cv=splitter, scoring=scoring)))
        if classes:
            chance = 1.0 / classes
            score = (score - chance) / (1 - chance)
        powers[str(name)] = max(0.0, min(1.0, score))
    return dict(sorted(powers.items(), key=lambda pair: -pair[1]))


def anomalous_rows(features: pd.DataFrame, positions: np.ndarray) -> dict[str, Any] | None:
    """IsolationForest over the numeric columns; the count flagged and the most anomalous rows."""
    from sklearn.ensemble import IsolationForest

    usable = features.loc[:, features.notna().any()]
    if usable.empty or len(usable) < 10:
        return None
    filled = usable.fillna(usable.median())
    forest = IsolationForest(random_state=SEED, n_jobs=MODEL_THREADS).fit(filled)
    scores = -forest.score_samples(filled)  # higher is more anomalous
    flagged = scores >= ANOMALY_SCORE
    top = np.argsort(-scores)[:ANOMALY_ROWS_SHOWN]
    return {
        "method": f"IsolationForest (100 trees) on the numeric columns, missing values filled with the median; "
                  f"rows scoring {ANOMALY_SCORE} or more (on 0 to 1) count as anomalous",
        "threshold": ANOMALY_SCORE,
        "columns": [str(c) for c in usable.columns], "rows_checked": len(filled), "count": int(flagged.sum()),
        "ratio": float(flagged.mean()),
        "top": [{"row": int(positions[i]), "score": plain(scores[i])} for i in top],
    }


def validate_problem_type(problem_type: str | None) -> None:
    if problem_type and problem_type not in PROBLEM_TYPES:
        raise InsightsError(f"Unknown problem type {problem_type!r}; choose one of: {', '.join(PROBLEM_TYPES)}.")
