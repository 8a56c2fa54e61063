"""Bayesian search with Optuna's Tree-structured Parzen Estimator.

Each proposal rebuilds an in-memory Optuna study from the trials so far (warm-start trials first, then this
job's: completed, failed, stopped with their curves, and running ones, which TPE's constant liar treats as
poor so parallel proposals spread out) and asks a sampler seeded by (seed, trial number). The proposal is
then a function of the history alone, which is what lets a tuner restored from JSON propose identically.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from .ranges import within
from .strategies import Proposal, Strategy, strategy

if TYPE_CHECKING:
    from .tuner import Tuner


@strategy("bayesian", "Bayesian search (TPE)",
          "Models which values did well and proposes where the model expects improvement (Optuna's "
          "multivariate Tree-structured Parzen Estimator). Starts with a few random trials; earlier jobs' trials "
          "(warm start) count as history. Learns most when few trials run at once.",
          {"startup_trials": "random trials before the model is used (default: a quarter of the trials, 3 to 10)"})
class BayesianSearch(Strategy):
    def __init__(self, tuner: Tuner) -> None:
        super().__init__(tuner)
        budget = tuner.max_trials or 40
        self.startup_trials = self.option("startup_trials", min(10, max(3, budget // 4)), 0, 10_000)
        self.distributions = {entry.name: entry.distribution() for entry in self.ranges}
        self.warm = [(params, value) for params, value in tuner.warm_start if within(params, self.ranges)]
        outside = len(tuner.warm_start) - len(self.warm)
        if outside:
            tuner.warnings.append(f"{outside} warm-start trials lie outside these ranges and were not used.")

    def propose(self, count: int) -> list[Proposal]:
        out: list[Proposal] = []
        for offset in range(count):
            out.append(Proposal(self._ask(len(self.tuner.trials) + offset, [p.params for p in out])))
        return out

    def _ask(self, number: int, pending: list[dict[str, Any]]) -> dict[str, Any]:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.TPESampler(seed=(self.tuner.seed * 1_000_003 + number) % 2**32,
                                                 n_startup_trials=self.startup_trials, multivariate=True,
                                                 constant_liar=True)
        study = optuna.create_study(direction="maximize" if self.tuner.direction == "maximize" else "minimize",
                                    sampler=sampler)
        study.add_trials(self._history(pending))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            trial = study.ask(self.distributions)
        return {name: trial.params[name] for name in self.distributions}

    def _history(self, pending: list[dict[str, Any]]) -> list[Any]:
        from optuna.trial import TrialState, create_trial

        def frozen(params: dict[str, Any], state: TrialState, value: float | None = None,
                   intermediate: dict[int, float] | None = None) -> Any:
            chosen = {name: params[name] for name in self.distributions}
            return create_trial(state=state, value=value, params=chosen, distributions=self.distributions,
                                intermediate_values=intermediate)

        history = [frozen(params, TrialState.COMPLETE, value) for params, value in self.warm]
        for trial in self.tuner.trials:
            if trial.status == "completed":
                history.append(frozen(trial.params, TrialState.COMPLETE, trial.value))
            elif trial.status == "stopped":
                # Optuna's intermediate steps are whole numbers; the order of the curve is what TPE uses.
                curve = {index: value for index, (_, value) in enumerate(trial.intermediate)}
                history.append(frozen(trial.params, TrialState.PRUNED, intermediate=curve))
            elif trial.status == "failed":
                history.append(frozen(trial.params, TrialState.FAIL))
            else:
                history.append(frozen(trial.params, TrialState.RUNNING))
        history.extend(frozen(params, TrialState.RUNNING) for params in pending)
        return history
