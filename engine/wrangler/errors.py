"""The one error the wrangler raises for something the user can change: a parameter, a column, a formula."""

from __future__ import annotations


class TransformError(Exception):
    """A step cannot run as configured. `message` is written for the user and says what to change;
    `param` names the parameter at fault when there is one."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
