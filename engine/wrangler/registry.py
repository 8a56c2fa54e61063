"""The registry of transforms: every transform is registered by name with a family, a typed parameter schema,
a one-line description and an example, so the flow builder, the API, the docs and the tests list one set.

A transform is a plain function `name(df, params, state) -> DataFrame` that never mutates `df` (take
`out = df.copy(deep=False)` and assign columns: pandas' copy-on-write keeps the input intact). A stateful
transform also registers a fitter, `fit(df, params) -> state`, run on the training rows only; the state is
plain JSON so a fitted flow is a JSON artifact and an exported script can carry it as a literal.

The exported script (engine/wrangler/export.py) copies each used transform's source, so a transform's
function may use only pandas (pd), numpy (np), the standard library modules it imports inside its body,
and the helpers it names in `uses`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .errors import TransformError

TransformFunction = Callable[[pd.DataFrame, dict[str, Any], dict[str, Any]], pd.DataFrame]
FitFunction = Callable[[pd.DataFrame, dict[str, Any]], dict[str, Any]]

PARAM_KINDS = (
    "column",  # one column of the data at this step
    "columns",  # a non-empty list of columns
    "string",
    "integer",
    "number",
    "boolean",
    "choice",  # one of `choices`
    "string_list",
    "mapping",  # {string: string}
    "expression",  # the safe formula language (engine/wrangler/formula.py)
    "code",  # Python source, for custom code steps only (run in a limited child process)
    "dataset",  # another dataset version, by reference; the studio resolves it
)


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    label: str = ""
    help: str = ""
    required: bool = True
    default: Any = None
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    dtype: str = ""  # for column params: "numeric", "text", "datetime" or "" (any)

    def __post_init__(self) -> None:
        if self.kind not in PARAM_KINDS:
            raise ValueError(f"unknown parameter kind {self.kind!r}")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"choice parameter {self.name!r} needs choices")

    def schema(self) -> dict[str, Any]:
        """The parameter as JSON, for the API and the flow builder's forms."""
        out: dict[str, Any] = {
            "name": self.name, "kind": self.kind, "label": self.label or self.name.replace("_", " ").capitalize(),
            "help": self.help, "required": self.required, "default": self.default,
        }
        if self.choices:
            out["choices"] = list(self.choices)
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        if self.dtype:
            out["dtype"] = self.dtype
        return out


@dataclass
class Transform:
    name: str
    family: str
    description: str
    params: tuple[Param, ...]
    function: TransformFunction
    example: dict[str, Any]
    fit: FitFunction | None = None
    row_local: bool = True  # each output row depends only on its input row (and the fitted state)
    uses: tuple[Callable[..., Any], ...] = ()
    marks_split: bool = False  # adds the train/validation/test column later fitters read
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def stateful(self) -> bool:
        return self.fit is not None

    def schema(self) -> dict[str, Any]:
        return {
            "name": self.name, "family": self.family, "description": self.description,
            "params": [param.schema() for param in self.params], "stateful": self.stateful,
            "row_local": self.row_local, "example": self.example,
            "worker_only": bool(self.extra.get("worker_only")),
        }


TRANSFORMS: dict[str, Transform] = {}
FAMILIES = (
    "Handle missing", "Encode categorical", "Numeric", "Outliers", "Text", "Datetime", "Time series",
    "Columns", "Rows", "Combine", "Reshape", "Balance", "Dimensionality", "Clean categories", "Split", "Custom",
)


