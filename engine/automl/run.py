"""AutoML: find a good model for a target within a time budget.

1. The target is checked and encoded as training does; the caller's own test rows never reach this function.
   Validation is internal: stratified k-fold (out-of-fold predictions) on small tables, a holdout share of the
   rows on larger ones.
2. Bayesian optimisation (Optuna's TPE, multivariate over the conditional space of `space.py`) proposes
   candidates, first each algorithm with its registry defaults. Successive halving: on larger tables a
   candidate is first fitted on a third (a ninth...) of the training rows and promoted to the next rung only
   when its score is in the best third of the scores seen at its rung (asynchronous successive halving);
   Optuna sees the rung scores as intermediate values and unpromoted candidates as pruned.
3. The clock is checked between and within trials: a trial starts only when its estimated time (from earlier
   trials of the algorithm, scaled by rows and size) fits before the budget, less the time kept for the final
   fit; a trial that overruns is stopped where the algorithm allows (boosting rounds, epochs).
4. Greedy ensemble selection over the best candidates' validation predictions; the ensemble is kept only when
   it beats the best single model on validation. The chosen members are refitted on all the rows when time
   allows (else the fold's model is kept, and a warning says so).
5. After every trial the study (trials as JSON, and the best candidates' validation predictions) is saved as
   the job's checkpoint: a resumed job continues where it stopped, with the time it had left.
"""

from __future__ import annotations

import base64
import json
import math
import statistics
import time
import warnings as python_warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from engine.runtime import JobContext, LocalContext
from engine.training.algorithms import algorithm_get
from engine.training.errors import TrainingError
from engine.training.features import plan_transform
from engine.training.metrics import CLASSIFICATION, METRICS, SUPERVISED, Metric, default_metric
from engine.training.model import EnsembleEstimator, TrainedModel, predict_proba
from engine.training.train import SPLIT_COLUMN, fit_on_rows, target_encode, target_problem_type

from .ensemble import ensemble_select
from .space import default_params, suggest, trial_distributions

DEFAULT_ALGORITHMS = ("linear_learner", "svm", "knn", "random_forest", "extra_trees", "xgboost",
                      "hist_gradient_boosting", "mlp")
# Defaults are tried cheapest first, so a short budget still sees the strong cheap learners.
FIRST_ORDER = ("linear_learner", "hist_gradient_boosting", "xgboost", "random_forest", "extra_trees", "knn", "mlp",
               "svm")
MIN_ROWS = 20
KFOLD_MAX_ROWS = 5000  # up to this many rows, k-fold cross-validation; above, a holdout share
RUNG_FACTOR = 3
MIN_RUNG_ROWS = 1000  # the smallest training subsample a candidate is first tried on
MAX_RUNGS = 4
TOP_CANDIDATES = 10  # candidates the ensemble is chosen from (their predictions are kept in the checkpoint)
ENSEMBLE_ROUNDS = 25
MAX_SKIPPED = 8  # proposals in a row too slow for the time left end the search
LATENCY_ROWS = 500
ROW_POWER = {"svm": 2.0, "knn": 1.5}  # how fit (and predict) time grows with the training rows
CHECKPOINT_FORMAT = "studio-automl"
CHECKPOINT_VERSION = 1


class _OverTime(Exception):
    """A trial ran past its deadline and was stopped."""


@dataclass
class AutoMLResult:
    leaderboard: list[dict[str, Any]]
    best: TrainedModel
    ensemble: dict[str, Any]
    problem_type: str
    metric: str
    direction: str  # "maximize" or "minimize"
    best_score: float  # validation score of `best`
    validation: str
    warnings: list[str]
    trials: int
    seconds: float
    target: str
    seed: int = 0
    threads: int = 1
    resumed_trials: int = 0

    def summary(self) -> dict[str, Any]:
        return {"leaderboard": self.leaderboard, "best": {"algorithm": self.best.algorithm,
                                                          "hyperparameters": self.best.hyperparameters},
                "ensemble": self.ensemble, "problem_type": self.problem_type, "metric": self.metric,
                "direction": self.direction, "best_score": self.best_score, "validation": self.validation,
                "warnings": self.warnings, "trials": self.trials, "seconds": self.seconds, "target": self.target,
                "resumed_trials": self.resumed_trials}


