"""The one error the report raises for input the user can change: a target, a problem type, an empty table."""

from __future__ import annotations


class InsightsError(Exception):
    """The report cannot be made as asked. `message` is written for the user and says what to change."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