def transform(
    name: str, *, family: str, description: str, params: Sequence[Param] = (), example: dict[str, Any] | None = None,
    row_local: bool = True, uses: Sequence[Callable[..., Any]] = (), marks_split: bool = False,
) -> Callable[[TransformFunction], TransformFunction]:
    """Register a transform. `example` is parameters that work on the shared sample frame
    (engine/wrangler/sample.py); the tests run every transform with it, in the studio and as an exported script."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ValueError(f"transform names are snake_case: {name!r}")

    def register(function: TransformFunction) -> TransformFunction:
        if name in TRANSFORMS:
            raise ValueError(f"transform {name!r} is registered twice")
        if function.__name__ != name:
            raise ValueError(f"the function of transform {name!r} must be called {name!r} (the exported script uses it)")
        TRANSFORMS[name] = Transform(
            name, family, description, tuple(params), function, dict(example or {}), None, row_local, tuple(uses),
            marks_split,
        )
        return function

    return register


def fitter(name: str) -> Callable[[FitFunction], FitFunction]:
    """Register the fitter of an already registered transform."""

    def register(function: FitFunction) -> FitFunction:
        TRANSFORMS[name].fit = function
        return function

    return register


def transform_get(name: str) -> Transform:
    _load()
    try:
        return TRANSFORMS[name]
    except KeyError:
        raise TransformError(f"There is no transform called {name!r}.", param="transform") from None


def transform_list() -> list[Transform]:
    _load()
    order = {family: index for index, family in enumerate(FAMILIES)}
    return sorted(TRANSFORMS.values(), key=lambda item: (order[item.family], item.name))


def _load() -> None:
    from . import transforms  # noqa: F401  (registers every family)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def params_check(spec: Transform, params: dict[str, Any], columns: Sequence[str]) -> dict[str, Any]:
    """Parameters with defaults filled in, checked against the schema and the columns present at this step.
    Raises TransformError naming the parameter and saying what to change."""
    known = {param.name for param in spec.params}
    unknown = sorted(set(params) - known)
    if unknown:
        raise TransformError(f"{spec.name} has no parameter {unknown[0]!r}.", param=unknown[0])
    checked: dict[str, Any] = {}
    present = list(columns)
    for param in spec.params:
        label = param.label or param.name.replace("_", " ")
        value = params.get(param.name, param.default)
        if value is None or value == "" or value == []:
            if param.required:
                raise TransformError(f"Set {label!r}.", param=param.name)
            checked[param.name] = param.default
            continue
        if param.kind == "column":
            if not isinstance(value, str):
                raise TransformError(f"{label!r} must be one column name.", param=param.name)
            if value not in present:
                raise TransformError(_missing_column(value, present), param=param.name)
        elif param.kind == "columns":
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise TransformError(f"{label!r} must be a list of column names.", param=param.name)
            for item in value:
                if item not in present:
                    raise TransformError(_missing_column(item, present), param=param.name)
        elif param.kind == "integer":
            if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
                value = int(value)
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if not isinstance(value, int) or isinstance(value, bool):
                raise TransformError(f"{label!r} must be a whole number, not {value!r}.", param=param.name)
        elif param.kind == "number":
            if isinstance(value, str):
                try:
                    value = float(value)
                except ValueError:
                    raise TransformError(f"{label!r} must be a number, not {value!r}.", param=param.name) from None
            if not _is_number(value):
                raise TransformError(f"{label!r} must be a finite number, not {value!r}.", param=param.name)
        elif param.kind == "boolean":
            if isinstance(value, str) and value.lower() in {"true", "false", "on", "off", "1", "0"}:
                value = value.lower() in {"true", "on", "1"}
            if not isinstance(value, bool):
                raise TransformError(f"{label!r} must be true or false.", param=param.name)
        elif param.kind == "choice":
            if value not in param.choices:
                raise TransformError(f"{label!r} must be one of {', '.join(param.choices)}; got {value!r}.",
                                     param=param.name)
        elif param.kind == "string_list":
            if isinstance(value, str):
                value = [item.strip() for item in value.split(",") if item.strip()]
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise TransformError(f"{label!r} must be a list of strings.", param=param.name)
        elif param.kind == "mapping":
            if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
                raise TransformError(f"{label!r} must map names to names.", param=param.name)
        elif param.kind in {"string", "expression", "code"}:
            if not isinstance(value, str):
                raise TransformError(f"{label!r} must be text.", param=param.name)
        elif param.kind == "dataset" and not isinstance(value, int | str):
            raise TransformError(f"{label!r} must name a dataset version.", param=param.name)
        if param.kind in {"integer", "number"}:
            if param.minimum is not None and value < param.minimum:
                raise TransformError(f"{label!r} must be at least {param.minimum:g}; got {value}.", param=param.name)
            if param.maximum is not None and value > param.maximum:
                raise TransformError(f"{label!r} must be at most {param.maximum:g}; got {value}.", param=param.name)
        checked[param.name] = value
    return checked


def _missing_column(name: str, present: Sequence[str]) -> str:
    shown = ", ".join(repr(column) for column in list(present)[:12])
    more = "" if len(present) <= 12 else f" and {len(present) - 12} more"
    return (f"Column {name!r} is not in the data at this step (it may have been renamed or dropped by an earlier "
            f"step). Pick one of: {shown}{more}.")