@dataclass
class _Problem:
    features: pd.DataFrame
    y: np.ndarray
    classes: list[str]
    problem_type: str
    metric: Metric
    folds: list[tuple[np.ndarray, np.ndarray]]
    order: np.ndarray  # the rows whose validation predictions are kept, in the order they are kept
    validation: str
    rungs: list[int]  # training rows per fold at each rung, ascending; the last is all of them
    seed: int
    threads: int

    def loss(self, prediction: np.ndarray) -> float:
        """The metric of predictions of the `order` rows, as a loss (lower is better); NaN counts as worst."""
        y_true = self.y[self.order]
        if self.problem_type in CLASSIFICATION:
            value = self.metric.function(y_true, np.argmax(prediction, axis=1), prediction)
        else:
            value = self.metric.function(y_true, prediction, None)
        if not math.isfinite(value):
            return math.inf
        return -value if self.metric.greater_is_better else value

    def score(self, loss: float) -> float:
        return -loss if self.metric.greater_is_better else loss


@dataclass
class _Trial:
    number: int
    algorithm: str
    hyperparameters: dict[str, Any]
    preprocessing: dict[str, Any]
    params: dict[str, Any]
    status: str = "running"  # completed, pruned, failed, timeout
    rung_losses: list[float] = field(default_factory=list)
    rows: int = 0
    seconds: float = 0.0
    latency_ms_per_row: float | None = None
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "algorithm": self.algorithm, "hyperparameters": self.hyperparameters,
                "preprocessing": self.preprocessing, "params": self.params, "status": self.status,
                "rung_losses": self.rung_losses, "rows": self.rows, "seconds": self.seconds,
                "latency_ms_per_row": self.latency_ms_per_row, "error": self.error}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> _Trial:
        return cls(**data)

    @property
    def loss(self) -> float:
        return self.rung_losses[-1] if self.rung_losses else math.inf


class _Costs:
    """Estimates a trial's seconds from earlier trials of the same algorithm: seconds per unit of work, where
    work grows with the training rows (faster than linearly for kernels and neighbours) and the model's size."""

    def __init__(self) -> None:
        self.units: dict[str, list[tuple[int, float]]] = {}  # (training rows, seconds per unit of work)
        self.observed: list[float] = []

    @staticmethod
    def work(algorithm: str, hps: dict[str, Any], rows: int) -> float:
        size = 1.0
        if algorithm == "xgboost":
            size = float(hps.get("n_estimators") or 200) * float(hps.get("max_depth") or 8)
        elif algorithm in ("random_forest", "extra_trees"):
            size = float(hps.get("n_estimators") or 200)
        elif algorithm == "hist_gradient_boosting":
            size = float(hps.get("max_iter") or 200) * math.sqrt(float(hps.get("max_leaf_nodes") or 31))
        elif algorithm == "mlp":
            units = sum(int(part) for part in str(hps.get("hidden_layers") or "64").split(",") if part.strip())
            size = float(hps.get("epochs") or 30) * (1 + units / 64) * (1 + 64 / float(hps.get("batch_size") or 64))
        elif algorithm == "linear_learner" and (hps.get("l1_ratio") or 0) > 0:
            size = 5.0
        elif algorithm == "svm":
            size = 1 + max(0.0, math.log10(float(hps.get("C") or 1)))
        return size * max(rows, 1) ** ROW_POWER.get(algorithm, 1.0)

    def record(self, algorithm: str, hps: dict[str, Any], rows: int, fits: int, seconds: float) -> None:
        self.units.setdefault(algorithm, []).append((rows, seconds / fits / self.work(algorithm, hps, rows)))
        self.observed.append(seconds / fits)

    def estimate(self, algorithm: str, hps: dict[str, Any], rows: int, fits: int = 1) -> float | None:
        records = self.units.get(algorithm)
        if not records:
            return statistics.median(self.observed) * fits if self.observed else None
        # Fixed costs weigh more on small fits, so the trials nearest in rows say the most.
        nearest = min(abs(math.log(max(seen, 1) / max(rows, 1))) for seen, _ in records)
        units = [unit for seen, unit in records if abs(math.log(max(seen, 1) / max(rows, 1))) <= nearest + 1e-9]
        return 1.1 * statistics.median(units) * self.work(algorithm, hps, rows) * fits


class _TrialContext:
    """The job context as a trial's fit sees it: stop requests pass through; past the deadline the fit is
    stopped; checkpoints of the fit are not kept (the study's checkpoint is the job's)."""

    def __init__(self, ctx: JobContext, deadline: float) -> None:
        self.ctx, self.deadline = ctx, deadline

    def progress(self, percent: float, message: str = "") -> None:
        pass

    def log(self, message: str, level: str = "INFO") -> None:
        pass

    def metric(self, name: str, value: float, step: int | None = None) -> None:
        pass

    def should_stop(self) -> bool:
        return self.ctx.should_stop()

    def raise_if_stopped(self) -> None:
        self.ctx.raise_if_stopped()
        if time.monotonic() > self.deadline:
            raise _OverTime()

    def save_checkpoint(self, data: bytes) -> None:
        pass

    def load_checkpoint(self) -> bytes | None:
        return None


