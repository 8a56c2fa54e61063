"""Running a flow: a list of steps, each a registered transform with parameters, fitted on the training rows
and applied in order. The studio stores steps and fitted states as JSON; tests call these functions with a
DataFrame."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from engine.runtime import JobContext

from .custom import CustomCodeLimits, custom_code_run
from .errors import TransformError
from .registry import params_check, transform_get

# Resolves a "dataset" parameter (another dataset version, for joins and concatenation) to its frame.
Resolver = Callable[[Any], pd.DataFrame]
SPLIT_TRAIN = "train"


@dataclass(frozen=True)
class Step:
    transform: str
    params: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Step:
        return cls(str(data.get("transform", "")), dict(data.get("params") or {}), bool(data.get("enabled", True)))

    def to_json(self) -> dict[str, Any]:
        return {"transform": self.transform, "params": self.params, "enabled": self.enabled}


@dataclass
class StepReport:
    """What one step did on the preview sample, or why it failed."""

    index: int
    transform: str
    enabled: bool
    ok: bool = True
    error: str = ""
    error_param: str | None = None
    rows: int = 0
    columns: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    seconds: float = 0.0
    note: str = ""  # why a step was not previewed (custom code runs only when the flow is applied)
    output_columns: list[str] = field(default_factory=list)  # the columns after this step, when it ran


@dataclass
class FlowResult:
    frame: pd.DataFrame  # the output of the last step that ran
    states: list[dict[str, Any] | None]  # one per step: the fitted state, or None
    reports: list[StepReport]
    params: list[dict[str, Any]] = field(default_factory=list)  # as checked: defaults filled, types coerced
    stopped_at: int | None = None  # the custom code step where a run without custom code stopped

    @property
    def failed(self) -> StepReport | None:
        return next((report for report in self.reports if not report.ok), None)


def _no_datasets(reference: Any) -> pd.DataFrame:
    raise TransformError(f"Dataset {reference!r} cannot be read here.")


def _resolved(params: dict[str, Any], spec_params: Sequence[Any], resolve: Resolver) -> dict[str, Any]:
    out = dict(params)
    for param in spec_params:
        if param.kind == "dataset" and out.get(param.name) is not None:
            out[param.name] = resolve(out[param.name])
    return out


def _train_rows(frame: pd.DataFrame, split_column: str | None) -> pd.DataFrame:
    if split_column is None or split_column not in frame.columns:
        return frame
    return frame[frame[split_column] == SPLIT_TRAIN]


def _column_arrays(frame: pd.DataFrame) -> dict[Any, Any]:
    """Each column's values without building a Series per column (the preview compares every column after every
    step, and a Series per lookup was most of the preview's time). Falls back to the public path."""
    manager = getattr(frame, "_mgr", None)
    if manager is not None and hasattr(manager, "iget_values") and frame.columns.is_unique:
        return {column: manager.iget_values(index) for index, column in enumerate(frame.columns.tolist())}
    return {column: frame[column].array for column in frame.columns.tolist()}


def _same_values(left: Any, right: Any) -> bool:
    if left is right:
        return True
    if left.dtype != right.dtype or len(left) != len(right):
        return False
    if isinstance(left, np.ndarray) and isinstance(right, np.ndarray):
        if np.shares_memory(left, right) and left.__array_interface__ == right.__array_interface__:
            return True
        return bool(np.array_equal(left, right, equal_nan=left.dtype.kind in "fc"))
    if _same_storage(left, right):
        return True
    return bool(pd.Series(left, copy=False).equals(pd.Series(right, copy=False)))


def _same_storage(left: Any, right: Any) -> bool:
    """A quick yes for extension arrays that hold the same data (a column a step passed through untouched):
    Arrow-backed ones compare their Arrow arrays (shared, or equal in C), nullable ones their values and
    mask. A no here is not final (Arrow's equality counts NaN unequal): the caller compares as pandas does."""
    if isinstance(left, pd.arrays.ArrowExtensionArray) and isinstance(right, pd.arrays.ArrowExtensionArray):
        left_arrow, right_arrow = left.__arrow_array__(), right.__arrow_array__()
        return left_arrow is right_arrow or bool(left_arrow.equals(right_arrow))
    masked = (pd.arrays.IntegerArray, pd.arrays.FloatingArray, pd.arrays.BooleanArray)
    if isinstance(left, masked) and isinstance(right, masked):
        left_data, right_data = getattr(left, "_data", None), getattr(right, "_data", None)
        left_mask, right_mask = getattr(left, "_mask", None), getattr(right, "_mask", None)
        if all(isinstance(part, np.ndarray) for part in (left_data, right_data, left_mask, right_mask)):
            return _same_values(left_mask, right_mask) and _same_values(left_data, right_data)
    return False


class _Describer:
    """Which columns each step added, changed or removed. A step's output is the next step's input, so each
    frame's labels and column values are read once, not twice."""

    def __init__(self) -> None:
        self._frame: pd.DataFrame | None = None
        self._values: dict[Any, Any] = {}

    def _arrays(self, frame: pd.DataFrame) -> dict[Any, Any]:
        if frame is not self._frame:
            self._frame, self._values = frame, _column_arrays(frame)
        return self._values

    def changes(self, before: pd.DataFrame, after: pd.DataFrame, before_labels: list[Any],
                after_labels: list[Any]) -> tuple[list[str], list[str], list[str]]:
        old, new = set(before_labels), set(after_labels)
        added = [str(column) for column in after_labels if column not in old]
        removed = [str(column) for column in before_labels if column not in new]
        same_rows = len(before) == len(after) and before.index.equals(after.index)
        if not same_rows:  # rows were removed, added or reordered: every kept column changed
            return added, [str(column) for column in after_labels if column in old], removed
        old_values = self._arrays(before)
        new_values = self._arrays(after)
        changed = [str(column) for column in after_labels
                   if column in old and not _same_values(old_values[column], new_values[column])]
        return added, changed, removed


