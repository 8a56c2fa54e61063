"""The one error type of tuning: a message written for the user, and the field or range at fault."""

from __future__ import annotations


class TuningError(Exception):
    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
