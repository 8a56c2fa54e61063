"""The hyperparameter ranges a tuning job searches: continuous, integer and categorical ranges, read from
JSON (SageMaker's ParameterRanges shape or a simpler one), checked against the algorithm's declared
hyperparameters, and derived from those declarations when the user gives none."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from engine.training.algorithms import algorithm_get
from engine.training.errors import TrainingError
from engine.training.hyperparams import Hyperparameter

from .errors import TuningError

SCALES = ("linear", "log")
MAX_CATEGORIES = 1000
# SageMaker's ScalingType names; "Auto" takes the hyperparameter's own scale when the algorithm is known.
SAGEMAKER_SCALES = {"linear": "linear", "logarithmic": "log", "log": "log", "auto": "auto"}
SAGEMAKER_KEYS = {"ContinuousParameterRanges": "continuous", "IntegerParameterRanges": "integer",
                  "CategoricalParameterRanges": "categorical"}


def _number(value: Any, name: str, what: str) -> float:
    if isinstance(value, bool) or value is None:
        raise TuningError(f"The {what} of the {name} range must be a number, not {value!r:.40}.", name)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TuningError(f"The {what} of the {name} range must be a number, not '{value!s:.40}'.", name) from None
    if not math.isfinite(number):
        raise TuningError(f"The {what} of the {name} range must be a finite number.", name)
    return number


def _whole(value: Any, name: str, what: str) -> int:
    number = _number(value, name, what)
    if number != round(number):
        raise TuningError(f"The {what} of the integer range {name} must be a whole number; got {number:g}.", name)
    return int(round(number))


def _check_bounds(name: str, low: float, high: float, scale: str, smallest_log: float) -> None:
    if not name:
        raise TuningError("Every range needs the name of the hyperparameter it searches.", "ranges")
    if scale not in SCALES:
        raise TuningError(f"The scale of the {name} range must be linear or log, not '{scale!s:.40}'.", name)
    if low > high:
        raise TuningError(f"The {name} range starts above where it ends ({low:g} > {high:g}); swap them.", name)
    if scale == "log" and low < smallest_log:
        raise TuningError(f"The {name} range is on a log scale, so it must start at {smallest_log:g} or above; "
                          f"it starts at {low:g}. Raise the minimum or use a linear scale.", name)


@dataclass(frozen=True)
class ContinuousRange:
    name: str
    min: float
    max: float
    scale: str = "linear"
    kind: ClassVar[str] = "continuous"

    def __post_init__(self) -> None:
        object.__setattr__(self, "min", _number(self.min, self.name, "minimum"))
        object.__setattr__(self, "max", _number(self.max, self.name, "maximum"))
        _check_bounds(self.name, self.min, self.max, self.scale, smallest_log=math.ulp(0.0))

    def _to_unit(self, value: float) -> float:
        if self.max == self.min:
            return 0.0
        if self.scale == "log":
            return (math.log(value) - math.log(self.min)) / (math.log(self.max) - math.log(self.min))
        return (value - self.min) / (self.max - self.min)

    def _from_unit(self, unit: float) -> float:
        if unit <= 0 or unit >= 1:
            return self.min if unit <= 0 else self.max
        if self.scale == "log":
            value = math.exp(math.log(self.min) + unit * (math.log(self.max) - math.log(self.min)))
        else:
            value = self.min + unit * (self.max - self.min)
        return min(self.max, max(self.min, value))

    def sample(self, rng: np.random.Generator) -> float:
        return self._from_unit(float(rng.uniform()))

    def contains(self, value: Any) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool) and self.min <= value <= self.max

    def grid(self, points: int = 5) -> list[float]:
        """`points` values evenly spaced on the range's scale, both ends included."""
        if points <= 1 or self.min == self.max:
            return [self._from_unit(0.5 if points == 1 else 0.0)]
        return [self._from_unit(step / (points - 1)) for step in range(points)]

    def position(self, value: Any) -> float:
        """Where a value lies in the range, from 0 to 1 on its scale (for charts and distances)."""
        return self._to_unit(float(value))

    def distribution(self) -> Any:
        from optuna.distributions import FloatDistribution

        return FloatDistribution(self.min, self.max, log=self.scale == "log")

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.kind, "min": self.min, "max": self.max, "scale": self.scale}