def flow_run(
    frame: pd.DataFrame, steps: Sequence[Step], *, states: Sequence[dict[str, Any] | None] | None = None,
    resolve: Resolver = _no_datasets, ctx: JobContext | None = None, stop_at_error: bool = True,
    describe: bool = False, custom_code: CustomCodeLimits | None = None,
) -> FlowResult:
    """Apply `steps` to `frame`. Stateful steps are fitted on the training rows (those a split step marked
    "train", or all rows before any split) unless `states` gives their fitted state.

    With `stop_at_error` False a failing step is reported and the rest are skipped, so the preview can show
    the error at its step while the flow stays editable; otherwise the TransformError propagates.
    `describe` fills each report's added/changed/removed columns (cheap on a preview sample).
    Custom code steps run (in a limited child process) only when `custom_code` gives their limits; without it
    the run stops before the first one, which is not an error: its report and later ones carry a note."""
    current = frame
    labels = current.columns.tolist()  # the current frame's column labels, read once per frame
    names = [str(column) for column in labels]
    describer = _Describer() if describe else None
    fitted: list[dict[str, Any] | None] = []
    reports: list[StepReport] = []
    checked_params: list[dict[str, Any]] = []
    split_column: str | None = None
    failed = False
    stopped_at: int | None = None
    for index, step in enumerate(steps):
        report = StepReport(index, step.transform, step.enabled)
        reports.append(report)
        checked_params.append(dict(step.params))
        if stopped_at is not None and step.enabled and not failed:
            report.note = "Not previewed: it comes after a custom code step."
            fitted.append(states[index] if states is not None and index < len(states) else None)
            continue
        if not step.enabled or failed:
            fitted.append(states[index] if states is not None and index < len(states) else None)
            report.ok = not failed or not step.enabled
            if failed and step.enabled:
                report.ok, report.error = False, "Not run: an earlier step failed."
            continue
        started = time.perf_counter()
        try:
            spec = transform_get(step.transform)
            params = params_check(spec, step.params, names)
            checked_params[index] = params
            runtime_params = _resolved(params, spec.params, resolve)
            state: dict[str, Any] | None = states[index] if states is not None and index < len(states) else None
            if spec.extra.get("worker_only") and custom_code is None:
                stopped_at = index
                report.note = ("Custom code runs only when the flow is applied, in a worker; the preview shows the "
                               "data before this step.")
                fitted.append(None)
                continue
            if spec.fit is not None and state is None:
                train = _train_rows(current, split_column)
                if train.empty:
                    raise TransformError("There are no training rows to fit this step on.")
                # Through JSON, as the fitted flow is stored and exported, so the studio and the exported
                # script apply exactly the same state.
                state = json.loads(json.dumps(spec.fit(train, runtime_params), allow_nan=True))
            if spec.extra.get("worker_only"):
                assert custom_code is not None
                output = custom_code_run(current, runtime_params["code"], custom_code)
            else:
                output = spec.function(current, runtime_params, state or {})
            if not isinstance(output, pd.DataFrame):
                raise TypeError(f"transform {spec.name} returned {type(output).__name__}")
            if spec.marks_split:
                split_column = str(params.get("column") or "split")
        except TransformError as error:
            report.ok, report.error, report.error_param = False, error.message, error.param
            fitted.append(None)
            failed = True
            if stop_at_error:
                raise TransformError(f"Step {index + 1} ({step.transform}): {error.message}", param=error.param)
            continue
        except (ValueError, TypeError, KeyError, ZeroDivisionError, OverflowError, MemoryError) as error:
            # pandas and numpy explain most bad combinations (a cast that cannot hold, a join on mixed types)
            # in their own words: show them at the step rather than as a crash.
            message = f"This step could not run on the data: {type(error).__name__}: {error}"
            report.ok, report.error = False, message
            fitted.append(None)
            failed = True
            if stop_at_error:
                raise TransformError(f"Step {index + 1} ({step.transform}): {message}")
            continue
        report.seconds = time.perf_counter() - started
        output_labels = output.columns.tolist()
        if describer is not None:
            report.added, report.changed, report.removed = describer.changes(current, output, labels, output_labels)
        current, labels = output, output_labels
        names = [str(column) for column in labels]
        report.rows, report.columns = len(current), len(labels)
        report.output_columns = list(names)
        fitted.append(state)
        if ctx is not None:
            ctx.raise_if_stopped()
            ctx.progress(100.0 * (index + 1) / max(1, len(steps)), f"Step {index + 1} of {len(steps)}: {step.transform}")
    return FlowResult(current, fitted, reports, checked_params, stopped_at)


def sample_rows(frame: pd.DataFrame, *, rows: int = 10_000, method: str = "first", seed: int = 0) -> pd.DataFrame:
    """The preview sample: the first `rows` rows, or `rows` drawn at random (in their original order)."""
    if len(frame) <= rows:
        return frame
    if method == "random":
        chosen = np.sort(np.random.default_rng(seed).choice(len(frame), size=rows, replace=False))
        return frame.iloc[chosen]
    return frame.iloc[:rows]
