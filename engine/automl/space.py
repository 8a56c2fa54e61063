"""The conditional search space of AutoML, derived from the algorithm registry: first the algorithm, then that
algorithm's searchable hyperparameters (their declared search ranges, log scales and choices), then the
preprocessing choices that are not already decided by the algorithm (how many categories one-hot encoding
takes before a column is coded by order or frequency; scaling and missing values follow the algorithm).

Parameters are named `<algorithm>.<hyperparameter>` so that each algorithm's branch has its own
distributions; a nullable hyperparameter (no limit) adds a `<algorithm>.<hyperparameter>.limited` switch.
"""

from __future__ import annotations

import math
from typing import Any

from engine.training.algorithms import Algorithm, algorithm_get
from engine.training.features import MAX_ONE_HOT
from engine.training.hyperparams import Hyperparameter

ALGORITHM = "algorithm"
MAX_ONE_HOT_CHOICES = (5, MAX_ONE_HOT, 100)


def _key(algorithm: str, name: str) -> str:
    return f"{algorithm}.{name}"


def _numeric(parameter: Hyperparameter) -> tuple[float, float, bool] | None:
    bounds = parameter.search_bounds
    if bounds is None:
        return None
    low, high, log = bounds
    if log and low <= 0:  # a log scale needs a positive floor
        low = high / 1e6
    return low, high, log


def distributions(algorithm: Algorithm) -> dict[str, Any]:
    """The Optuna distribution of every parameter of this algorithm's branch (the algorithm choice aside)."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    out: dict[str, Any] = {}
    for parameter in algorithm.hyperparameters:
        if not parameter.searchable:
            continue
        key = _key(algorithm.name, parameter.name)
        choices = parameter.search_choices or parameter.choices
        if parameter.kind == "boolean":
            out[key] = CategoricalDistribution((False, True))
        elif choices:
            out[key] = CategoricalDistribution(tuple(choices))
        elif (bounds := _numeric(parameter)) is not None:
            low, high, log = bounds
            if parameter.kind == "integer":
                out[key] = IntDistribution(max(1, math.ceil(low)) if log else math.ceil(low), int(high), log=log)
            else:
                out[key] = FloatDistribution(low, high, log=log)
        else:
            continue
        if parameter.nullable:
            out[f"{key}.limited"] = CategoricalDistribution((False, True))
    out[_key(algorithm.name, "max_one_hot")] = CategoricalDistribution(MAX_ONE_HOT_CHOICES)
    return out


def suggest(trial: Any, algorithms: list[str]) -> dict[str, Any]:
    """Sample one candidate: {"algorithm", "hyperparameters", "preprocessing"}. Hyperparameters that are not
    searched keep their registry defaults (filled in when the model is fitted)."""
    name = trial.suggest_categorical(ALGORITHM, algorithms)
    algorithm = algorithm_get(name)
    space = distributions(algorithm)
    hyperparameters: dict[str, Any] = {}
    for parameter in algorithm.hyperparameters:
        key = _key(name, parameter.name)
        if key not in space:
            continue
        if parameter.nullable and not _suggest(trial, f"{key}.limited", space[f"{key}.limited"]):
            hyperparameters[parameter.name] = None
            continue
        hyperparameters[parameter.name] = _suggest(trial, key, space[key])
    max_one_hot = _suggest(trial, _key(name, "max_one_hot"), space[_key(name, "max_one_hot")])
    return {"algorithm": name, "hyperparameters": hyperparameters, "preprocessing": {"max_one_hot": max_one_hot}}


def _suggest(trial: Any, key: str, distribution: Any) -> Any:
    from optuna.distributions import CategoricalDistribution, IntDistribution

    if isinstance(distribution, CategoricalDistribution):
        return trial.suggest_categorical(key, distribution.choices)
    if isinstance(distribution, IntDistribution):
        return trial.suggest_int(key, distribution.low, distribution.high, log=distribution.log)
    return trial.suggest_float(key, distribution.low, distribution.high, log=distribution.log)


def _contains(distribution: Any, value: Any) -> bool:
    from optuna.distributions import CategoricalDistribution

    if isinstance(distribution, CategoricalDistribution):
        return value in distribution.choices
    return isinstance(value, int | float) and distribution.low <= value <= distribution.high


def default_params(algorithm: Algorithm) -> dict[str, Any]:
    """The Optuna parameters of the registry's defaults, or its search start where the algorithm gives one
    (each where it lies in the searched range), so that every algorithm is first tried at a known good point."""
    space = distributions(algorithm)
    params: dict[str, Any] = {ALGORITHM: algorithm.name}
    for parameter in algorithm.hyperparameters:
        key = _key(algorithm.name, parameter.name)
        if key not in space:
            continue
        start = algorithm.search_start.get(parameter.name, parameter.default)
        if parameter.nullable:
            params[f"{key}.limited"] = start is not None
            if start is None:
                continue
        if _contains(space[key], start):
            params[key] = start
    params[_key(algorithm.name, "max_one_hot")] = MAX_ONE_HOT
    return params


def trial_distributions(params: dict[str, Any], algorithms: list[str]) -> dict[str, Any]:
    """The distributions of a finished trial's parameters, to hand a resumed study its earlier trials."""
    from optuna.distributions import CategoricalDistribution

    space = distributions(algorithm_get(params[ALGORITHM]))
    out: dict[str, Any] = {ALGORITHM: CategoricalDistribution(tuple(algorithms))}
    out.update({key: space[key] for key in params if key in space})
    return out
