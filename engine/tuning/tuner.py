"""The tuner of a hyperparameter tuning job: it proposes trials, hears their results, decides when a trial
should stop early and when the job is done. It never trains: the studio runs each proposal as its own
training job and reports back, and the tuner's whole state is a JSON object the job keeps between calls.

    tuner = Tuner("bayesian", ranges, "roc_auc", max_trials=20, max_parallel=2)
    for proposal in tuner.ask(2):            # start these training jobs
        ...
    tuner.report(number, step, value)        # while one trains: "continue" or "stop"
    tuner.tell(number, value)                # when it ends (None: it failed)
    saved = tuner.state(); tuner = Tuner.from_state(saved)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from engine.training.train import objective_direction

from . import bayesian, hyperband  # noqa: F401 - registers their strategies
from .errors import TuningError
from .ranges import Range, parse_ranges, ranges_to_json
from .stopping import MIN_COMPLETED_TRIALS, WARMUP_REPORTS, median_rule_stops
from .strategies import Strategy, strategy_get

RUNNING, COMPLETED, FAILED, STOPPED = "running", "completed", "failed", "stopped"
FINISHED = (COMPLETED, FAILED, STOPPED)
DIRECTIONS = ("maximize", "minimize")
EARLY_STOPPING = ("off", "auto")
CONTINUE, STOP = "continue", "stop"
STATE_VERSION = 1
MAX_TRIALS = 10_000


@dataclass
class TrialProposal:
    """A trial to run: its number in the job, the hyperparameters to train with, and under Hyperband the
    resource it may spend ({"name": "n_estimators", "value": 30}; a hyperparameter resource is also in
    `params`, a "row_fraction" is the share of rows to train on)."""

    number: int
    params: dict[str, Any]
    resource: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "params": dict(self.params), "resource": self.resource}


@dataclass
class Trial:
    number: int
    params: dict[str, Any]
    status: str = RUNNING
    value: float | None = None
    intermediate: list[tuple[float, float]] = field(default_factory=list)
    resource: dict[str, Any] | None = None
    placement: dict[str, int] | None = None  # Hyperband: iteration, bracket, rung and configuration
    stop_requested: bool = False

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "params": dict(self.params), "status": self.status, "value": self.value,
                "intermediate": [[step, value] for step, value in self.intermediate], "resource": self.resource,
                "placement": self.placement, "stop_requested": self.stop_requested}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Trial:
        return cls(int(data["number"]), dict(data["params"]), str(data["status"]), data.get("value"),
                   [(step, value) for step, value in data.get("intermediate") or []], data.get("resource"),
                   data.get("placement"), bool(data.get("stop_requested")))


def _finite(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _warm_start(records: Iterable[Any]) -> tuple[list[tuple[dict[str, Any], float]], int]:
    """(params, value) pairs from earlier jobs' trials, and how many had no usable value."""
    out: list[tuple[dict[str, Any], float]] = []
    dropped = 0
    for record in records:
        if isinstance(record, dict):
            params, value = record.get("params"), record.get("value")
            if record.get("status") not in (None, COMPLETED):
                value = None
        elif isinstance(record, list | tuple) and len(record) == 2:
            params, value = record
        else:
            raise TuningError("Each warm-start trial must be {\"params\": {...}, \"value\": number}.", "warm_start")
        if not isinstance(params, dict):
            raise TuningError("The params of a warm-start trial must be an object.", "warm_start")
        number = _finite(value)
        if number is None:
            dropped += 1
            continue
        out.append((dict(params), number))
    return out, dropped


