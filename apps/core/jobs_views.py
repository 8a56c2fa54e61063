from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.core.permissions import login_view
from apps.core.selectors import job_get, job_list


@login_view
def job_list_view(request: HttpRequest) -> HttpResponse:
    return render(request, "core/job_list.html", {"jobs": job_list(user=request.user)[:100], "active_area": "jobs"})


@login_view
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    return render(request, "core/job_detail.html", {"job": job_get(user=request.user, job_id=job_id), "active_area": "jobs"})
