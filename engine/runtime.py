"""What long-running engine code may ask of the job that runs it, without knowing Django or Celery.

The studio passes a database-backed context; tests and notebooks pass `LocalContext`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol


class JobStopped(Exception):
    """Raised inside job code when someone asked the job to stop; the runtime marks the job Stopped."""


class JobContext(Protocol):
    def progress(self, percent: float, message: str = "") -> None:
        """Report progress from 0 to 100 with a short message for the user."""

    def log(self, message: str, level: str = "INFO") -> None:
        """Append a line to the job's log."""

    def metric(self, name: str, value: float, step: int | None = None) -> None:
        """Record a metric value (a point of a curve when step is given)."""

    def should_stop(self) -> bool:
        """True once a stop was requested; long loops check it between units of work."""

    def raise_if_stopped(self) -> None:
        """Raise JobStopped when a stop was requested."""

    def save_checkpoint(self, data: bytes) -> None:
        """Keep bytes that let a later attempt resume where this one was."""

    def load_checkpoint(self) -> bytes | None:
        """The last checkpoint saved by any attempt of this job, or None."""


@dataclass
class LocalContext:
    """An in-memory context for engine tests and scripts."""

    stop_after_checks: int | None = None
    progress_updates: list[tuple[float, str]] = field(default_factory=list)
    lines: list[tuple[str, str]] = field(default_factory=list)
    metrics: list[tuple[str, float, int | None]] = field(default_factory=list)
    checkpoint: bytes | None = None
    _checks: int = 0

    def progress(self, percent: float, message: str = "") -> None:
        self.progress_updates.append((max(0.0, min(100.0, float(percent))), message))

    def log(self, message: str, level: str = "INFO") -> None:
        self.lines.append((level, message))

    def metric(self, name: str, value: float, step: int | None = None) -> None:
        self.metrics.append((name, float(value), step))

    def should_stop(self) -> bool:
        self._checks += 1
        return self.stop_after_checks is not None and self._checks > self.stop_after_checks

    def raise_if_stopped(self) -> None:
        if self.should_stop():
            raise JobStopped()

    def save_checkpoint(self, data: bytes) -> None:
        self.checkpoint = bytes(data)

    def load_checkpoint(self) -> bytes | None:
        return self.checkpoint


class Throttle:
    """True at most once per `seconds`, so hot loops can report without flooding the database."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._last = 0.0

    def ready(self) -> bool:
        now = time.monotonic()
        if now - self._last >= self.seconds:
            self._last = now
            return True
        return False