@dataclass(frozen=True)
class IntegerRange:
    name: str
    min: int
    max: int
    scale: str = "linear"
    kind: ClassVar[str] = "integer"

    def __post_init__(self) -> None:
        object.__setattr__(self, "min", _whole(self.min, self.name, "minimum"))
        object.__setattr__(self, "max", _whole(self.max, self.name, "maximum"))
        _check_bounds(self.name, self.min, self.max, self.scale, smallest_log=1)

    def sample(self, rng: np.random.Generator) -> int:
        if self.scale == "log":
            # As Optuna does: uniform in log space over [min - 0.5, max + 0.5], so every integer gets the share
            # of the log axis that rounds to it.
            low, high = math.log(self.min - 0.5), math.log(self.max + 0.5)
            value = round(math.exp(float(rng.uniform(low, high))))
            return int(min(self.max, max(self.min, value)))
        return int(rng.integers(self.min, self.max + 1))

    def contains(self, value: Any) -> bool:
        return (isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer()
                and self.min <= value <= self.max)

    def size(self) -> int:
        return self.max - self.min + 1

    def grid(self, points: int | None = None) -> list[int]:
        """Every integer of the range: a grid over integers is exact."""
        return list(range(self.min, self.max + 1))

    def position(self, value: Any) -> float:
        if self.max == self.min:
            return 0.0
        if self.scale == "log":
            return (math.log(value) - math.log(self.min)) / (math.log(self.max) - math.log(self.min))
        return (float(value) - self.min) / (self.max - self.min)

    def distribution(self) -> Any:
        from optuna.distributions import IntDistribution

        return IntDistribution(self.min, self.max, log=self.scale == "log")

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.kind, "min": self.min, "max": self.max, "scale": self.scale}


@dataclass(frozen=True)
class CategoricalRange:
    name: str
    values: tuple[Any, ...]
    kind: ClassVar[str] = "categorical"

    def __post_init__(self) -> None:
        if not self.name:
            raise TuningError("Every range needs the name of the hyperparameter it searches.", "ranges")
        if isinstance(self.values, str | bytes) or not isinstance(self.values, Iterable):
            raise TuningError(f"The {self.name} range needs a list of values.", self.name)
        values = tuple(self.values)
        if not values:
            raise TuningError(f"The categorical range {self.name} needs at least one value.", self.name)
        if len(values) > MAX_CATEGORIES:
            raise TuningError(f"The categorical range {self.name} has {len(values):,} values; at most "
                              f"{MAX_CATEGORIES:,} are allowed.", self.name)
        for value in values:
            if not (value is None or isinstance(value, str | bool | int | float)):
                raise TuningError(f"The values of the {self.name} range must be text, numbers, true/false or "
                                  f"empty, not {type(value).__name__}.", self.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise TuningError(f"The values of the {self.name} range must be finite numbers.", self.name)
        keys = [_key(value) for value in values]
        if len(set(keys)) != len(keys):
            repeated = next(value for value in values if keys.count(_key(value)) > 1)
            raise TuningError(f"The categorical range {self.name} lists '{repeated}' more than once.", self.name)
        object.__setattr__(self, "values", values)

    def sample(self, rng: np.random.Generator) -> Any:
        return self.values[int(rng.integers(len(self.values)))]

    def contains(self, value: Any) -> bool:
        return _key(value) in {_key(choice) for choice in self.values}

    def size(self) -> int:
        return len(self.values)

    def grid(self, points: int | None = None) -> list[Any]:
        return list(self.values)

    def position(self, value: Any) -> float:
        keys = [_key(choice) for choice in self.values]
        index = keys.index(_key(value)) if _key(value) in keys else 0
        return index / (len(keys) - 1) if len(keys) > 1 else 0.0

    def distribution(self) -> Any:
        from optuna.distributions import CategoricalDistribution

        return CategoricalDistribution(self.values)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.kind, "values": list(self.values)}


Range = ContinuousRange | IntegerRange | CategoricalRange


def _key(value: Any) -> tuple[str, str]:
    """A comparable identity of a value: 3, 3.0 and "3" differ in type but a category of 3 matches 3.0."""
    if isinstance(value, bool) or value is None:
        return ("literal", repr(value))
    if isinstance(value, int | float):
        return ("number", repr(float(value)))
    return ("text", str(value))


