"""Hyperband (Li et al., 2018): brackets of successive halving that trade many cheap trials against few
expensive ones.

With a resource from r_min to r_max (boosting rounds, trees, epochs or a share of rows) and a reduction factor
eta, s_max = floor(log_eta(r_max / r_min)). Bracket s (s_max down to 0) starts n = ceil((s_max + 1) / (s + 1)
· eta^s) random configurations with r_max · eta^-s each; when a rung has finished, the best
floor(n · eta^-i) go on to rung i with eta times the resource, until one (or a few) run with r_max. Each
promotion is a new trial (its own training job) with the same hyperparameters and the larger resource.

Brackets run one after another, and a later bracket starts while an earlier one waits for its rung, so
parallel slots stay busy. A bracket starts only if all of its trials fit in what is left of the trial budget,
so no bracket is cut off before its best configuration gets the full resource.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.training.algorithms import algorithm_get

from .errors import TuningError
from .ranges import IntegerRange
from .resources import Resource, resource_for
from .strategies import Proposal, Strategy, strategy

if TYPE_CHECKING:
    from .tuner import Trial, Tuner


Placed = tuple[dict[str, int], "Trial | None"]  # a placement and its trial (None: proposed in this batch)


@dataclass(frozen=True)
class Bracket:
    s: int
    rungs: tuple[tuple[int, float], ...]  # (configurations, resource) per rung

    @property
    def trials(self) -> int:
        return sum(count for count, _ in self.rungs)


def plan_brackets(minimum: float, maximum: float, eta: int) -> list[Bracket]:
    s_max = int(math.floor(math.log(maximum / minimum) / math.log(eta) + 1e-9))
    brackets = []
    for s in range(s_max, -1, -1):
        n = int(math.ceil((s_max + 1) / (s + 1) * eta**s))
        brackets.append(Bracket(s, tuple((int(n * eta**-i), maximum * eta ** (i - s)) for i in range(s + 1))))
    return brackets


@strategy("hyperband", "Hyperband",
          "Runs many configurations with a small resource (few boosting rounds, trees or epochs, or a share of "
          "the rows) and gives eta times more to the best 1/eta of each rung, in brackets that range from "
          "aggressive to cautious. Finds good configurations for a fraction of the cost of training each fully.",
          {"eta": "reduction factor between rungs (default 3)",
           "resource": "{name, min, max}: the hyperparameter (or row_fraction) spent; default per algorithm"})
class Hyperband(Strategy):
    def __init__(self, tuner: Tuner) -> None:
        super().__init__(tuner)
        self.eta = self.option("eta", 3, 2, 10)
        if tuner.early_stopping == "auto":
            raise TuningError("Hyperband stops weak trials itself; turn early stopping off.", "early_stopping")
        given = tuner.options.get("resource")
        if given is None:
            resource = resource_for(tuner.algorithm)
        elif isinstance(given, str):  # a name alone: the limits come from its range or the algorithm's default
            resource = resource_for(tuner.algorithm)
            if given != resource.name and given not in [entry.name for entry in self.ranges]:
                raise TuningError(f"Give Hyperband's resource {given} a range, or a min and a max.", "resource")
            resource = Resource(given, resource.minimum, resource.maximum) if given == resource.name \
                else Resource(given, 1, 2)  # replaced by the limits of its range just below
        else:
            resource = Resource.from_json(given)
        searched = next((entry for entry in self.ranges if entry.name == resource.name), None)
        if searched is not None:
            # The user's range of the resource hyperparameter gives Hyperband its limits; it is spent, not searched.
            if not isinstance(searched, IntegerRange):
                raise TuningError(f"Hyperband spends {resource.name} as a whole number: give it an integer range.",
                                  resource.name)
            resource = Resource(resource.name, searched.min, searched.max)
            self.ranges = [entry for entry in self.ranges if entry.name != resource.name]
        if resource.whole and tuner.algorithm:
            names = [parameter.name for parameter in algorithm_get(tuner.algorithm).hyperparameters]
            if resource.name not in names:
                raise TuningError(f"Hyperband's resource must be a hyperparameter of the algorithm or row_fraction, "
                                  f"not '{resource.name}'.", "resource")
        self.resource = resource
        tuner.options["resource"] = resource.to_json()
        self.brackets = plan_brackets(resource.minimum, resource.maximum, self.eta)
        if len(self.brackets) < 2:
            raise TuningError(f"Hyperband needs the resource {resource.name} to span at least a factor of eta "
                              f"({self.eta}); {resource.minimum:g} to {resource.maximum:g} does not.", "resource")
        if not self.ranges:
            raise TuningError("Hyperband needs at least one range to search besides its resource.", "ranges")
        smallest = min(bracket.trials for bracket in self.brackets)
        if tuner.max_trials is not None and tuner.max_trials < smallest:
            raise TuningError(f"Hyperband's smallest bracket needs {smallest} trials; allow at least that many "
                              f"(one full pass takes {self.default_max_trials()}).", "max_trials")

    def default_max_trials(self) -> int:
        """One full pass over the brackets."""
        return sum(bracket.trials for bracket in self.brackets)

    def propose(self, count: int) -> list[Proposal]:
        out: list[Proposal] = []
        while len(out) < count:
            proposal = self._next(out)
            if proposal is None:
                break
            out.append(proposal)
        return out

    def exhausted(self) -> bool:
        return self._next([]) is None and not self.tuner.running()

    # --- where the trials stand -----------------------------------------------------------------------------

    def _placed(self, pending: list[Proposal]) -> tuple[dict[tuple[int, int, int], list[Placed]], list[tuple[int, int]]]:
        """The trials (and proposals not yet made trials) of each (iteration, bracket, rung), and the
        (iteration, bracket) pairs in the order they started."""
        rungs: dict[tuple[int, int, int], list[Placed]] = {}
        started: dict[tuple[int, int], None] = {}
        entries: list[Placed] = [(trial.placement, trial) for trial in self.tuner.trials if trial.placement]
        entries.extend((proposal.placement, None) for proposal in pending if proposal.placement)
        for placement, trial in entries:
            rungs.setdefault((placement["iteration"], placement["bracket"], placement["rung"]), []).append(
                (placement, trial))
            started[(placement["iteration"], placement["bracket"])] = None
        return rungs, list(started)

    def _next(self, pending: list[Proposal]) -> Proposal | None:
        placed, started = self._placed(pending)
        for iteration, index in started:
            proposal = self._next_in_bracket(iteration, index, placed)
            if proposal is not None:
                return proposal
        return self._start_bracket(started, placed)

    def _start_bracket(self, started: list[tuple[int, int]],
                       placed: dict[tuple[int, int, int], list[Placed]]) -> Proposal | None:
        assert self.tuner.max_trials is not None
        reserved = sum(self.brackets[index].trials for _, index in started)
        left = self.tuner.max_trials - reserved
        last = started[-1][0] * len(self.brackets) + started[-1][1] if started else -1
        for slot in range(last + 1, last + 1 + len(self.brackets)):
            iteration, index = divmod(slot, len(self.brackets))
            if self.brackets[index].trials <= left:
                return self._next_in_bracket(iteration, index, placed)
        return None

    def _next_in_bracket(self, iteration: int, index: int,
                         placed: dict[tuple[int, int, int], list[Placed]]) -> Proposal | None:
        bracket = self.brackets[index]
        survivors: list[dict[str, Any]] | None = None  # None in rung 0: fresh configurations
        for rung, (count, amount) in enumerate(bracket.rungs):
            here = placed.get((iteration, index, rung), [])
            wanted = count if survivors is None else min(count, len(survivors))
            if len(here) < wanted:
                if survivors is None:
                    config = len(here)
                    params = self._fresh(iteration, index, config)
                else:
                    chosen = survivors[len(here)]
                    config, params = chosen["config"], chosen["params"]
                return self._proposal(params, amount, {"iteration": iteration, "bracket": index, "rung": rung,
                                                       "config": config})
            if any(trial is None or not trial.finished for _, trial in here):
                return None  # the rung is still running: promotions wait for all of it
            survivors = self._promoted(here, bracket.rungs[rung + 1][0] if rung + 1 < len(bracket.rungs) else 0)
        return None

    def _promoted(self, rung: list[Placed], keep: int) -> list[dict[str, Any]]:
        """The configurations of a finished rung that go on: the best `keep` that produced a value."""
        scored = [(self.tuner.loss(trial.value), placement["config"], trial) for placement, trial in rung
                  if trial is not None and trial.value is not None and trial.status in ("completed", "stopped")]
        scored.sort(key=lambda entry: (entry[0], entry[1]))
        return [{"config": config, "params": {name: trial.params[name] for name in self._names()}}
                for _, config, trial in scored[:keep]]

    def _names(self) -> list[str]:
        return [entry.name for entry in self.ranges]

    def _fresh(self, iteration: int, index: int, config: int) -> dict[str, Any]:
        rng = np.random.default_rng([self.tuner.seed, iteration, index, config])
        return {entry.name: entry.sample(rng) for entry in self.ranges}

    def _proposal(self, params: dict[str, Any], amount: float, placement: dict[str, int]) -> Proposal:
        value = self.resource.amount(amount)
        params = dict(params)
        if self.resource.whole:
            params[self.resource.name] = value
        return Proposal(params, {"name": self.resource.name, "value": value}, placement)
