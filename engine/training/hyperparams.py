"""Typed hyperparameters: the form of a training job, the API's schema, the checks of submitted values and
the default search range that tuning and AutoML start from all come from one declaration."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .errors import TrainingError

KINDS = ("integer", "number", "choice", "boolean", "string")


@dataclass(frozen=True)
class Hyperparameter:
    name: str
    kind: str
    default: Any
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    log: bool = False  # searched on a log scale (learning rates, regularisation strengths)
    choices: tuple[Any, ...] = ()
    nullable: bool = False  # empty means "no limit" (e.g. max_depth of a forest)
    searchable: bool = True  # tuning and AutoML search it unless told otherwise
    # Where tuning and AutoML look when the allowed range is much wider than the useful one (e.g. 1 to 5000
    # trees are allowed; 20 to 1000 are worth trying in a time budget). None: search minimum..maximum.
    search_range: tuple[float, float] | None = None
    search_log: bool | None = None  # None: as `log`
    search_choices: tuple[Any, ...] = ()  # values worth trying for a free-form (string) hyperparameter

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown hyperparameter kind {self.kind!r}")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"choice hyperparameter {self.name!r} needs choices")

    @property
    def search_bounds(self) -> tuple[float, float, bool] | None:
        """(low, high, log scale) of the numeric range tuning and AutoML search, or None when not numeric."""
        if self.kind not in ("integer", "number"):
            return None
        low, high = self.search_range or (self.minimum, self.maximum)
        if low is None or high is None:
            return None
        return float(low), float(high), self.log if self.search_log is None else self.search_log

    @property
    def label(self) -> str:
        return self.name.replace("_", " ").capitalize()

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "label": self.label, "default": self.default,
                               "help": self.help, "nullable": self.nullable, "log": self.log}
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        if self.choices:
            out["choices"] = list(self.choices)
        return out

    def clean(self, value: Any) -> Any:
        """The value as its kind, or a TrainingError that says what to enter."""
        if value is None or (isinstance(value, str) and not value.strip()):
            if self.nullable:
                return None
            return self.default
        if self.kind == "boolean":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"true", "1", "yes", "on"}:
                return True
            if text in {"false", "0", "no", "off"}:
                return False
            raise TrainingError(f"{self.label} must be true or false, not '{value!s:.40}'.", self.name)
        if self.kind == "choice":
            for choice in self.choices:
                if str(choice) == str(value).strip():
                    return choice
            raise TrainingError(f"{self.label} must be one of {', '.join(map(str, self.choices))}, "
                                f"not '{value!s:.40}'.", self.name)
        if self.kind == "string":
            return str(value).strip()[:200]
        number = self._number(value)
        if self.minimum is not None and number < self.minimum:
            raise TrainingError(f"{self.label} must be at least {_show(self.minimum)}; got {_show(number)}.", self.name)
        if self.maximum is not None and number > self.maximum:
            raise TrainingError(f"{self.label} must be at most {_show(self.maximum)}; got {_show(number)}.", self.name)
        return number

    def _number(self, value: Any) -> int | float:
        if isinstance(value, bool):
            raise TrainingError(f"{self.label} must be a number, not {value}.", self.name)
        try:
            number = float(str(value).strip()) if not isinstance(value, int | float) else float(value)
        except ValueError:
            raise TrainingError(f"{self.label} must be a number, not '{value!s:.40}'.", self.name) from None
        if not math.isfinite(number):
            raise TrainingError(f"{self.label} must be a finite number.", self.name)
        if self.kind == "integer":
            if number != round(number):
                raise TrainingError(f"{self.label} must be a whole number; got {_show(number)}.", self.name)
            return int(round(number))
        return number


def _show(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


def clean_hyperparameters(declared: tuple[Hyperparameter, ...], given: dict[str, Any] | None,
                          algorithm: str) -> dict[str, Any]:
    """Every declared hyperparameter with its cleaned value (defaults for the ones not given); an unknown
    name is an error, so a typo never silently trains with the default."""
    given = dict(given or {})
    known = {parameter.name: parameter for parameter in declared}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise TrainingError(f"{algorithm} has no hyperparameter called '{unknown[0]}'. It has: "
                            f"{', '.join(known) or 'none'}.", unknown[0])
    return {name: parameter.clean(given.get(name, parameter.default)) for name, parameter in known.items()}
