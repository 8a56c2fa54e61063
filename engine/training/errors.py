"""The one error type of training: a message written for the user, and the field or parameter at fault."""

from __future__ import annotations


class TrainingError(Exception):
    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
