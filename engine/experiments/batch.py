"""Checks of what a run logs, before anything is written: every metric point a finite number with a key, a
whole step and a time; params and tags short strings. The limits per request are MLflow's."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_PER_BATCH = 100
MAX_TAGS_PER_BATCH = 100
MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
# Step numbers are kept in a 64-bit integer column.
MAX_STEP = 2**63 - 1
KEY = re.compile(r"^[A-Za-z0-9_\-. /:]+$")


class BatchError(Exception):
    """Something in a batch that cannot be logged; `message` names the entry at fault."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class MetricPoint:
    key: str
    value: float
    step: int
    timestamp: int  # milliseconds since the epoch


def _check_key(key: Any, where: str, field: str) -> str:
    if not isinstance(key, str) or not key.strip():
        raise BatchError(f"{where} has no key; give each one a name such as 'loss'.", field=field)
    if len(key) > MAX_KEY_LENGTH:
        raise BatchError(f"{where}: the key is longer than {MAX_KEY_LENGTH} characters.", field=field)
    if not KEY.match(key) or ".." in key or key.startswith("/"):
        raise BatchError(f"{where}: the key {key!r} may hold only letters, digits, spaces and _ - . / : "
                         "(and no '..' or leading '/').", field=field)
    return key


def check_metrics(metrics: Iterable[Mapping[str, Any]], *, now_ms: int | None = None) -> list[MetricPoint]:
    """Every metric point checked, or BatchError naming the first bad one (by position and key)."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    points = []
    for index, metric in enumerate(metrics):
        if not isinstance(metric, Mapping):
            raise BatchError(f"Metric #{index + 1} is not an object with key and value.", field="metrics")
        key = _check_key(metric.get("key"), f"Metric #{index + 1}", "metrics")
        where = f"Metric #{index + 1} ({key!r})"
        value = metric.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BatchError(f"{where}: the value {value!r} is not a number.", field="metrics")
        if not math.isfinite(value):
            raise BatchError(f"{where}: the value {value} is not a finite number; NaN and infinity cannot be "
                             "logged.", field="metrics")
        step = metric.get("step", 0)
        step = 0 if step is None else step
        if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= MAX_STEP:
            raise BatchError(f"{where}: the step {step!r} is not a whole number ≥ 0.", field="metrics")
        timestamp = metric.get("timestamp")
        timestamp = now if timestamp is None else timestamp
        if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
            raise BatchError(f"{where}: the timestamp {timestamp!r} is not milliseconds since 1970.",
                             field="metrics")
        points.append(MetricPoint(key, float(value), step, timestamp))
    return points


def check_strings(values: Mapping[str, Any] | None, *, what: str, max_value_length: int) -> dict[str, str]:
    """Params or tags as {key: str}; numbers and booleans are written as text, as MLflow does."""
    checked: dict[str, str] = {}
    for key, value in (values or {}).items():
        _check_key(key, f"The {what[:-1]} {key!r}", what)
        if value is None or isinstance(value, dict | list):
            raise BatchError(f"The {what[:-1]} {key!r} needs a text or number value, not {value!r}.", field=what)
        if isinstance(value, float) and not math.isfinite(value):
            raise BatchError(f"The {what[:-1]} {key!r} is {value}; NaN and infinity cannot be logged.", field=what)
        text = str(value).lower() if isinstance(value, bool) else str(value)
        if len(text) > max_value_length:
            raise BatchError(f"The {what[:-1]} {key!r} is longer than {max_value_length} characters.", field=what)
        checked[key] = text
    return checked


def latest_values(points: Iterable[MetricPoint], known: Mapping[str, tuple[int, int]] | None = None
                  ) -> dict[str, tuple[float, int, int]]:
    """Per key, the value at the highest step (the latest time breaks ties; later in the batch wins then):
    {key: (value, step, timestamp)}. `known` holds the (step, timestamp) already stored, which a point must
    reach to replace it."""
    latest: dict[str, tuple[float, int, int]] = {}
    for point in points:
        current = latest.get(point.key)
        if current is None:
            before = (known or {}).get(point.key)
            if before is not None and (point.step, point.timestamp) < before:
                continue
        elif (point.step, point.timestamp) < (current[1], current[2]):
            continue
        latest[point.key] = (point.value, point.step, point.timestamp)
    return latest