def params_key(params: dict[str, Any], ranges: list[Range]) -> tuple[Any, ...]:
    """An identity of a point of the search space, so the same point is recognised however it was written
    (floats compared to 12 significant digits)."""
    out: list[Any] = []
    for entry in ranges:
        value = params.get(entry.name)
        if isinstance(value, float) and entry.kind != "categorical":
            out.append(("number", f"{value:.12g}"))
        elif isinstance(value, int) and not isinstance(value, bool) and entry.kind == "continuous":
            out.append(("number", f"{float(value):.12g}"))
        else:
            out.append(_key(value))
    return tuple(out)


# --- parsing ----------------------------------------------------------------------------------------------

def parse_ranges(data: Any, algorithm: str | None = None) -> list[Range]:
    """Ranges from JSON: SageMaker's {"ContinuousParameterRanges": [{"Name", "MinValue", "MaxValue",
    "ScalingType"}], "IntegerParameterRanges": [...], "CategoricalParameterRanges": [{"Name", "Values"}]},
    a list of {"name", "type", "min", "max", "scale"} / {"name", "values"}, or a mapping of name to
    {"min", "max", "scale"} or to a list of values. When `algorithm` is given the ranges are also checked
    against its hyperparameters (see `check_ranges`)."""
    declared = _declared(algorithm)
    if isinstance(data, list | tuple) and all(isinstance(entry, ContinuousRange | IntegerRange | CategoricalRange)
                                              for entry in data):
        ranges: list[Range] = list(data)
    elif isinstance(data, dict) and data and set(data) <= set(SAGEMAKER_KEYS):
        ranges = []
        for key, kind in SAGEMAKER_KEYS.items():
            entries = data.get(key) or []
            if not isinstance(entries, list):
                raise TuningError(f"{key} must be a list of ranges.", "ranges")
            ranges.extend(_sagemaker_range(entry, kind, declared) for entry in entries)
    elif isinstance(data, dict):
        ranges = [_simple_range({"name": name, "values": spec} if isinstance(spec, list | tuple)
                                else {**_mapping(spec, str(name)), "name": name}, declared)
                  for name, spec in data.items()]
    elif isinstance(data, list | tuple):
        ranges = [_simple_range(_mapping(entry, "ranges"), declared) for entry in data]
    else:
        raise TuningError("The ranges must be a list of ranges or SageMaker's ParameterRanges object.", "ranges")
    if not ranges:
        raise TuningError("Give at least one hyperparameter range to search.", "ranges")
    names = [entry.name for entry in ranges]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise TuningError(f"The hyperparameter {repeated[0]} has more than one range; keep one.", repeated[0])
    return check_ranges(ranges, algorithm) if algorithm else ranges


def _mapping(entry: Any, field: str) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise TuningError(f"Each range must be an object with a name, not '{entry!s:.40}'.", field)
    return entry


def _declared(algorithm: str | None) -> dict[str, Hyperparameter]:
    if not algorithm:
        return {}
    try:
        return {parameter.name: parameter for parameter in algorithm_get(algorithm).hyperparameters}
    except TrainingError as error:
        raise TuningError(error.message, "algorithm") from None


def _scale(text: Any, name: str, declared: dict[str, Hyperparameter]) -> str:
    scale = SAGEMAKER_SCALES.get(str(text or "auto").strip().lower())
    if scale is None:
        if str(text).strip().lower() == "reverselogarithmic":
            raise TuningError(f"The {name} range asks for a reverse logarithmic scale, which is not supported; "
                              "use linear or logarithmic.", name)
        raise TuningError(f"The scale of the {name} range must be Linear, Logarithmic or Auto, not "
                          f"'{text!s:.40}'.", name)
    if scale == "auto":
        parameter = declared.get(name)
        return "log" if parameter is not None and parameter.log else "linear"
    return scale


