"""Reads for accounts: tokens, users, the projects a person may manage, and the filtered audit log."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from apps.core.errors import Forbidden, NotFound
from apps.core.models import AuditEvent, Membership, Project
from apps.core.roles import Activity
from apps.core.selectors import AnyUser, audit_list, project_get, projects_with_activity

from .models import ApiToken

User = get_user_model()


def token_list(*, user: AnyUser) -> QuerySet[ApiToken]:
    if not user.is_authenticated:
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=user)


def token_get(*, user: AnyUser, token_id: int) -> ApiToken:
    token = token_list(user=user).filter(id=token_id).first()
    if token is None:
        raise NotFound("There is no such token among yours.")
    return token


def _require_site_admin(user: AnyUser) -> None:
    if not (user.is_authenticated and user.is_superuser):
        raise Forbidden("Only studio administrators can do that.")


def user_list(*, actor: AnyUser) -> QuerySet:
    _require_site_admin(actor)
    return User.objects.order_by("username")


def user_get(*, actor: AnyUser, user_id: int):
    user = user_list(actor=actor).filter(id=user_id).first()
    if user is None:
        raise NotFound("There is no such user.")
    return user


def user_by_username(*, username: str):
    user = User.objects.filter(username__iexact=username.strip(), is_active=True).first()
    if user is None:
        raise NotFound(f"There is no active user named {username.strip()!r}.", field="username")
    return user


def managed_projects(*, user: AnyUser) -> QuerySet[Project]:
    """Projects whose members the user may manage: every project for site admins, else those where
    their role allows managing users."""
    if user.is_authenticated and user.is_superuser:
        return Project.objects.all()
    return projects_with_activity(user=user, activity=Activity.MANAGE_USERS)


def managed_project_get(*, user: AnyUser, slug: str) -> Project:
    if user.is_authenticated and user.is_superuser:
        project = Project.objects.filter(slug=slug).first()
        if project is None:
            raise NotFound("There is no such project.")
        return project
    return project_get(user=user, slug=slug, activity=Activity.MANAGE_USERS)


def member_list(*, project: Project) -> QuerySet[Membership]:
    return Membership.objects.filter(project=project).select_related("user").order_by("user__username")


def membership_list(*, user: AnyUser) -> QuerySet[Membership]:
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user).select_related("project").order_by("project__name")


def audit_filtered(
    *, user: AnyUser, username: str = "", action: str = "", project_slug: str = ""
) -> QuerySet[AuditEvent]:
    """The audit log for site admins, narrowed by an explicit set of filters (never raw ORM lookups)."""
    _require_site_admin(user)
    events = audit_list(user=user)
    if username:
        events = events.filter(actor_name__iexact=username.strip())
    if action:
        events = events.filter(action__icontains=action.strip())
    if project_slug:
        events = events.filter(project__slug=project_slug)
    return events
