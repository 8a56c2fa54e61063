"""The registry of built-in algorithms: each is registered by name with the problem types it solves, its
typed hyperparameters and how its features are prepared, so the training form, GET /api/v1/algorithms/,
tuning, AutoML and the docs list one set.

`build(problem_type, hyperparameters, seed, threads)` returns an unfitted estimator with the scikit-learn
interface. An algorithm that reports curves while it trains and saves checkpoints (XGBoost, the MLP) also
registers `fit(estimator, x, y, session)`; the others are fitted with `estimator.fit(x, y)`.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.runtime import JobContext

from .hyperparams import Hyperparameter as H
from .metrics import (
    ANOMALY,
    BINARY,
    CLUSTERING,
    DIMENSIONALITY,
    MULTICLASS,
    REGRESSION,
    SUPERVISED,
)


@dataclass
class FitSession:
    """What an algorithm's own fit may use: the job context for curves, stop requests and checkpoints,
    validation rows for a validation curve, and where this fit stands (checkpoints of another stage are
    not resumed)."""

    ctx: JobContext
    stage: str = "final"
    x_valid: np.ndarray | None = None
    y_valid: np.ndarray | None = None
    checkpoint_every: int = 10
    report_curves: bool = True
    resumed_from: int = 0  # the round or epoch this fit resumed from (0: from scratch)


@dataclass
class Algorithm:
    name: str
    label: str
    description: str
    problem_types: tuple[str, ...]
    hyperparameters: tuple[H, ...]
    build: Callable[[str, dict[str, Any], int, int], Any]
    scale: bool = False  # standardise features (distance- and gradient-based learners)
    handles_missing: bool = False  # learns from missing values itself (no median fill)
    ordinal_ok: bool = True  # many-valued categories as codes (trees); else as frequencies
    fit: Callable[[Any, np.ndarray, np.ndarray | None, FitSession], Any] | None = None
    checkpoints: bool = False
    curves: tuple[str, ...] = ()  # the metric curves it reports while training
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # Where a search (AutoML's first candidate of this algorithm) starts when the library's own default is a poor
    # start on most tables: hyperparameter name → value. The form's defaults stay the library's.
    search_start: dict[str, Any] = field(default_factory=dict)

    @property
    def supervised(self) -> bool:
        return any(problem in SUPERVISED for problem in self.problem_types)

    def schema(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "description": self.description,
                "problem_types": list(self.problem_types), "supervised": self.supervised,
                "hyperparameters": [parameter.schema() for parameter in self.hyperparameters],
                "checkpoints": self.checkpoints, "curves": list(self.curves), "scales_features": self.scale,
                "handles_missing": self.handles_missing, "notes": self.notes}


ALGORITHMS: dict[str, Algorithm] = {}


def register(algorithm: Algorithm) -> Algorithm:
    if algorithm.name in ALGORITHMS:
        raise ValueError(f"algorithm {algorithm.name!r} is registered twice")
    ALGORITHMS[algorithm.name] = algorithm
    return algorithm


def algorithm_list(problem_type: str | None = None) -> list[Algorithm]:
    return [entry for entry in ALGORITHMS.values() if problem_type is None or problem_type in entry.problem_types]


# --- checkpoints: a small header (kind, stage, step) in front of the framework's own bytes ----------------

def checkpoint_pack(kind: str, stage: str, step: int, payload: bytes) -> bytes:
    header = json.dumps({"kind": kind, "stage": stage, "step": step}).encode()
    return struct.pack(">I", len(header)) + header + payload


def checkpoint_unpack(data: bytes | None, kind: str, stage: str) -> tuple[int, bytes] | None:
    """(step, payload) when `data` is a checkpoint of this kind and stage, else None."""
    if not data or len(data) < 4:
        return None
    size = struct.unpack(">I", data[:4])[0]
    try:
        header = json.loads(data[4:4 + size])
    except ValueError:
        return None
    if header.get("kind") != kind or header.get("stage") != stage:
        return None
    return int(header["step"]), data[4 + size:]


# --- XGBoost ----------------------------------------------------------------------------------------------

def _xgboost_build(problem_type: str, hps: dict[str, Any], seed: int, threads: int) -> Any:
    from xgboost import XGBClassifier, XGBRegressor

    options = {key: hps[key] for key in ("n_estimators", "max_depth", "learning_rate", "subsample",
                                         "colsample_bytree", "min_child_weight", "reg_lambda", "reg_alpha", "gamma")}
    options.update(random_state=seed, n_jobs=threads, tree_method="hist")
    if hps.get("early_stopping_rounds"):
        options["early_stopping_rounds"] = hps["early_stopping_rounds"]
    if problem_type == REGRESSION:
        return XGBRegressor(objective="reg:squarederror", **options)
    return XGBClassifier(**options)


def _xgboost_fit(estimator: Any, x: np.ndarray, y: np.ndarray | None, session: FitSession) -> Any:
    from xgboost import Booster
    from xgboost.callback import TrainingCallback

    total = int(estimator.get_params()["n_estimators"])
    resume = checkpoint_unpack(session.ctx.load_checkpoint(), "xgboost", session.stage)
    start_model = None
    done = 0
    if resume is not None and 0 < resume[0] < total:
        done = resume[0]
        start_model = Booster()
        start_model.load_model(bytearray(resume[1]))
        session.resumed_from = done
        session.ctx.log(f"Resuming from the checkpoint after round {done} of {total}.")
    every = max(1, session.checkpoint_every)
    report_every = max(1, total // 200)

    class Report(TrainingCallback):
        def after_iteration(self, model: Any, epoch: int, evals_log: dict[str, Any]) -> bool:
            round_number = done + epoch + 1
            session.ctx.raise_if_stopped()
            if session.report_curves and (round_number % report_every == 0 or round_number == total):
                for data_name, label in (("validation_0", "train"), ("validation_1", "validation")):
                    for metric_name, values in evals_log.get(data_name, {}).items():
                        session.ctx.metric(f"{label}_{metric_name}", float(values[-1]), step=round_number)
                session.ctx.progress(100 * round_number / total, f"Round {round_number} of {total}")
            if round_number % every == 0 and round_number < total:
                session.ctx.save_checkpoint(checkpoint_pack("xgboost", session.stage, round_number,
                                                            bytes(model.save_raw("ubj"))))
            return False

    eval_set = [(x, y)]
    if session.x_valid is not None and session.y_valid is not None:
        eval_set.append((session.x_valid, session.y_valid))
    if start_model is not None:
        estimator.set_params(n_estimators=total - done)
    if estimator.get_params().get("early_stopping_rounds") and len(eval_set) < 2:
        estimator.set_params(early_stopping_rounds=None)
    estimator.set_params(callbacks=[Report()])
    estimator.fit(x, y, eval_set=eval_set, verbose=False, xgb_model=start_model)
    estimator.set_params(callbacks=None, n_estimators=total)
    return estimator


register(Algorithm(
    "xgboost", "XGBoost", "Gradient-boosted trees (XGBoost, histogram method): strong on tabular data.",
    (BINARY, MULTICLASS, REGRESSION),
    (H("n_estimators", "integer", 200, "Boosting rounds.", 1, 5000, search_range=(20, 1000), search_log=True),
     H("max_depth", "integer", 6, "Depth of each tree (0: no limit, with a leaf-wise policy).", 0, 20,
       search_range=(2, 12)),
     H("learning_rate", "number", 0.3, "Shrinkage of each round (eta).", 0.001, 1.0, log=True,
       search_range=(0.005, 0.5)),
     H("subsample", "number", 1.0, "Share of rows sampled per tree.", 0.1, 1.0, search_range=(0.5, 1.0)),
     H("colsample_bytree", "number", 1.0, "Share of features sampled per tree.", 0.1, 1.0, search_range=(0.3, 1.0)),
     H("min_child_weight", "number", 1.0, "Minimum sum of instance weight in a leaf.", 0.0, 100.0,
       search_range=(0.1, 30.0), search_log=True),
     H("reg_lambda", "number", 1.0, "L2 regularisation.", 0.0, 100.0, search_range=(0.001, 100.0), search_log=True),
     H("reg_alpha", "number", 0.0, "L1 regularisation.", 0.0, 100.0, search_range=(0.0, 5.0)),
     H("gamma", "number", 0.0, "Minimum loss reduction to split.", 0.0, 100.0, search_range=(0.0, 5.0)),
     H("early_stopping_rounds", "integer", None, "Stop when the validation score has not improved for this many "
       "rounds (empty: never).", 1, 1000, nullable=True, searchable=False)),
    _xgboost_build, handles_missing=True, fit=_xgboost_fit, checkpoints=True, curves=("logloss", "rmse"),
    # XGBoost's own eta of 0.3 overfits 200 rounds on most tables; 0.1 is where LightGBM, FLAML and most
    # published tabular baselines start.
    search_start={"learning_rate": 0.1},
))


# --- scikit-learn ---------------------------------------------------------------------------------------

def _class_weight(value: str) -> str | None:
    return None if value == "none" else value


def _max_features(value: str) -> Any:
    return 1.0 if value == "all" else value


def _forest_build(kind: str) -> Callable[[str, dict[str, Any], int, int], Any]:
    def build(problem_type: str, hps: dict[str, Any], seed: int, threads: int) -> Any:
        from sklearn import ensemble

        name = f"{kind}{'Regressor' if problem_type == REGRESSION else 'Classifier'}"
        options = {"n_estimators": hps["n_estimators"], "max_depth": hps["max_depth"],
                   "min_samples_leaf": hps["min_samples_leaf"], "max_features": _max_features(hps["max_features"]),
                   "random_state": seed, "n_jobs": threads}
        if problem_type != REGRESSION:
            options["class_weight"] = _class_weight(hps["class_weight"])
        return getattr(ensemble, name)(**options)
    return build


def _forest_hyperparameters() -> tuple[H, ...]:
    return (H("n_estimators", "integer", 200, "Trees in the forest.", 1, 2000, search_range=(50, 500),
              search_log=True),
            H("max_depth", "integer", None, "Depth limit of each tree (empty: no limit).", 1, 100, nullable=True,
              search_range=(3, 40), search_log=True),
            H("min_samples_leaf", "integer", 1, "Minimum rows in a leaf.", 1, 1000, search_range=(1, 30),
              search_log=True),
            H("max_features", "choice", "sqrt", "Features considered at each split.", choices=("sqrt", "log2", "all")),
            H("class_weight", "choice", "none", "Weigh classes by inverse frequency (classification).",
              choices=("none", "balanced")))


register(Algorithm(
    "random_forest", "Random forest", "Averaged decision trees on bootstrap samples (scikit-learn).",
    (BINARY, MULTICLASS, REGRESSION), _forest_hyperparameters(), _forest_build("RandomForest"),
    handles_missing=True,
))
register(Algorithm(
    "extra_trees", "Extra trees", "Extremely randomised trees: random split thresholds, often faster than a forest.",
    (BINARY, MULTICLASS, REGRESSION), _forest_hyperparameters(), _forest_build("ExtraTrees"), handles_missing=True,
))


def _hist_gradient_boosting_build(problem_type: str, hps: dict[str, Any], seed: int, threads: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    options = {"max_iter": hps["max_iter"], "learning_rate": hps["learning_rate"], "max_depth": hps["max_depth"],
               "max_leaf_nodes": hps["max_leaf_nodes"], "min_samples_leaf": hps["min_samples_leaf"],
               "l2_regularization": hps["l2_regularization"], "random_state": seed, "early_stopping": False}
    if problem_type == REGRESSION:
        return HistGradientBoostingRegressor(**options)
    return HistGradientBoostingClassifier(class_weight=_class_weight(hps["class_weight"]), **options)


register(Algorithm(
    "hist_gradient_boosting", "Histogram gradient boosting",
    "scikit-learn's LightGBM-style gradient boosting on binned features; learns from missing values.",
    (BINARY, MULTICLASS, REGRESSION),
    (H("max_iter", "integer", 200, "Boosting iterations.", 1, 5000, search_range=(30, 1000), search_log=True),
     H("learning_rate", "number", 0.1, "Shrinkage of each iteration.", 0.001, 1.0, log=True,
       search_range=(0.01, 0.5)),
     H("max_depth", "integer", None, "Depth limit (empty: no limit).", 1, 100, nullable=True, search_range=(2, 20)),
     H("max_leaf_nodes", "integer", 31, "Leaves per tree.", 2, 1024, search_range=(4, 256), search_log=True),
     H("min_samples_leaf", "integer", 20, "Minimum rows in a leaf.", 1, 1000, search_range=(1, 100),
       search_log=True),
     H("l2_regularization", "number", 0.0, "L2 regularisation.", 0.0, 100.0, search_range=(0.0, 10.0)),
     H("class_weight", "choice", "none", "Weigh classes by inverse frequency (classification).",
       choices=("none", "balanced"))),
    _hist_gradient_boosting_build, handles_missing=True,
))


def _linear_build(problem_type: str, hps: dict[str, Any], seed: int, threads: int) -> Any:
    from sklearn.linear_model import ElasticNet, LogisticRegression, Ridge

    if problem_type == REGRESSION:
        if hps["l1_ratio"] > 0:
            return ElasticNet(alpha=hps["alpha"], l1_ratio=hps["l1_ratio"], max_iter=hps["max_iter"],
                              random_state=seed)
        return Ridge(alpha=hps["alpha"], random_state=seed)
    return LogisticRegression(C=1.0 / hps["alpha"], l1_ratio=hps["l1_ratio"], max_iter=hps["max_iter"],
                              solver="saga" if hps["l1_ratio"] > 0 else "lbfgs",
                              class_weight=_class_weight(hps["class_weight"]), random_state=seed)


register(Algorithm(
    "linear_learner", "Linear learner",
    "Logistic regression for classes, ridge or elastic net for numbers, on standardised features.",
    (BINARY, MULTICLASS, REGRESSION),
    (H("alpha", "number", 1.0, "Regularisation strength (larger: simpler model).", 1e-6, 1e4, log=True,
       search_range=(1e-4, 1e3)),
     H("l1_ratio", "number", 0.0, "Share of L1 in the penalty (0: ridge, 1: lasso).", 0.0, 1.0),
     H("max_iter", "integer", 1000, "Solver iterations.", 10, 100000, searchable=False),
     H("class_weight", "choice", "none", "Weigh classes by inverse frequency (classification).",
       choices=("none", "balanced"))),
    _linear_build, scale=True, ordinal_ok=False,
))


def _knn_build(problem_type: str, hps: dict[str, Any], seed: int, threads: int) -> Any:
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    cls = KNeighborsRegressor if problem_type == REGRESSION else KNeighborsClassifier
    return cls(n_neighbors=hps["n_neighbors"], weights=hps["weights"], metric=hps["metric"], n_jobs=threads)


register(Algorithm(
    "knn", "k-nearest neighbours", "Predicts from the k most similar training rows (standardised features).",
    (BINARY, MULTICLASS, REGRESSION),
    (H("n_neighbors", "integer", 5, "Neighbours consulted.", 1, 500, search_range=(1, 60), search_log=True),
     H("weights", "choice", "uniform", "How neighbours count.", choices=("uniform", "distance")),
     H("metric", "choice", "euclidean", "Distance.", choices=("euclidean", "manhattan"))),
    _knn_build, scale=True, ordinal_ok=False,
))


def _svm_build(problem_type: str, hps: dict[str, Any], seed: int, threads: int) -> Any:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import SVC, SVR

    if problem_type == REGRESSION:
        return SVR(C=hps["C"], kernel=hps["kernel"], gamma=hps["gamma"], epsilon=hps["epsilon"])
    # Probabilities by Platt scaling over internal folds, as scikit-learn now recommends over probability=True.
    svc = SVC(C=hps["C"], kernel=hps["kernel"], gamma=hps["gamma"], class_weight=_class_weight(hps["class_weight"]),
              random_state=seed)
    return CalibratedClassifierCV(svc, ensemble=False, cv=3)


register(Algorithm(
    "svm", "Support vector machine",
    "Kernel SVM (scikit-learn's libsvm); fits in time growing with the square of the rows: best under ~20,000.",
    (BINARY, MULTICLASS, REGRESSION),
    # Searched: the RBF kernel with moderate C only. libsvm's time explodes with large C and with linear or
    # polynomial kernels (minutes on a few thousand rows), and linear models are the linear learner's job.
    (H("C", "number", 1.0, "Inverse regularisation strength.", 1e-4, 1e4, log=True, search_range=(1e-2, 1e2)),
     H("kernel", "choice", "rbf", "Kernel.", choices=("rbf", "linear", "poly", "sigmoid"), search_choices=("rbf",)),
     H("gamma", "choice", "scale", "Kernel coefficient.", choices=("scale", "auto")),
     H("epsilon", "number", 0.1, "Tube width of the regression loss (regression).", 0.0, 100.0,
       search_range=(0.0, 1.0)),
     H("class_weight", "choice", "none", "Weigh classes by inverse frequency (classification).",
       choices=("none", "balanced"))),
    _svm_build, scale=True, ordinal_ok=False, notes="Slow beyond ~20,000 training rows.",
))


def _kmeans_build(problem_type: str, hps: dict[str, Any], seed: int, threads: int) -> Any:
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=hps["n_clusters"], n_init=hps["n_init"], max_iter=hps["max_iter"], random_state=seed)


register(Algorithm(
    "kmeans", "k-means", "Groups rows into k clusters around centroids (standardised features; no target).",
    (CLUSTERING,),
    (H("n_clusters", "integer", 8, "Clusters.", 2, 1000),
     H("n_init", "integer", 3, "Restarts from different centroids; the best is kept.", 1, 50),
     H("max_iter", "integer", 300, "Iterations per restart.", 10, 10000, searchable=False)),
    _kmeans_build, scale=True, ordinal_ok=False,
))


def _pca_build(problem_type: str, hps: dict[str, Any], seed: int, threads: int) -> Any:
    from sklearn.decomposition import PCA

    return PCA(n_components=hps["n_components"], whiten=hps["whiten"], random_state=seed)


register(Algorithm(
    "pca", "PCA", "Principal component analysis: the directions of most variance (standardised features).",
    (DIMENSIONALITY,),
    (H("n_components", "integer", 2, "Components kept (at most the number of features).", 1, 1000),
     H("whiten", "boolean", False, "Scale components to unit variance.")),
    _pca_build, scale=True, ordinal_ok=False,
))


def _isolation_forest_build(problem_type: str, hps: dict[str, Any], seed: int, threads: int) -> Any:
    from sklearn.ensemble import IsolationForest

    contamination = hps["contamination"] if hps["contamination"] is not None else "auto"
    return IsolationForest(n_estimators=hps["n_estimators"], max_samples=hps["max_samples"],
                           contamination=contamination, random_state=seed, n_jobs=threads)


register(Algorithm(
    "isolation_forest", "Isolation forest", "Scores how easily each row is isolated by random splits: anomalies "
    "are isolated quickly (no target).",
    (ANOMALY,),
    (H("n_estimators", "integer", 100, "Trees.", 1, 2000),
     H("max_samples", "integer", 256, "Rows drawn per tree.", 2, 100000),
     H("contamination", "number", None, "Expected share of anomalies (empty: the paper's threshold).", 0.0001, 0.5,
       nullable=True)),
    _isolation_forest_build,
))


def _mlp_build(problem_type: str, hps: dict[str, Any], seed: int, threads: int) -> Any:
    from .mlp import TorchMLP

    return TorchMLP(problem_type=problem_type, hidden_layers=hps["hidden_layers"], epochs=hps["epochs"],
                    batch_size=hps["batch_size"], learning_rate=hps["learning_rate"],
                    weight_decay=hps["weight_decay"], dropout=hps["dropout"], seed=seed, threads=threads,
                    processes=hps.get("processes") or 1)


def _mlp_fit(estimator: Any, x: np.ndarray, y: np.ndarray | None, session: FitSession) -> Any:
    return estimator.fit(x, y, session=session)


register(Algorithm(
    "mlp", "Neural network (MLP)",
    "A multilayer perceptron in torch for tabular data: standardised features, ReLU layers, Adam; live loss "
    "curves and checkpoints every few epochs.",
    (BINARY, MULTICLASS, REGRESSION),
    (H("hidden_layers", "string", "64,32", "Units per hidden layer, comma-separated (e.g. 128,64).",
       search_choices=("64,32", "32", "128", "128,64", "256,128")),
     H("epochs", "integer", 30, "Passes over the training rows.", 1, 10000, search_range=(10, 100), search_log=True),
     H("batch_size", "integer", 64, "Rows per gradient step.", 1, 65536, search_range=(32, 512), search_log=True),
     H("learning_rate", "number", 0.001, "Adam's step size.", 1e-6, 1.0, log=True, search_range=(1e-4, 3e-2)),
     H("weight_decay", "number", 0.0, "L2 penalty (Adam's weight decay).", 0.0, 1.0, search_range=(0.0, 0.01)),
     H("dropout", "number", 0.0, "Dropout after each hidden layer.", 0.0, 0.9, search_range=(0.0, 0.5)),
     H("processes", "integer", 1, "Train data-parallel on this many processes (torch.distributed, gloo); the "
       "batch size is split between them.", 1, 16, searchable=False)),
    _mlp_build, scale=True, ordinal_ok=False, fit=_mlp_fit, checkpoints=True, curves=("loss",),
))


def algorithm_get(name: str) -> Algorithm:
    from .errors import TrainingError

    try:
        return ALGORITHMS[name]
    except KeyError:
        raise TrainingError(f"There is no built-in algorithm called '{name}'. Choose one of: "
                            f"{', '.join(ALGORITHMS)}.", "algorithm") from None