def _sagemaker_range(entry: Any, kind: str, declared: dict[str, Hyperparameter]) -> Range:
    entry = _mapping(entry, "ranges")
    name = str(entry.get("Name") or "").strip()
    if not name:
        raise TuningError("Every range needs a Name: the hyperparameter it searches.", "ranges")
    if kind == "categorical":
        if "Values" not in entry:
            raise TuningError(f"The categorical range {name} needs Values.", name)
        return CategoricalRange(name, tuple(entry["Values"] or ()))
    for key in ("MinValue", "MaxValue"):
        if key not in entry:
            raise TuningError(f"The {kind} range {name} needs a {key}.", name)
    scale = _scale(entry.get("ScalingType"), name, declared)
    if kind == "integer":
        return IntegerRange(name, entry["MinValue"], entry["MaxValue"], scale)
    return ContinuousRange(name, entry["MinValue"], entry["MaxValue"], scale)


def _simple_range(entry: dict[str, Any], declared: dict[str, Hyperparameter]) -> Range:
    name = str(entry.get("name") or "").strip()
    if not name:
        raise TuningError("Every range needs a name: the hyperparameter it searches.", "ranges")
    kind = str(entry.get("type") or "").strip().lower()
    if not kind:
        if "values" in entry:
            kind = "categorical"
        elif "min" in entry and "max" in entry:
            parameter = declared.get(name)
            whole = all(isinstance(entry[key], int) and not isinstance(entry[key], bool) for key in ("min", "max"))
            kind = parameter.kind if parameter is not None and parameter.kind in ("integer", "number") \
                else ("integer" if whole else "continuous")
            kind = "continuous" if kind == "number" else kind
        else:
            raise TuningError(f"The {name} range needs a minimum and a maximum, or a list of values.", name)
    if kind == "categorical":
        values = entry.get("values")
        if not isinstance(values, list | tuple):
            raise TuningError(f"The categorical range {name} needs a list of values.", name)
        return CategoricalRange(name, tuple(values))
    if kind not in ("continuous", "integer"):
        raise TuningError(f"The type of the {name} range must be continuous, integer or categorical, not "
                          f"'{kind:.40}'.", name)
    for key in ("min", "max"):
        if key not in entry:
            raise TuningError(f"The {kind} range {name} needs a {'minimum' if key == 'min' else 'maximum'}.", name)
    scale = _scale(entry.get("scale"), name, declared)
    if kind == "integer":
        return IntegerRange(name, entry["min"], entry["max"], scale)
    return ContinuousRange(name, entry["min"], entry["max"], scale)


def ranges_to_json(ranges: list[Range]) -> list[dict[str, Any]]:
    return [entry.to_json() for entry in ranges]


def ranges_to_sagemaker(ranges: list[Range]) -> dict[str, list[dict[str, Any]]]:
    """SageMaker's ParameterRanges shape, for export and for users who know it."""
    out: dict[str, list[dict[str, Any]]] = {key: [] for key in SAGEMAKER_KEYS}
    for entry in ranges:
        if isinstance(entry, CategoricalRange):
            out["CategoricalParameterRanges"].append({"Name": entry.name, "Values": [str(v) for v in entry.values]})
        else:
            key = "IntegerParameterRanges" if isinstance(entry, IntegerRange) else "ContinuousParameterRanges"
            out[key].append({"Name": entry.name, "MinValue": str(entry.min), "MaxValue": str(entry.max),
                             "ScalingType": "Logarithmic" if entry.scale == "log" else "Linear"})
    return out


# --- the algorithm's point of view ------------------------------------------------------------------------

def check_ranges(ranges: list[Range], algorithm: str) -> list[Range]:
    """The ranges, with categorical values converted to the hyperparameters' kinds, once every name is a
    hyperparameter of the algorithm and every value the range can produce is one the training form accepts."""
    declared = _declared(algorithm)
    label = algorithm_get(algorithm).label
    out: list[Range] = []
    for entry in ranges:
        parameter = declared.get(entry.name)
        if parameter is None:
            raise TuningError(f"{label} has no hyperparameter called '{entry.name}'. It has: "
                              f"{', '.join(declared)}.", entry.name)
        out.append(_check_range(entry, parameter))
    return out


def _clean(parameter: Hyperparameter, value: Any, what: str) -> Any:
    try:
        return parameter.clean(value)
    except TrainingError as error:
        raise TuningError(f"The {what} of the {parameter.name} range is not accepted: {error.message}",
                          parameter.name) from None


