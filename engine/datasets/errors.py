"""The one error the dataset engine raises for a file a user can fix; the studio shows `message` as is."""

from __future__ import annotations


class DatasetFileError(Exception):
    """A problem with an uploaded file or a requested change, explained for the person who made it."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