@dataclass
class _Evaluation:
    loss: float
    prediction: np.ndarray  # of the problem's `order` rows
    model: tuple[dict[str, Any], Any]  # (plan, estimator) of the first fold
    seconds: float
    latency_ms_per_row: float


def _subsample(problem: _Problem, rows: np.ndarray, size: int | None) -> np.ndarray:
    if size is None or size >= len(rows):
        return rows
    if problem.problem_type in CLASSIFICATION and np.bincount(problem.y[rows]).min(initial=2) >= 2:
        from sklearn.model_selection import train_test_split

        counts = np.bincount(problem.y[rows])
        if (counts > 0).sum() <= size:
            kept, _ = train_test_split(rows, train_size=size, random_state=problem.seed,
                                       stratify=problem.y[rows])
            return np.sort(kept)
    return np.sort(np.random.default_rng(problem.seed).choice(rows, size, replace=False))


def _predict(problem: _Problem, estimator: Any, x: np.ndarray) -> np.ndarray:
    if problem.problem_type in CLASSIFICATION:
        proba = predict_proba(estimator, x)
        if proba is None or proba.shape[1] != len(problem.classes):
            raise TrainingError("The model did not give a probability for every class (a class was missing "
                                "from its training rows).")
        return proba
    return np.asarray(estimator.predict(x), dtype="float64")


def _evaluate(problem: _Problem, trial: _Trial, rows: int | None, ctx: JobContext, deadline: float) -> _Evaluation:
    """Fit the trial's candidate on `rows` training rows of each fold (None: all) and score its predictions."""
    started = time.monotonic()
    trial_ctx = _TrialContext(ctx, deadline)
    shape = (len(problem.y), len(problem.classes)) if problem.problem_type in CLASSIFICATION else (len(problem.y),)
    collected = np.zeros(shape)
    first: tuple[dict[str, Any], Any] | None = None
    latency = 0.0
    for train_rows, valid_rows in problem.folds:
        plan, estimator = fit_on_rows(trial.algorithm, problem.problem_type, trial.hyperparameters, problem.features,
                                      problem.y, _subsample(problem, train_rows, rows), valid_rows, ctx=trial_ctx,
                                      seed=problem.seed, threads=problem.threads,
                                      max_one_hot=int(trial.preprocessing["max_one_hot"]))
        predicting = time.perf_counter()
        collected[valid_rows] = _predict(problem, estimator, plan_transform(plan, problem.features.iloc[valid_rows]))
        if first is None:
            first = (plan, estimator)
            latency = (time.perf_counter() - predicting) * 1000 / max(len(valid_rows), 1)
        trial_ctx.raise_if_stopped()
    assert first is not None
    prediction = collected[problem.order]
    return _Evaluation(problem.loss(prediction), prediction, first, time.monotonic() - started, latency)


# --- preparing the problem ------------------------------------------------------------------------------

def _algorithms(names: list[str] | tuple[str, ...] | None, problem_type: str) -> list[str]:
    chosen = list(DEFAULT_ALGORITHMS if names is None else names)
    if not chosen:
        raise TrainingError("Choose at least one algorithm for AutoML to try.", "algorithms")
    for name in chosen:
        algorithm_get(name)  # unknown names are an error that lists the known ones
    usable = [name for name in chosen if problem_type in algorithm_get(name).problem_types]
    if not usable:
        raise TrainingError(f"None of the chosen algorithms ({', '.join(chosen)}) solves {problem_type} problems; "
                            "choose others.", "algorithms")
    return sorted(dict.fromkeys(usable), key=lambda name: FIRST_ORDER.index(name) if name in FIRST_ORDER else 99)


def _validation(y: np.ndarray, problem_type: str, share: float, folds: int, seed: int,
                warnings: list[str]) -> tuple[list[tuple[np.ndarray, np.ndarray]], str]:
    from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

    rows = len(y)
    positions = np.arange(rows)
    smallest = int(np.bincount(y).min()) if problem_type in CLASSIFICATION else rows
    if rows <= KFOLD_MAX_ROWS:
        count = max(2, min(folds, smallest)) if problem_type in CLASSIFICATION else folds
        if problem_type in CLASSIFICATION and smallest >= 2:
            splitter: Any = StratifiedKFold(n_splits=count, shuffle=True, random_state=seed)
            return list(splitter.split(positions, y)), f"stratified {count}-fold cross-validation"
        if problem_type in CLASSIFICATION:
            warnings.append("A class has a single row, so cross-validation is not stratified.")
        splitter = KFold(n_splits=count, shuffle=True, random_state=seed)
        return list(splitter.split(positions)), f"{count}-fold cross-validation"
    if not 0.05 <= share <= 0.5:
        raise TrainingError("The validation share must be between 0.05 and 0.5.", "validation_share")
    stratify = y if problem_type in CLASSIFICATION and smallest >= 2 else None
    train, valid = train_test_split(positions, test_size=share, random_state=seed, stratify=stratify)
    return [(np.sort(train), np.sort(valid))], f"holdout: {len(train):,} train, {len(valid):,} validation rows"


