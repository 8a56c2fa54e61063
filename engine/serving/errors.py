"""The one error type of the model server: an HTTP status, a message written for the caller, and the input
field (column, header, parameter) at fault."""

from __future__ import annotations


class ServingError(Exception):
    def __init__(self, status: int, message: str, field: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


class EndpointConfigError(Exception):
    """The endpoint's configuration or one of its models cannot be served; the server does not start."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
