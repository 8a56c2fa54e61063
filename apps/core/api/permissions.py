"""Role checks for the API, object by object, using the same matrix and selectors as the pages."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.core.roles import Activity
from apps.core.selectors import can, role_in


class ProjectRole(BasePermission):
    """A viewset sets `action_activities` ({action: activity}); unlisted actions need `view`. Objects must
    have a `project` (or say how to reach it with `project_of(obj)`)."""

    message = "Your role in this project does not allow that."

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        project = view.project_of(obj) if hasattr(view, "project_of") else obj.project
        if role_in(user=request.user, project=project) is None:
            from rest_framework.exceptions import NotFound

            raise NotFound()
        activity = getattr(view, "action_activities", {}).get(view.action, Activity.VIEW)
        return can(user=request.user, project=project, activity=activity)


class IsSiteAdmin(BasePermission):
    message = "Only studio administrators can do that."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_superuser)
