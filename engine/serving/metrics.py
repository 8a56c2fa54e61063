"""Per-variant request metrics kept in memory: counts, errors and a latency histogram with fixed bucket
bounds, so the snapshots of several server processes add up exactly into the endpoint's."""

from __future__ import annotations

import json
import os
import threading
import time
from bisect import bisect_left
from pathlib import Path
from typing import Any

# Upper bounds of the latency buckets in milliseconds (about 12 per decade), then an overflow bucket.
BOUNDS_MS: tuple[float, ...] = tuple(round(0.05 * 10 ** (step / 12), 4) for step in range(0, 61))


class VariantMetrics:
    def __init__(self) -> None:
        self.invocations = 0
        self.client_errors = 0  # 4xx: the request was wrong
        self.server_errors = 0  # 5xx: the model failed
        self.latency_sum_ms = 0.0
        self.model_latency_sum_ms = 0.0
        self.buckets = [0] * (len(BOUNDS_MS) + 1)

    def record(self, status: int, latency_ms: float, model_ms: float) -> None:
        self.invocations += 1
        if 400 <= status < 500:
            self.client_errors += 1
        elif status >= 500:
            self.server_errors += 1
        self.latency_sum_ms += latency_ms
        self.model_latency_sum_ms += model_ms
        self.buckets[bisect_left(BOUNDS_MS, latency_ms)] += 1

    def as_dict(self) -> dict[str, Any]:
        return {"invocations": self.invocations, "client_errors": self.client_errors,
                "server_errors": self.server_errors, "latency_sum_ms": self.latency_sum_ms,
                "model_latency_sum_ms": self.model_latency_sum_ms, "buckets": list(self.buckets)}


def percentile_ms(buckets: list[int], share: float) -> float | None:
    """The upper bound of the bucket holding the `share` quantile (None with no requests)."""
    total = sum(buckets)
    if total == 0:
        return None
    rank = share * total
    seen = 0
    for index, count in enumerate(buckets):
        seen += count
        if seen >= rank and count:
            return BOUNDS_MS[index] if index < len(BOUNDS_MS) else float("inf")
    return None


def summarise(variants: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {}
    for name, data in variants.items():
        count = data["invocations"]
        out[name] = {**data, "latency_mean_ms": data["latency_sum_ms"] / count if count else None,
                     "latency_p50_ms": percentile_ms(data["buckets"], 0.5),
                     "latency_p90_ms": percentile_ms(data["buckets"], 0.9),
                     "latency_p99_ms": percentile_ms(data["buckets"], 0.99)}
    return out


def merge(snapshots: list[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    total: dict[str, dict[str, Any]] = {}
    for snapshot in snapshots:
        for name, data in snapshot.items():
            into = total.setdefault(name, {"invocations": 0, "client_errors": 0, "server_errors": 0,
                                           "latency_sum_ms": 0.0, "model_latency_sum_ms": 0.0,
                                           "buckets": [0] * (len(BOUNDS_MS) + 1)})
            for key in ("invocations", "client_errors", "server_errors", "latency_sum_ms", "model_latency_sum_ms"):
                into[key] += data.get(key, 0)
            into["buckets"] = [a + b for a, b in zip(into["buckets"], data.get("buckets", []), strict=False)]
    return total


class EndpointMetrics:
    """The metrics of one server process; with a state directory, the snapshots of all its processes."""

    def __init__(self, variants: list[str], state_dir: Path | None = None) -> None:
        self.variants = {name: VariantMetrics() for name in variants}
        self.state_dir = state_dir
        self.started = time.time()
        self._lock = threading.Lock()
        self._saved = 0.0

    def record(self, variant: str, status: int, latency_ms: float, model_ms: float = 0.0) -> None:
        with self._lock:
            metrics = self.variants.get(variant)
            if metrics is None:
                metrics = self.variants[variant] = VariantMetrics()
            metrics.record(status, latency_ms, model_ms)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {name: metrics.as_dict() for name, metrics in self.variants.items()}

    def save(self, *, at_most_every: float = 1.0) -> None:
        """Leave this process's snapshot in the state directory (atomically), at most once per interval."""
        now = time.monotonic()
        if self.state_dir is None or now - self._saved < at_most_every:
            return
        self._saved = now
        self.state_dir.mkdir(parents=True, exist_ok=True)
        target = self.state_dir / f"metrics-{os.getpid()}.json"
        temporary = target.with_suffix(".tmp")
        temporary.write_text(json.dumps({"pid": os.getpid(), "time": time.time(), "variants": self.snapshot()}))
        os.replace(temporary, target)

    def report(self) -> dict[str, Any]:
        """The endpoint's metrics: this process's, plus the last snapshot of every other process."""
        snapshots = [self.snapshot()]
        processes = 1
        if self.state_dir is not None:
            self.save(at_most_every=0.0)
            for path in self.state_dir.glob("metrics-*.json"):
                if path.name == f"metrics-{os.getpid()}.json":
                    continue
                try:
                    snapshots.append(json.loads(path.read_text())["variants"])
                    processes += 1
                except (OSError, ValueError, KeyError):
                    continue  # a file being replaced: its figures come with the next report
        return {"time": time.time(), "processes": processes, "bucket_bounds_ms": list(BOUNDS_MS),
                "variants": summarise(merge(snapshots))}
