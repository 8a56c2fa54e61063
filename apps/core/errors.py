"""Errors a user can fix. One type, a message written for the user; the API's exception handler and the
HTML middleware both show it, so no traceback ever reaches a page."""

from __future__ import annotations


class UserError(Exception):
    """Something the user can act on. `message` is shown as is; `field` points a form or API error at an input."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class NotFound(UserError):
    status_code = 404
    code = "not_found"


class Forbidden(UserError):
    status_code = 403
    code = "forbidden"


class Conflict(UserError):
    status_code = 409
    code = "conflict"


class TransientError(Exception):
    """A failure worth retrying later (a database or broker that is briefly away)."""