def _rungs(train_rows: int) -> list[int]:
    rungs = [train_rows]
    while len(rungs) < MAX_RUNGS and rungs[0] // RUNG_FACTOR >= MIN_RUNG_ROWS:
        rungs.insert(0, rungs[0] // RUNG_FACTOR)
    return rungs


def _prepare(frame: pd.DataFrame, target: str, problem_type: str | None, metric: str | None, share: float,
             folds: int, seed: int, threads: int, exclude: tuple[str, ...],
             warnings: list[str]) -> _Problem:
    if not target or target not in frame.columns:
        raise TrainingError(f"There is no column called '{target}'.", "target")
    problem_type = target_problem_type(frame, target, problem_type)
    if problem_type not in SUPERVISED:
        raise TrainingError("AutoML learns to predict a target: choose binary, multiclass or regression.",
                            "problem_type")
    frame, y, classes = target_encode(frame, target, problem_type, warnings)
    if len(frame) < MIN_ROWS:
        raise TrainingError(f"There are only {len(frame)} rows with a target value; AutoML needs at least {MIN_ROWS}.")
    metric = metric or default_metric(problem_type)
    entry = METRICS.get(metric)
    if entry is None or problem_type not in entry.problem_types:
        names = ", ".join(name for name, item in METRICS.items() if problem_type in item.problem_types)
        raise TrainingError(f"'{metric}' is not a metric of {problem_type} problems; choose one of: {names}.", "metric")
    drop = [name for name in (target, SPLIT_COLUMN, *exclude) if name in frame.columns]
    features = frame.drop(columns=drop).reset_index(drop=True)
    if features.shape[1] == 0:
        raise TrainingError("There are no feature columns left besides the target; add columns to learn from.")
    split, text = _validation(y, problem_type, share, folds, seed, warnings)
    order = np.concatenate([valid for _, valid in split])
    train_rows = min(len(train) for train, _ in split)
    return _Problem(features, y, classes, problem_type, entry, split, order, text, _rungs(train_rows), seed, threads)


# --- the checkpoint -------------------------------------------------------------------------------------

def _fingerprint(problem: _Problem, target: str, algorithms: list[str]) -> dict[str, Any]:
    return {"rows": len(problem.y), "columns": [str(name) for name in problem.features.columns], "target": target,
            "problem_type": problem.problem_type, "metric": problem.metric.name, "seed": problem.seed,
            "algorithms": algorithms, "validation": problem.validation}


def _encode(prediction: np.ndarray) -> dict[str, Any]:
    data = np.ascontiguousarray(prediction, dtype="float64")
    return {"shape": list(data.shape), "data": base64.b64encode(data.tobytes()).decode()}


def _decode(value: dict[str, Any]) -> np.ndarray:
    return np.frombuffer(base64.b64decode(value["data"]), dtype="float64").reshape(value["shape"]).copy()


def _load(ctx: JobContext, fingerprint: dict[str, Any]) -> tuple[list[_Trial], dict[int, np.ndarray], float]:
    data = ctx.load_checkpoint()
    if not data:
        return [], {}, 0.0
    try:
        state = json.loads(data)
    except ValueError:
        return [], {}, 0.0
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT or \
            state.get("version") != CHECKPOINT_VERSION:
        return [], {}, 0.0
    if state.get("fingerprint") != fingerprint:
        ctx.log("The saved AutoML study was for other data or settings; starting a new one.", "WARNING")
        return [], {}, 0.0
    trials = [_Trial.from_json(item) for item in state["trials"]]
    predictions = {int(number): _decode(value) for number, value in state.get("predictions", {}).items()}
    return trials, predictions, float(state.get("seconds_used", 0.0))


def _save(ctx: JobContext, fingerprint: dict[str, Any], trials: list[_Trial], predictions: dict[int, np.ndarray],
          seconds_used: float) -> None:
    state = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "fingerprint": fingerprint,
             "seconds_used": seconds_used, "trials": [trial.to_json() for trial in trials],
             "predictions": {str(number): _encode(value) for number, value in predictions.items()}}
    ctx.save_checkpoint(json.dumps(state, allow_nan=True, default=_json_default).encode())


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON: {type(value).__name__}")


