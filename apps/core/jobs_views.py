"""The jobs pages: every job of the user's projects, and one job's live detail (htmx polling that ends
with HTTP 286 once the job has ended)."""

from __future__ import annotations

import json
import re
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from .charts import metric_line_figures
from .job_filters import JobFilterForm
from .models import Artifact, Job
from .permissions import login_view, object_view
from .roles import Activity
from .selectors import can, job_get, job_logs, job_metric_points
from .services import job_retry, job_stop

PAGE_SIZE = 25
LOG_TAIL = 200
STOP_POLLING = 286  # htmx stops polling on this status
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@login_view
@require_GET
def job_list_view(request: HttpRequest) -> HttpResponse:
    filters = JobFilterForm(request.GET, user=request.user)
    page = Paginator(filters.filter(), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filters": filters, "page": page, "query": query.urlencode(), "active_area": "jobs"}
    template = "core/_job_table.html" if request.headers.get("HX-Request") else "core/job_list.html"
    return render(request, template, context)


@login_view
@require_GET
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = job_get(user=request.user, job_id=job_id)
    request.project = job.project  # type: ignore[attr-defined] - the navigation then opens this project's areas
    return render(request, "core/job_detail.html", _live_context(request, job))


@login_view
@require_GET
def job_live(request: HttpRequest, job_id: int) -> HttpResponse:
    """The polled part of the detail page: progress, status, timings, log tail, metrics, buttons."""
    job = job_get(user=request.user, job_id=job_id)
    response = render(request, "core/_job_live.html", _live_context(request, job))
    if job.is_ended:
        response.status_code = STOP_POLLING
    return response


@object_view(Activity.RUN_JOBS)
@require_POST
def job_stop_view(request: HttpRequest, job_id: int) -> HttpResponse:
    job = job_get(user=request.user, job_id=job_id)
    job = job_stop(job=job, user=request.user)
    messages.success(request, f"{job.title}: {job.message or job.get_status_display()}")
    return redirect("jobs:job-detail", job_id=job.id)


@object_view(Activity.RUN_JOBS)
@require_POST
def job_retry_view(request: HttpRequest, job_id: int) -> HttpResponse:
    job = job_get(user=request.user, job_id=job_id)
    job = job_retry(job=job, user=request.user)
    messages.success(request, f"{job.title} was queued again.")
    return redirect("jobs:job-detail", job_id=job.id)


def _live_context(request: HttpRequest, job: Job) -> dict[str, Any]:
    logs = job_logs(job=job, limit=LOG_TAIL)
    return {
        "job": job,
        "active_area": "jobs",
        "can_run_jobs": can(user=request.user, project=job.project, activity=Activity.RUN_JOBS),
        "show_error_detail": request.user.is_superuser and bool(job.error_detail),
        "logs": logs,
        "log_truncated": len(logs) == LOG_TAIL,
        "metric_latest": sorted((job.metrics or {}).items()),
        "metric_charts": [
            {"data_id": f"metric-chart-{index}-data", **chart}
            for index, chart in enumerate(metric_line_figures(job_metric_points(job=job)))
        ],
        "inputs": _with_artifacts(job, job.inputs),
        "outputs": _with_artifacts(job, job.outputs),
    }


def _with_artifacts(job: Job, values: dict[str, Any] | None) -> list[dict[str, Any]]:
    """(key, value, artifact) rows; a value naming an artifact of the job's project becomes a download link."""
    rows = [{"key": key, "value": value} for key, value in (values or {}).items()]
    wanted = {match for row in rows if isinstance(row["value"], str) for match in UUID_RE.findall(row["value"])}
    found = {str(artifact.uuid): artifact for artifact in Artifact.objects.filter(project=job.project, uuid__in=wanted)}
    for row in rows:
        matches = UUID_RE.findall(row["value"]) if isinstance(row["value"], str) else []
        row["artifact"] = next((found[match] for match in matches if match in found), None)
        if isinstance(row["value"], dict | list):
            row["value"] = json.dumps(row["value"], ensure_ascii=False, default=str, sort_keys=True)
    return rows
