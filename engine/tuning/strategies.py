"""The registry of search strategies, and the two that need no model of the objective: random and grid.

A strategy proposes; it never trains. It is rebuilt from the tuner's configuration and reads the trials so
far from the tuner, so it keeps no state of its own: a tuner restored from its JSON state proposes exactly
what the original would have.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import TuningError
from .ranges import Range, params_key, within

if TYPE_CHECKING:
    from .tuner import Tuner

DISCRETE_ATTEMPTS = 50  # random draws tried before enumerating what is left of a discrete space
MAX_ENUMERATION = 200_000


@dataclass
class Proposal:
    params: dict[str, Any]
    resource: dict[str, Any] | None = None
    placement: dict[str, int] | None = None


@dataclass
class StrategyInfo:
    name: str
    label: str
    description: str
    cls: type[Strategy]
    options: dict[str, str] = field(default_factory=dict)  # option name -> what it does

    def schema(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "description": self.description, "options": self.options}


STRATEGIES: dict[str, StrategyInfo] = {}


def strategy(name: str, label: str, description: str,
             options: dict[str, str] | None = None) -> Callable[[type[Strategy]], type[Strategy]]:
    def register(cls: type[Strategy]) -> type[Strategy]:
        if name in STRATEGIES:
            raise ValueError(f"strategy {name!r} is registered twice")
        STRATEGIES[name] = StrategyInfo(name, label, description, cls, dict(options or {}))
        cls.name = name
        return cls
    return register


def strategy_list() -> list[dict[str, Any]]:
    return [entry.schema() for entry in STRATEGIES.values()]


def strategy_get(name: str) -> StrategyInfo:
    try:
        return STRATEGIES[name]
    except KeyError:
        raise TuningError(f"There is no tuning strategy called '{name!s:.40}'. Choose one of: "
                          f"{', '.join(STRATEGIES)}.", "strategy") from None


class Strategy:
    name = ""

    def __init__(self, tuner: Tuner) -> None:
        self.tuner = tuner
        self.ranges: list[Range] = list(tuner.ranges)  # the ranges this strategy samples

    def capacity(self) -> int | None:
        """The most trials this strategy can ever propose (None: no limit)."""
        return None

    def default_max_trials(self) -> int | None:
        """The trial budget when the user gives none (None: the user must give one)."""
        return self.capacity()

    def propose(self, count: int) -> list[Proposal]:
        """Up to `count` new trials; fewer when the strategy must wait for results first."""
        raise NotImplementedError

    def exhausted(self) -> bool:
        """True when no further trial will ever be proposed, whatever results come in."""
        capacity = self.capacity()
        return capacity is not None and len(self.tuner.trials) >= capacity

    def option(self, name: str, default: int, low: int, high: int) -> int:
        value = self.tuner.options.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value != round(value) \
                or not low <= value <= high:
            raise TuningError(f"The {self.name} option {name} must be a whole number from {low} to {high}.", name)
        self.tuner.options[name] = int(value)
        return int(value)

    def seen(self) -> set[tuple[Any, ...]]:
        """The points already tried, in this job or in the jobs it warm-starts from."""
        points = {params_key(trial.params, self.ranges) for trial in self.tuner.trials}
        points.update(params_key(params, self.ranges) for params, _ in self.tuner.warm_start)
        return points


def discrete_size(ranges: list[Range]) -> int | None:
    """How many points a search space of only integer and categorical ranges has (None: it is continuous)."""
    size = 1
    for entry in ranges:
        if entry.kind == "continuous":
            return None
        size *= entry.size()  # type: ignore[union-attr]
    return size


@strategy("random", "Random search",
          "Draws each trial's values independently, on each range's scale. Trials never wait for each other, "
          "so it parallelises fully; a point already tried (here or in a warm-start job) is not drawn again.")
class RandomSearch(Strategy):
    def capacity(self) -> int | None:
        size = discrete_size(self.ranges)
        if size is None:
            return None
        inside = {params_key(params, self.ranges) for params, _ in self.tuner.warm_start
                  if within(params, self.ranges)}
        return size - len(inside)

    def default_max_trials(self) -> int | None:
        return None

    def propose(self, count: int) -> list[Proposal]:
        seen = self.seen()
        out: list[Proposal] = []
        for offset in range(count):
            params = self._draw(len(self.tuner.trials) + offset, seen)
            if params is None:
                break
            seen.add(params_key(params, self.ranges))
            out.append(Proposal(params))
        return out

    def _draw(self, number: int, seen: set[tuple[Any, ...]]) -> dict[str, Any] | None:
        for attempt in range(DISCRETE_ATTEMPTS):
            rng = np.random.default_rng([self.tuner.seed, number, attempt])
            params = {entry.name: entry.sample(rng) for entry in self.ranges}
            if params_key(params, self.ranges) not in seen:
                return params
        # A nearly exhausted discrete space: choose among the points left.
        size = discrete_size(self.ranges)
        if size is None or size > MAX_ENUMERATION:
            return None
        names = [entry.name for entry in self.ranges]
        left = [dict(zip(names, values, strict=True))
                for values in itertools.product(*(entry.grid() for entry in self.ranges))]
        left = [params for params in left if params_key(params, self.ranges) not in seen]
        if not left:
            return None
        return left[int(np.random.default_rng([self.tuner.seed, number, DISCRETE_ATTEMPTS]).integers(len(left)))]


@strategy("grid", "Grid search",
          "Tries every combination: each categorical value, every integer of an integer range, and evenly "
          "spaced points (on the range's scale) of a continuous range. Points a warm-start job tried are "
          "skipped.",
          {"grid_points": "points per continuous range (default 5)",
           "max_grid_size": "largest grid accepted (default 1000)"})
class GridSearch(Strategy):
    def __init__(self, tuner: Tuner) -> None:
        super().__init__(tuner)
        points = self.option("grid_points", 5, 2, 100)
        limit = self.option("max_grid_size", 1000, 1, 100_000)
        axes = [entry.grid(points) for entry in self.ranges]
        size = math.prod(len(axis) for axis in axes)
        if size > limit:
            widest = sorted(zip(self.ranges, axes, strict=True), key=lambda pair: -len(pair[1]))
            detail = " × ".join(f"{entry.name} {len(axis):,}" for entry, axis in widest)
            raise TuningError(f"The grid has {size:,} combinations ({detail}), more than the {limit:,} allowed. "
                              "Narrow the integer ranges, list fewer categorical values or use fewer points per "
                              "continuous range, or use random or Bayesian search.", "ranges")
        names = [entry.name for entry in self.ranges]
        warm = {params_key(params, self.ranges) for params, _ in tuner.warm_start}
        self.points = [params for values in itertools.product(*axes)
                       if params_key(params := dict(zip(names, values, strict=True)), self.ranges) not in warm]
        if tuner.max_trials is not None and tuner.max_trials < len(self.points):
            raise TuningError(f"The grid has {len(self.points):,} combinations to try but the tuning job may run "
                              f"{tuner.max_trials:,} trials. Raise the limit to {len(self.points):,} (or leave it "
                              "empty), or narrow the grid.", "max_trials")

    def capacity(self) -> int:
        return len(self.points)

    def propose(self, count: int) -> list[Proposal]:
        start = len(self.tuner.trials)
        return [Proposal(dict(params)) for params in self.points[start:start + count]]