def _check_range(entry: Range, parameter: Hyperparameter) -> Range:
    if isinstance(entry, CategoricalRange):
        cleaned = [_clean(parameter, value, f"value '{value}'") for value in entry.values]
        if parameter.kind == "string":
            cleaned = [str(value) for value in entry.values]
        return CategoricalRange(entry.name, tuple(cleaned))
    if parameter.kind not in ("integer", "number"):
        raise TuningError(f"{parameter.label} is a {parameter.kind} hyperparameter: search it with a categorical "
                          "range (a list of values), not a minimum and a maximum.", entry.name)
    if parameter.kind == "integer" and isinstance(entry, ContinuousRange):
        raise TuningError(f"{parameter.label} takes whole numbers: search it with an integer range.", entry.name)
    _clean(parameter, entry.min, "minimum")
    _clean(parameter, entry.max, "maximum")
    return entry


# Search ranges narrower than what the form accepts, where the declared limits are far wider than anyone
# tunes over (1 to 5,000 boosting rounds, leaves of 1 to 1,000 rows). Keys are "algorithm.name" or "name";
# each is clipped to the declared limits.
SEARCH_DEFAULTS: dict[str, tuple[float, float, bool]] = {
    "n_estimators": (50, 500, True),
    "max_iter": (50, 500, True),
    "max_depth": (2, 12, False),
    "learning_rate": (0.01, 0.5, True),
    "mlp.learning_rate": (1e-4, 1e-2, True),
    "min_child_weight": (0.1, 20.0, True),
    "reg_lambda": (1e-3, 10.0, True),
    "reg_alpha": (1e-3, 10.0, True),
    "gamma": (0.0, 5.0, False),
    "l2_regularization": (0.0, 10.0, False),
    "min_samples_leaf": (1, 50, True),
    "max_leaf_nodes": (8, 256, True),
    "n_neighbors": (1, 50, True),
    "n_clusters": (2, 20, False),
    "n_init": (1, 10, False),
    "n_components": (1, 10, False),
    "max_samples": (64, 1024, True),
    "epochs": (10, 100, True),
    "batch_size": (16, 512, True),
    "weight_decay": (0.0, 0.01, False),
    "dropout": (0.0, 0.5, False),
    "epsilon": (0.0, 1.0, False),
}
SEARCH_CHOICES: dict[str, tuple[Any, ...]] = {"hidden_layers": ("32", "64,32", "128,64", "256,128,64")}


def default_ranges(algorithm: str) -> list[Range]:
    """A range for every searchable hyperparameter of the algorithm: its choices, true/false, or its declared
    limits (narrowed by SEARCH_DEFAULTS to what is usually worth searching). A nullable number (e.g. a
    forest's depth limit) is searched over numbers only."""
    entry = algorithm_get(algorithm)
    out: list[Range] = []
    for parameter in entry.hyperparameters:
        if not parameter.searchable:
            continue
        if parameter.kind == "choice":
            out.append(CategoricalRange(parameter.name, parameter.choices))
        elif parameter.kind == "boolean":
            out.append(CategoricalRange(parameter.name, (False, True)))
        elif parameter.kind == "string":
            if parameter.name in SEARCH_CHOICES:
                out.append(CategoricalRange(parameter.name, SEARCH_CHOICES[parameter.name]))
        elif parameter.minimum is not None and parameter.maximum is not None:
            out.append(_numeric_default(entry.name, parameter))
    return out


def _numeric_default(algorithm: str, parameter: Hyperparameter) -> Range:
    assert parameter.minimum is not None and parameter.maximum is not None
    low, high, log = parameter.minimum, parameter.maximum, parameter.log
    narrowed = SEARCH_DEFAULTS.get(f"{algorithm}.{parameter.name}") or SEARCH_DEFAULTS.get(parameter.name)
    if narrowed is not None:
        low, high = max(low, narrowed[0]), min(high, narrowed[1])
        log = narrowed[2] if low > 0 else False
        if low > high:
            low, high = parameter.minimum, parameter.maximum
    scale = "log" if log and low > 0 else "linear"
    if parameter.kind == "integer":
        return IntegerRange(parameter.name, int(math.ceil(low)), int(math.floor(high)), scale)
    return ContinuousRange(parameter.name, float(low), float(high), scale)


def within(params: dict[str, Any], ranges: list[Range]) -> bool:
    """True when `params` gives a value inside every range."""
    return all(entry.name in params and entry.contains(params[entry.name]) for entry in ranges)
