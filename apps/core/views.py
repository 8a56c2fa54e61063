from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from .health import health_report
from .navigation import AREAS_BY_SLUG
from .permissions import login_view, project_view, public_view
from .roles import Activity
from .selectors import project_get, project_list


@login_view
def home(request: HttpRequest) -> HttpResponse:
    projects = project_list(user=request.user).prefetch_related("memberships")
    return render(request, "core/home.html", {"projects": projects})


@login_view
def switch_project(request: HttpRequest) -> HttpResponse:
    project = project_get(user=request.user, slug=request.GET.get("project", ""))
    return redirect("datasets:list", project=project.slug)


PROJECT_AREAS = {"datasets:list", "training:list", "experiments:list", "registry:list"}  # area pages under /p/<project>/


@project_view(Activity.VIEW)
def area(request: HttpRequest, project, area: str) -> HttpResponse:
    found = AREAS_BY_SLUG.get(area)
    if found is None:
        raise Http404("no such area")
    if found.built and found.url_name in PROJECT_AREAS:
        return redirect(found.url_name, project=project.slug)
    if found.built:
        return redirect(found.url_name)
    return render(request, "core/unbuilt.html", {"area": found, "active_area": found.slug})


@public_view
def healthz(request: HttpRequest) -> JsonResponse:
    report = health_report()
    return JsonResponse(report, status=200 if report["status"] != "down" else 503)