# --- the search -----------------------------------------------------------------------------------------

class _Search:
    def __init__(self, problem: _Problem, algorithms: list[str], ctx: JobContext, budget: float,
                 max_trials: int | None, started: float, used_before: float) -> None:
        self.problem, self.algorithms, self.ctx = problem, algorithms, ctx
        self.budget, self.max_trials = budget, max_trials
        self.started, self.used_before = started, used_before
        self.end = started + budget - used_before
        self.trials: list[_Trial] = []
        self.predictions: dict[int, np.ndarray] = {}  # validation predictions of the best completed trials
        self.models: dict[int, tuple[dict[str, Any], Any]] = {}  # their first fold's fitted (plan, estimator)
        self.costs = _Costs()
        self.fits = len(problem.folds)

    # -- time --
    def elapsed(self) -> float:
        return self.used_before + time.monotonic() - self.started

    def reserve(self) -> float:
        """Seconds kept for the end: choosing the ensemble and refitting the best candidate on all rows (other
        ensemble members are refitted if time is left, else their search models are used)."""
        best = self.best_completed(1)
        refit = self.costs.estimate(best[0].algorithm, best[0].hyperparameters, len(self.problem.y)) or 0.0 \
            if best else 0.0
        return 1.1 * refit + 0.02 * self.budget + 0.1

    def best_completed(self, count: int) -> list[_Trial]:
        done = [trial for trial in self.trials if trial.status == "completed" and math.isfinite(trial.loss)]
        return sorted(done, key=lambda trial: trial.loss)[:count]

    # -- the study --
    def study(self) -> Any:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        with python_warnings.catch_warnings():
            # multivariate and group are marked experimental; they are what models a conditional space well.
            python_warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.TPESampler(seed=self.problem.seed, multivariate=True, group=True,
                                                 n_startup_trials=max(10, len(self.algorithms) + 2))
        direction = optuna.study.StudyDirection.MAXIMIZE if self.problem.metric.greater_is_better \
            else optuna.study.StudyDirection.MINIMIZE
        study = optuna.create_study(direction=direction, sampler=sampler)
        for trial in self.trials:
            if trial.status not in ("completed", "pruned") or not trial.rung_losses:
                continue
            scores = [self.problem.score(loss) for loss in trial.rung_losses]
            if trial.status == "completed":
                frozen = optuna.trial.create_trial(params=trial.params, value=scores[-1],
                                                   distributions=trial_distributions(trial.params, self.algorithms),
                                                   intermediate_values=dict(enumerate(scores)))
            else:
                frozen = optuna.trial.create_trial(params=trial.params, state=optuna.trial.TrialState.PRUNED,
                                                   distributions=trial_distributions(trial.params, self.algorithms),
                                                   intermediate_values=dict(enumerate(scores)))
            study.add_trial(frozen)
        tried = {trial.algorithm for trial in self.trials}
        for name in self.algorithms:
            if name not in tried:
                study.enqueue_trial(default_params(algorithm_get(name)))
        return study

    def promoted(self, rung: int, loss: float) -> bool:
        """Asynchronous successive halving: on to the next rung when in the best 1/RUNG_FACTOR at this one."""
        seen = sorted(trial.rung_losses[rung] for trial in self.trials if len(trial.rung_losses) > rung)
        if len(seen) < RUNG_FACTOR:
            return True
        return loss <= seen[max(1, len(seen) // RUNG_FACTOR) - 1]

    def run(self, fingerprint: dict[str, Any]) -> None:
        import optuna

        study = self.study()
        skipped = 0
        while True:
            self.ctx.raise_if_stopped()
            if self.max_trials is not None and len(self.trials) >= self.max_trials:
                break
            if self.elapsed() + self.reserve() >= self.budget:
                break
            ask = study.ask()
            candidate = suggest(ask, self.algorithms)
            trial = _Trial(len(self.trials), candidate["algorithm"], candidate["hyperparameters"],
                           candidate["preprocessing"], dict(ask.params))
            first_rows = self.problem.rungs[0]
            estimate = self.costs.estimate(trial.algorithm, trial.hyperparameters, first_rows, self.fits)
            if estimate is not None and self.elapsed() + estimate + self.reserve() > self.budget:
                study.tell(ask, state=optuna.trial.TrialState.FAIL)
                skipped += 1
                if skipped >= MAX_SKIPPED:
                    break
                continue
            skipped = 0
            self.trials.append(trial)
            self.ctx.log(f"Trial {trial.number + 1}: {trial.algorithm} {json.dumps(trial.hyperparameters)}, "
                         f"max one-hot {trial.preprocessing['max_one_hot']}", "DEBUG")
            try:
                self.run_trial(study, ask, trial)
            except BaseException:
                # A stop request (or a crash) during a trial: keep what earlier trials found for the resume.
                self.trials.pop()
                _save(self.ctx, fingerprint, self.trials, self.predictions, self.elapsed())
                raise
            _save(self.ctx, fingerprint, self.trials, self.predictions, self.elapsed())
            self.report(trial)

    def run_trial(self, study: Any, ask: Any, trial: _Trial) -> None:
        import optuna

        evaluation: _Evaluation | None = None
        for rung, rows in enumerate(self.problem.rungs):
            if rung > 0:
                estimate = self.costs.estimate(trial.algorithm, trial.hyperparameters, rows, self.fits) or 0.0
                if self.elapsed() + estimate + self.reserve() > self.budget:
                    trial.error = "not promoted: no time left for more rows"
                    break
            # A candidate may take a few times what its algorithm's earlier trials suggest, never past the end;
            # an algorithm's first trial has only the end as its limit.
            known = trial.algorithm in self.costs.units
            estimate = self.costs.estimate(trial.algorithm, trial.hyperparameters, rows, self.fits) or 0.0
            rung_started = time.monotonic()
            room = self.end - rung_started
            deadline = rung_started + (min(room, max(4 * estimate, 2.0)) if known else room)
            try:
                with python_warnings.catch_warnings():
                    python_warnings.simplefilter("ignore")
                    last = rung == len(self.problem.rungs) - 1
                    evaluation = _evaluate(self.problem, trial, None if last else rows, self.ctx, deadline)
            except _OverTime:
                # What it took so far is a floor of what such a candidate costs: later estimates learn from it.
                spent = time.monotonic() - rung_started
                trial.status, trial.error = "timeout", f"stopped at the time limit with {rows:,} training rows"
                trial.seconds += spent
                self.costs.record(trial.algorithm, trial.hyperparameters, rows, self.fits, spent)
                study.tell(ask, state=optuna.trial.TrialState.FAIL)
                return
            except TrainingError as error:
                trial.status, trial.error = "failed", error.message
                study.tell(ask, state=optuna.trial.TrialState.FAIL)
                return
            trial.seconds += evaluation.seconds
            trial.rows = rows
            trial.rung_losses.append(evaluation.loss)
            self.costs.record(trial.algorithm, trial.hyperparameters, rows, self.fits, evaluation.seconds)
            if not math.isfinite(evaluation.loss):
                trial.status, trial.error = "failed", "the metric could not be computed on its predictions"
                study.tell(ask, state=optuna.trial.TrialState.FAIL)
                return
            ask.report(self.problem.score(evaluation.loss), rung)
            if rung < len(self.problem.rungs) - 1 and not self.promoted(rung, evaluation.loss):
                break
        assert evaluation is not None
        if len(trial.rung_losses) < len(self.problem.rungs):
            trial.status = "pruned"
            study.tell(ask, state=optuna.trial.TrialState.PRUNED)
            return
        trial.status = "completed"
        trial.latency_ms_per_row = evaluation.latency_ms_per_row
        study.tell(ask, self.problem.score(evaluation.loss))
        self.keep(trial, evaluation)

    def keep(self, trial: _Trial, evaluation: _Evaluation) -> None:
        """Keep the predictions and first-fold model of the best TOP_CANDIDATES completed trials only."""
        self.predictions[trial.number] = evaluation.prediction
        self.models[trial.number] = evaluation.model
        kept = {item.number for item in self.best_completed(TOP_CANDIDATES)}
        for number in list(self.predictions):
            if number not in kept:
                self.predictions.pop(number, None)
                self.models.pop(number, None)

    def report(self, trial: _Trial) -> None:
        score = self.problem.score(trial.loss)
        shown = f"score {score:.4f}" if trial.rung_losses else trial.error
        best = self.best_completed(1)
        rows = f" on {trial.rows:,} rows" if trial.rows and trial.rows < self.problem.rungs[-1] else ""
        message = (f"Trial {trial.number + 1}: {trial.algorithm} {trial.status}{rows}, {self.problem.metric.name} "
                   f"{shown}" + (f" (best {self.problem.score(best[0].loss):.4f})" if best else ""))
        self.ctx.log(message)
        self.ctx.progress(5 + 85 * min(1.0, self.elapsed() / self.budget), message)
        if trial.rung_losses:
            self.ctx.metric("trial_score", score, step=trial.number + 1)


# --- the end: ensemble, refit, leaderboard -------------------------------------------------------------

def _leaderboard(search: _Search, problem: _Problem) -> list[dict[str, Any]]:
    status_order = {"completed": 0, "pruned": 1, "timeout": 2, "failed": 3}
    ordered = sorted(search.trials, key=lambda trial: (status_order.get(trial.status, 4), -len(trial.rung_losses),
                                                       trial.loss, trial.number))
    rows = []
    for rank, trial in enumerate(ordered, start=1):
        algorithm = algorithm_get(trial.algorithm)
        rows.append({
            "rank": rank, "trial": trial.number + 1, "algorithm": trial.algorithm,
            "hyperparameters": trial.hyperparameters,
            "preprocessing": {**trial.preprocessing, "scaled": algorithm.scale,
                              "missing_values": "learned" if algorithm.handles_missing else "median and indicator",
                              "many_categories": "ordinal codes" if algorithm.ordinal_ok else "frequencies"},
            "validation_score": problem.score(trial.loss) if trial.rung_losses else None,
            "training_rows": trial.rows, "train_seconds": round(trial.seconds, 3),
            "latency_ms_per_row": trial.latency_ms_per_row, "status": trial.status, "error": trial.error,
        })
    return rows


def _member_model(search: _Search, problem: _Problem, trial: _Trial, target: str,
                  warnings: list[str]) -> TrainedModel | None:
    """The trial's model refitted on all rows when there is time, else its first fold's model."""
    all_rows = np.arange(len(problem.y))
    estimate = search.costs.estimate(trial.algorithm, trial.hyperparameters, len(all_rows)) or 0.0
    kept = search.models.get(trial.number)
    fitted: tuple[dict[str, Any], Any] | None = None
    refitted = False
    if kept is None or time.monotonic() + estimate < search.end:
        try:
            with python_warnings.catch_warnings():
                python_warnings.simplefilter("ignore")
                fitted = fit_on_rows(trial.algorithm, problem.problem_type, trial.hyperparameters, problem.features,
                                     problem.y, all_rows, None, seed=problem.seed, threads=problem.threads,
                                     max_one_hot=int(trial.preprocessing["max_one_hot"]),
                                     ctx=_TrialContext(search.ctx, search.end if kept is not None else math.inf))
            refitted = True
        except (_OverTime, TrainingError):
            fitted = None
    if fitted is None:
        if kept is None:
            return None
        fitted = kept
        warnings.append(f"There was no time left to refit {trial.algorithm} (trial {trial.number + 1}) on all the "
                        "rows; the model trained during the search (on the validation fold's training rows) is kept.")
    plan, estimator = fitted
    hps = dict(trial.hyperparameters)
    full = {parameter.name: hps.get(parameter.name, parameter.default)
            for parameter in algorithm_get(trial.algorithm).hyperparameters}
    return TrainedModel(
        algorithm=trial.algorithm, problem_type=problem.problem_type, hyperparameters=full, plan=plan,
        estimator=estimator, target=target, classes=problem.classes,
        metrics={problem.metric.name: problem.score(trial.loss)},
        info={"validation": problem.validation, "trial": trial.number + 1, "seed": problem.seed,
              "preprocessing": trial.preprocessing, "refitted_on_all_rows": refitted,
              "rows": {"train": len(all_rows) if refitted else len(problem.folds[0][0])}},
    )


def _finish(search: _Search, problem: _Problem, target: str, flow: dict[str, Any] | None,
            warnings: list[str]) -> tuple[TrainedModel, dict[str, Any], float]:
    candidates = [trial for trial in search.best_completed(TOP_CANDIDATES) if trial.number in search.predictions]
    if not candidates:
        raise TrainingError(f"No model finished within the time budget of {search.budget:g} seconds; allow more "
                            "time or fewer rows.", "budget_seconds")
    best_single = candidates[0]
    ensemble: dict[str, Any] = {"used": False, "members": [], "best_single_score": problem.score(best_single.loss)}
    chosen: list[tuple[_Trial, float]] = [(best_single, 1.0)]
    if len(candidates) > 1:
        weights, loss = ensemble_select([search.predictions[trial.number] for trial in candidates], problem.loss,
                                        ENSEMBLE_ROUNDS)
        members = [(trial, weight) for trial, weight in zip(candidates, weights, strict=True) if weight > 0]
        ensemble.update(validation_score=problem.score(loss), members=[
            {"trial": trial.number + 1, "algorithm": trial.algorithm, "weight": round(float(weight), 4)}
            for trial, weight in members])
        if len(members) > 1 and loss < best_single.loss - 1e-9:
            chosen = sorted(members, key=lambda item: -item[1])
            ensemble["used"] = True
    models: list[tuple[TrainedModel, float]] = []
    for trial, weight in chosen:
        model = _member_model(search, problem, trial, target, warnings)
        if model is not None:
            models.append((model, weight))
    if not models:
        raise TrainingError("The best model could not be trained on all rows; allow more time.", "budget_seconds")
    if len(models) == 1:
        best = models[0][0]
        best.flow = flow
        if ensemble["used"]:
            ensemble["used"] = False
            warnings.append("The ensemble's other members could not be refitted in time; the best model is used.")
        return best, ensemble, problem.score(best_single.loss)
    estimator = EnsembleEstimator([model for model, _ in models], [weight for _, weight in models])
    first = models[0][0]
    best = TrainedModel(
        algorithm="ensemble", problem_type=problem.problem_type,
        hyperparameters={"members": [{"algorithm": model.algorithm, "weight": weight, "trial": model.info["trial"]}
                                     for model, weight in zip(estimator.members, estimator.weights, strict=True)]},
        plan=first.plan, estimator=estimator, target=target, classes=problem.classes, flow=flow,
        metrics={problem.metric.name: ensemble["validation_score"]},
        info={"validation": problem.validation, "seed": problem.seed, "members": len(models)})
    return best, ensemble, float(ensemble["validation_score"])


def automl_run(frame: pd.DataFrame, *, target: str, problem_type: str | None = None, budget_seconds: float,
               metric: str | None = None, seed: int = 0, ctx: JobContext | None = None,
               algorithms: list[str] | tuple[str, ...] | None = None, validation_share: float = 0.2, folds: int = 5,
               max_trials: int | None = None, threads: int = 1, exclude: tuple[str, ...] = (),
               flow: dict[str, Any] | None = None) -> AutoMLResult:
    """Search algorithms, hyperparameters and preprocessing for the best model of `target` within
    `budget_seconds` (wall time, all included), optimising `metric` (default: the problem type's default) on
    internal validation; raises TrainingError for anything the user can fix. Pass only training rows: rows kept
    for a final test must not be in `frame`."""
    started = time.monotonic()
    ctx = ctx or LocalContext()
    warnings: list[str] = []
    if not budget_seconds or budget_seconds <= 0 or not math.isfinite(budget_seconds):
        raise TrainingError("The time budget must be a positive number of seconds.", "budget_seconds")
    if max_trials is not None and max_trials < 1:
        raise TrainingError("The number of trials must be at least 1.", "max_trials")
    if len(frame) == 0:
        raise TrainingError("The dataset has no rows.")
    ctx.progress(1, "Checking the data")
    problem = _prepare(frame, target, problem_type, metric, validation_share, folds, seed, threads, exclude, warnings)
    names = _algorithms(algorithms, problem.problem_type)
    if "mlp" in names:
        # Importing torch takes seconds; done now, it is not charged to (and cannot overrun) the first MLP trial.
        import torch  # noqa: F401
    fingerprint = _fingerprint(problem, target, names)
    trials, predictions, used_before = _load(ctx, fingerprint)
    search = _Search(problem, names, ctx, float(budget_seconds), max_trials, started, used_before)
    search.trials, search.predictions = list(trials), predictions
    for trial in trials:
        if trial.status in ("completed", "pruned") and trial.rung_losses:
            search.costs.record(trial.algorithm, trial.hyperparameters, trial.rows, search.fits,
                                trial.seconds / len(trial.rung_losses))
    if trials:
        ctx.log(f"Resuming the AutoML study after {len(trials)} trials ({used_before:.1f} s already used).")
    ctx.log(f"AutoML on {len(problem.y):,} rows × {problem.features.shape[1]} columns, {problem.problem_type}, "
            f"optimising {problem.metric.name} by {problem.validation}; {len(names)} algorithms, "
            f"{budget_seconds:g} s; training rows per rung: {', '.join(f'{rows:,}' for rows in problem.rungs)}.")
    from threadpoolctl import threadpool_limits

    # OpenMP and BLAS pools (histogram boosting, linear algebra) otherwise take every core, whatever `threads`.
    with threadpool_limits(limits=max(1, threads)):
        search.run(fingerprint)
        ctx.raise_if_stopped()
        ctx.progress(92, "Choosing the ensemble and training the final model")
        best, ensemble, best_score = _finish(search, problem, target, flow, warnings)
    leaderboard = _leaderboard(search, problem)
    seconds = search.elapsed()
    ctx.progress(99, f"Best: {best.algorithm}, {problem.metric.name} {best_score:.4f}")
    return AutoMLResult(
        leaderboard=leaderboard, best=best, ensemble=ensemble, problem_type=problem.problem_type,
        metric=problem.metric.name, direction="maximize" if problem.metric.greater_is_better else "minimize",
        best_score=best_score, validation=problem.validation, warnings=warnings, trials=len(search.trials),
        seconds=seconds, target=target, seed=seed, threads=threads, resumed_trials=len(trials))
