"""Decorators that declare who may reach each view. Every view carries one (the permission test over all
URLs checks that), so a view cannot be added without saying who it is for."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

from .errors import Forbidden, NotFound
from .models import Project
from .selectors import project_get, role_in

PUBLIC = "public"
AUTHENTICATED = "authenticated"
SITE_ADMIN = "site_admin"

View = Callable[..., HttpResponse]


def _mark(view: View, policy: str) -> View:
    view.studio_policy = policy  # type: ignore[attr-defined]
    return view


def public_view(view: View) -> View:
    return _mark(view, PUBLIC)


def login_view(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return _mark(wrapper, AUTHENTICATED)


def site_admin_view(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_superuser:
            raise Forbidden("Only studio administrators can open this page.")
        return view(request, *args, **kwargs)

    return _mark(wrapper, SITE_ADMIN)


def project_view(activity: str, *, site_admins: bool = False) -> Callable[[View], View]:
    """For views under /p/<project>/: resolves the project (404 for non-members, 403 when the role lacks
    the activity) and passes it as `project`. With `site_admins=True` studio administrators may also
    reach any project (the Role Manager: they assign the first members)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, project: str, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if site_admins and request.user.is_superuser:
                project_obj = Project.objects.filter(slug=project).first()
                if project_obj is None:
                    raise NotFound("There is no such project.")
            else:
                project_obj = project_get(user=request.user, slug=project, activity=activity)
            request.project = project_obj  # type: ignore[attr-defined]
            request.project_role = role_in(user=request.user, project=project_obj)  # type: ignore[attr-defined]
            return view(request, project_obj, *args, **kwargs)

        wrapper.studio_site_admins = site_admins  # type: ignore[attr-defined]
        return _mark(wrapper, f"project:{activity}")

    return decorate


def object_view(activity: str) -> Callable[[View], View]:
    """For views that reach a project through an object in the URL (/jobs/<job_id>/stop/): like
    login_view, and declares the activity the view requires on that object's project, so the permission
    test over every URL knows to expect 404 for strangers and 403 for roles without it. The view itself
    checks with `require(...)` once it has loaded the object."""

    def decorate(view: View) -> View:
        return _mark(login_view(view), f"object:{activity}")

    return decorate

