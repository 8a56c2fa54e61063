from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import resolve
from django.urls.exceptions import Resolver404

from .audit import RequestAudit, current_request
from .errors import UserError
from .models import AuditEvent, Project

logger = logging.getLogger("studio.web")
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class ContentSecurityPolicyMiddleware:
    """A nonce-based CSP: scripts only from this site (no inline, no eval). Plotly sets inline styles,
    so styles allow 'unsafe-inline'; scripts never do."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nonce = secrets.token_urlsafe(18)
        request.csp_nonce = nonce  # type: ignore[attr-defined]
        response = self.get_response(request)
        response.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; "
            f"script-src 'self' 'nonce-{nonce}'; "
            "style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
            "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'",
        )
        return response


class AuditMiddleware:
    """One audit row per successful write request: who, what (the URL name and what services said), when."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in WRITE_METHODS:
            return self.get_response(request)
        pending = RequestAudit()
        token = current_request.set(pending)
        try:
            response = self.get_response(request)
        finally:
            current_request.reset(token)
        if response.status_code < 400:
            self._record(request, response, pending)
        return response

    def _record(self, request: HttpRequest, response: HttpResponse, pending: RequestAudit) -> None:
        try:
            match = resolve(request.path_info)
            action = match.view_name or request.path_info
            slug = match.kwargs.get("project")
        except Resolver404:
            action, slug = request.path_info, None
        project = pending.project or (Project.objects.filter(slug=slug).first() if slug else None)
        user = request.user if getattr(request, "user", None) and request.user.is_authenticated else None
        if user is None and not pending.summaries:
            return  # an anonymous write that changed nothing (a failed login is logged by the auth signal)
        forwarded = request.META.get("REMOTE_ADDR")
        AuditEvent.objects.create(
            actor=user, actor_name=getattr(user, "username", "") or "anonymous", action=action[:120],
            summary="; ".join(pending.summaries)[:500], project=project, method=request.method or "",
            path=request.path[:500], status_code=response.status_code, ip=forwarded or None,
        )


class UserErrorMiddleware:
    """Shows a UserError raised by a view as a friendly page (or an htmx fragment) with its status."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, UserError) or request.path.startswith("/api/"):
            return None
        template = "components/error_fragment.html" if request.headers.get("HX-Request") else "error.html"
        response = render(
            request, template, {"message": exception.message, "status": exception.status_code},
            status=exception.status_code,
        )
        if request.headers.get("HX-Request"):
            # Let htmx swap the message in even though the status is an error.
            response["HX-Retarget"] = request.headers.get("HX-Target") and f"#{request.headers['HX-Target']}" or "#flash"
            response["HX-Reswap"] = "innerHTML"
        return response
