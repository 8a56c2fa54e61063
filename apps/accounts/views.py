"""Account pages (sign-in, password, profile, API tokens) and the admin side: Role Manager, users,
new projects and the audit log. Views parse input, call one service or selector, and render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.password_validation import password_validators_help_texts
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from apps.core import services as core_services
from apps.core.errors import NotFound, UserError
from apps.core.permissions import login_view, project_view, public_view, site_admin_view
from apps.core.roles import Activity, Role, matrix

from . import selectors, services
from .forms import (
    AuditFilterForm,
    LoginForm,
    MemberAddForm,
    MemberRoleForm,
    ProjectCreateForm,
    TokenCreateForm,
    UserCreateForm,
)
from .signals import client_ip

MANAGE = Activity.MANAGE_USERS


class ThrottledLoginView(auth_views.LoginView):
    """Django's sign-in, refused with 429 once a username or an address has too many recent failures."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True
    # LoginView puts the request's host name in `site_name`; keep the studio's name in the header and title.
    extra_context = {"site_name": settings.STUDIO_SITE_NAME}

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        username = request.POST.get("username", "")
        if services.login_is_blocked(username=username, ip=client_ip(request)):
            context = self.get_context_data(form=self.get_form_class()(request), throttled=True)
            return render(request, self.template_name, context, status=429)
        return super().post(request, *args, **kwargs)


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")

    def get_context_data(self, **kwargs):
        return super().get_context_data(password_help=password_validators_help_texts(), **kwargs)

    def form_valid(self, form):
        messages.success(self.request, "Your password was changed.")
        return super().form_valid(form)


login = public_view(ThrottledLoginView.as_view())
logout = public_view(auth_views.LogoutView.as_view())
password_change = login_view(PasswordChangeView.as_view())


@login_view
def profile(request: HttpRequest) -> HttpResponse:
    memberships = selectors.membership_list(user=request.user)
    return render(request, "accounts/profile.html", {"memberships": memberships})


# --- API tokens --------------------------------------------------------------------------------
@login_view
def tokens(request: HttpRequest) -> HttpResponse:
    form, new_key, status = TokenCreateForm(request.POST or None), "", 200
    if request.method == "POST":
        if form.is_valid():
            try:
                token, new_key = services.token_create(user=request.user, name=form.cleaned_data["name"])
                form = TokenCreateForm()
            except UserError as error:
                form.add_user_error(error)
        status = 200 if new_key else 400
    context = {"form": form, "new_key": new_key, "tokens": selectors.token_list(user=request.user)}
    return render(request, "accounts/tokens.html", context, status=status)


@login_view
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = services.token_revoke(user=request.user, token_id=token_id)
    messages.success(request, f"The token {token.name!r} was revoked; scripts using it are refused from now on.")
    return redirect("accounts:tokens")


# --- Role Manager ------------------------------------------------------------------------------
def _roles_page(request: HttpRequest, *, bound: dict | None = None, status: int = 200) -> HttpResponse:
    """The matrix and, per manageable project, its members. `bound` carries a form with errors to show
    in place: {"project": form} or {project id: add-member form}."""
    bound = bound or {}
    projects = [
        {"project": project, "members": selectors.member_list(project=project),
         "add_form": bound.get(project.id) or MemberAddForm(prefix=f"p{project.id}")}
        for project in selectors.managed_projects(user=request.user)
    ]
    context = {
        "matrix": [dict(row, allowed=[row["roles"][role] for role in Role.values]) for row in matrix()],
        "roles": Role.choices, "projects": projects, "active_area": "admin",
        "project_form": bound.get("project") or ProjectCreateForm(),
    }
    return render(request, "accounts/roles.html", context, status=status)


@login_view
def roles(request: HttpRequest) -> HttpResponse:
    return _roles_page(request)


@site_admin_view
@require_POST
def project_new(request: HttpRequest) -> HttpResponse:
    form = ProjectCreateForm(request.POST)
    if form.is_valid():
        try:
            project = core_services.project_create(user=request.user, **form.cleaned_data)
            messages.success(request, f"Created project {project.name}; you are its Admin.")
            return redirect("accounts:roles")
        except UserError as error:
            form.add_user_error(error)
    return _roles_page(request, bound={"project": form}, status=400)


@project_view(MANAGE, site_admins=True)
@require_POST
def member_add(request: HttpRequest, project) -> HttpResponse:
    form = MemberAddForm(request.POST, prefix=f"p{project.id}")
    if form.is_valid():
        try:
            user = selectors.user_by_username(username=form.cleaned_data["username"])
            core_services.membership_set(project=project, user=user, role=form.cleaned_data["role"], actor=request.user)
            messages.success(request, f"{user.username} is now {Role(form.cleaned_data['role']).label} in {project.name}.")
            return redirect("accounts:roles")
        except UserError as error:
            form.add_user_error(error)
    return _roles_page(request, bound={project.id: form}, status=400)


@project_view(MANAGE, site_admins=True)
@require_POST
def member_role(request: HttpRequest, project, user_id: int) -> HttpResponse:
    form = MemberRoleForm(request.POST)
    membership = selectors.member_list(project=project).filter(user_id=user_id).first()
    if membership is None:
        raise NotFound("That person is not a member of this project.")
    if not form.is_valid():
        raise UserError("Choose one of the listed roles.")
    core_services.membership_set(project=project, user=membership.user, role=form.cleaned_data["role"],
                                 actor=request.user)
    messages.success(request, f"{membership.user.username} is now {Role(form.cleaned_data['role']).label} in {project.name}.")
    return redirect("accounts:roles")


@project_view(MANAGE, site_admins=True)
@require_POST
def member_remove(request: HttpRequest, project, user_id: int) -> HttpResponse:
    membership = selectors.member_list(project=project).filter(user_id=user_id).first()
    if membership is None:
        raise NotFound("That person is not a member of this project.")
    core_services.membership_remove(project=project, user=membership.user, actor=request.user)
    messages.success(request, f"Removed {membership.user.username} from {project.name}.")
    return redirect("accounts:roles")


# --- users -------------------------------------------------------------------------------------
@site_admin_view
def users(request: HttpRequest) -> HttpResponse:
    form, created, password, status = UserCreateForm(request.POST or None), None, "", 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                created, password = services.user_create(actor=request.user, **form.cleaned_data)
                form, status = UserCreateForm(), 200
            except UserError as error:
                form.add_user_error(error)
    context = {"form": form, "created": created, "generated_password": password, "active_area": "admin",
               "users": selectors.user_list(actor=request.user)}
    return render(request, "accounts/users.html", context, status=status)


@site_admin_view
@require_POST
def user_active(request: HttpRequest, user_id: int) -> HttpResponse:
    user = selectors.user_get(actor=request.user, user_id=user_id)
    active = request.POST.get("active") == "1"
    services.user_set_active(actor=request.user, user=user, active=active)
    messages.success(request, f"{user.username} is {'active again' if active else 'deactivated'}.")
    return redirect("accounts:users")


# --- audit log ---------------------------------------------------------------------------------
@site_admin_view
def audit(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    project = filters.get("project")
    events = selectors.audit_filtered(
        user=request.user, username=filters.get("user", ""), action=filters.get("action", ""),
        project_slug=project.slug if project else "",
    )
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode(), "active_area": "admin"}
    return render(request, "accounts/audit.html", context)