class Tuner:
    def __init__(self, strategy: str, ranges: Any, objective_metric: str, direction: str | None = None,
                 max_trials: int | None = None, max_parallel: int = 1, seed: int = 0, early_stopping: str = "off",
                 warm_start: Iterable[Any] = (), *, algorithm: str | None = None,
                 options: dict[str, Any] | None = None) -> None:
        self.strategy_name = str(strategy or "").strip().lower()
        info = strategy_get(self.strategy_name)
        self.algorithm = algorithm or None
        self.ranges: list[Range] = parse_ranges(ranges, self.algorithm)  # checked against the algorithm if named
        self.objective_metric = str(objective_metric or "").strip()
        if not self.objective_metric:
            raise TuningError("Choose the objective metric to optimise.", "objective_metric")
        direction = str(direction or objective_direction(self.objective_metric)).strip().lower()
        if direction not in DIRECTIONS:
            raise TuningError(f"The direction must be maximize or minimize, not '{direction:.40}'.", "direction")
        self.direction = direction
        self.max_parallel = self._count(max_parallel, "max_parallel", "parallel trials")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise TuningError("The seed must be a whole number, 0 or more.", "seed")
        self.seed = seed
        self.early_stopping = str(early_stopping or "off").strip().lower()
        if self.early_stopping not in EARLY_STOPPING:
            raise TuningError(f"Early stopping must be off or auto, not '{early_stopping!s:.40}'.", "early_stopping")
        self.warm_start, dropped = _warm_start(warm_start)
        self.warnings: list[str] = []
        if dropped:
            self.warnings.append(f"{dropped} warm-start trials had no objective value and were left out.")
        self.options: dict[str, Any] = dict(options or {})
        self.trials: list[Trial] = []
        self.max_trials = None if max_trials is None else self._count(max_trials, "max_trials", "trials")
        self._strategy: Strategy = info.cls(self)
        if self.max_trials is None:
            self.max_trials = self._strategy.default_max_trials()
            if self.max_trials is None:
                raise TuningError(f"Set the most trials the {info.label.lower()} may run.", "max_trials")
        capacity = self._strategy.capacity()
        if capacity is not None and capacity < self.max_trials:
            self.max_trials = max(capacity, 0)

    @staticmethod
    def _count(value: Any, field_name: str, what: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float) or value != round(value) \
                or not 1 <= value <= MAX_TRIALS:
            raise TuningError(f"The number of {what} must be a whole number from 1 to {MAX_TRIALS:,}.", field_name)
        return int(value)

    # --- the loop -------------------------------------------------------------------------------------------

    def loss(self, value: float) -> float:
        """A value turned so that lower is better, whatever the direction."""
        return -value if self.direction == "maximize" else value

    def running(self) -> list[Trial]:
        return [trial for trial in self.trials if trial.status == RUNNING]

    def ask(self, n: int = 1) -> list[TrialProposal]:
        """Up to `n` new trials to start, as many as the parallel and total limits allow; fewer (or none)
        when the strategy waits for results (Hyperband's rungs) or has nothing left to propose."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise TuningError("Ask for a whole number of trials.", "n")
        assert self.max_trials is not None
        room = min(n, self.max_parallel - len(self.running()), self.max_trials - len(self.trials))
        if room <= 0:
            return []
        proposals = []
        for proposal in self._strategy.propose(room):
            trial = Trial(len(self.trials), proposal.params, resource=proposal.resource,
                          placement=proposal.placement)
            self.trials.append(trial)
            proposals.append(TrialProposal(trial.number, dict(trial.params), trial.resource))
        return proposals

    def _trial(self, number: Any) -> Trial:
        if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number < len(self.trials):
            raise TuningError(f"This tuning job has no trial number {number!s:.20}.", "number")
        return self.trials[number]

    def tell(self, number: int, value: float | None,
             intermediate: Iterable[tuple[float, float]] | None = None) -> None:
        """The end of a trial: its objective value, or None when it failed. `intermediate` may give the curve
        (step, value) it reported while training, if `report` was not called along the way."""
        trial = self._trial(number)
        if trial.finished:
            raise TuningError(f"Trial {number} has already ended ({trial.status}).", "number")
        for step, point in intermediate or ():
            self._record(trial, step, point)
        final = _finite(value)
        if trial.stop_requested:
            trial.status = STOPPED
            trial.value = final if final is not None else (trial.intermediate[-1][1] if trial.intermediate else None)
        else:
            trial.status = COMPLETED if final is not None else FAILED
            trial.value = final

    def _record(self, trial: Trial, step: Any, value: Any) -> None:
        point, at = _finite(value), _finite(step)
        if point is None or at is None:
            raise TuningError(f"Trial {trial.number} reported a step or value that is not a finite number.", "value")
        trial.intermediate = [entry for entry in trial.intermediate if entry[0] != at]
        trial.intermediate.append((int(at) if at.is_integer() else at, point))
        trial.intermediate.sort(key=lambda entry: entry[0])

    def report(self, number: int, step: float, value: float) -> str:
        """A value of the objective while trial `number` trains (e.g. after each epoch or boosting round):
        "stop" when early stopping is on and the median stopping rule says the trial will not be the best."""
        trial = self._trial(number)
        if trial.finished:
            raise TuningError(f"Trial {number} has already ended ({trial.status}).", "number")
        self._record(trial, step, value)
        if self.early_stopping != "auto":
            return CONTINUE
        if trial.stop_requested:
            return STOP
        completed = [[(at, self.loss(point)) for at, point in other.intermediate]
                     for other in self.trials if other.status == COMPLETED and other.intermediate]
        curve = [(at, self.loss(point)) for at, point in trial.intermediate if at <= step]
        if median_rule_stops(curve, completed, int(self.options.get("stopping_min_trials", MIN_COMPLETED_TRIALS)),
                             int(self.options.get("stopping_warmup_reports", WARMUP_REPORTS))):
            trial.stop_requested = True
            return STOP
        return CONTINUE

    def best(self) -> Trial | None:
        """The completed trial with the best objective value (the earliest among equals)."""
        completed = [trial for trial in self.trials if trial.status == COMPLETED and trial.value is not None]
        if not completed:
            return None
        return min(completed, key=lambda trial: (self.loss(trial.value or 0.0), trial.number))

    def done(self) -> bool:
        """True when every trial has ended and no further trial will be proposed."""
        if self.running():
            return False
        assert self.max_trials is not None
        return len(self.trials) >= self.max_trials or self._strategy.exhausted()

    def records(self) -> list[dict[str, Any]]:
        """Every trial as plain data, for the charts (engine.tuning.analysis) and the API."""
        return [trial.to_json() for trial in self.trials]

    # --- state ----------------------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {"version": STATE_VERSION, "strategy": self.strategy_name, "algorithm": self.algorithm,
                "ranges": ranges_to_json(self.ranges), "objective_metric": self.objective_metric,
                "direction": self.direction, "max_trials": self.max_trials, "max_parallel": self.max_parallel,
                "seed": self.seed, "early_stopping": self.early_stopping, "options": dict(self.options),
                "warm_start": [{"params": params, "value": value} for params, value in self.warm_start],
                "warnings": list(self.warnings), "trials": self.records()}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Tuner:
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            raise TuningError("This tuning state was saved by another version and cannot be resumed.", "state")
        tuner = cls(state["strategy"], state["ranges"], state["objective_metric"], state["direction"],
                    state["max_trials"], state["max_parallel"], state["seed"], state["early_stopping"],
                    state.get("warm_start") or (), algorithm=state.get("algorithm"), options=state.get("options"))
        tuner.warnings = list(state.get("warnings") or [])
        tuner.trials = [Trial.from_json(entry) for entry in state.get("trials") or []]
        return tuner
