from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.core.permissions import login_view, public_view

login = public_view(auth_views.LoginView.as_view(template_name="accounts/login.html", redirect_authenticated_user=True))
logout = public_view(auth_views.LogoutView.as_view())


@login_view
def profile(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/profile.html", {})


@login_view
def roles(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/profile.html", {})
