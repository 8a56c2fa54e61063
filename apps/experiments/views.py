"""The Experiments pages: the experiments of a project, an experiment's runs (search, sort, pick, compare), a
run's page and the comparison of runs. The runs table is an htmx fragment of the experiment page."""

from __future__ import annotations

import json
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from apps.core.errors import UserError
from apps.core.models import Project
from apps.core.permissions import project_view
from apps.core.roles import Activity
from apps.core.selectors import can

from . import charts, services
from .models import Experiment, Run
from .selectors import (
    experiment_get,
    experiment_list,
    run_comparison,
    run_get,
    run_list,
    run_metric_histories,
    run_search,
    runs_compare,
)

READ, WRITE = Activity.VIEW_EXPERIMENTS, Activity.RUN_JOBS
RUNS_PER_PAGE = 50
# The runs table shows this many metric and param columns; the run page shows them all.
TABLE_KEYS = 8


@project_view(READ)
@require_GET
def experiment_index(request: HttpRequest, project: Project) -> HttpResponse:
    deleted = request.GET.get("deleted") == "1"
    experiments = experiment_list(user=request.user, project=project, deleted=deleted)
    return render(request, "experiments/list.html", {
        "active_area": "experiments", "project": project, "experiments": experiments, "show_deleted": deleted,
        "can_write": can(user=request.user, project=project, activity=WRITE)})


@project_view(WRITE)
@require_POST
def experiment_create(request: HttpRequest, project: Project) -> HttpResponse:
    try:
        experiment = services.experiment_create(project=project, user=request.user, name=request.POST.get("name", ""),
                                                description=request.POST.get("description", ""))
    except UserError as error:
        context = {"active_area": "experiments", "project": project, "can_write": True, "error": error.message,
                   "experiments": experiment_list(user=request.user, project=project)}
        return render(request, "experiments/list.html", context, status=error.status_code)
    return redirect("experiments:detail", project=project.slug, experiment_id=experiment.id)


@project_view(WRITE)
@require_POST
def experiment_delete(request: HttpRequest, project: Project, experiment_id: int) -> HttpResponse:
    experiment = experiment_get(user=request.user, project=project, experiment_id=experiment_id)
    services.experiment_delete(experiment=experiment, user=request.user)
    return redirect("experiments:list", project=project.slug)


@project_view(WRITE)
@require_POST
def experiment_restore(request: HttpRequest, project: Project, experiment_id: int) -> HttpResponse:
    experiment = experiment_get(user=request.user, project=project, experiment_id=experiment_id)
    services.experiment_restore(experiment=experiment, user=request.user)
    return redirect("experiments:detail", project=project.slug, experiment_id=experiment.id)


@project_view(READ)
@require_GET
def experiment_detail(request: HttpRequest, project: Project, experiment_id: int) -> HttpResponse:
    """The experiment with its runs table; an htmx request (search, sort, page) gets the table alone."""
    experiment = experiment_get(user=request.user, project=project, experiment_id=experiment_id)
    context = _runs_context(request, experiment)
    if request.headers.get("HX-Request"):
        return render(request, "experiments/_runs.html", context)
    return render(request, "experiments/detail.html", context, status=400 if context["error"] else 200)


@project_view(READ)
@require_GET
def run_detail(request: HttpRequest, project: Project, run_id: int) -> HttpResponse:
    run = run_get(user=request.user, project=project, run_id=run_id)
    histories = run_metric_histories(runs=[run])[run.id]
    curves = [{"key": key, "chart_id": f"chart-metric-{index}",
               "figure": charts.metric_curves_figure(key, {run.name: points})}
              for index, (key, points) in enumerate(sorted(histories.items()))]
    return render(request, "experiments/run.html", {
        "active_area": "experiments", "project": project, "run": run, "experiment": run.experiment,
        "curves": curves, "artifacts": run.artifacts.select_related("artifact"),
        "params": sorted(run.params.items()), "metrics": sorted(run.metrics.items()), "tags": sorted(run.tags.items()),
        "spec_json": json.dumps(run.spec, indent=2, sort_keys=True),
        "can_write": can(user=request.user, project=project, activity=WRITE)})


@project_view(WRITE)
@require_POST
def run_delete(request: HttpRequest, project: Project, run_id: int) -> HttpResponse:
    run = run_get(user=request.user, project=project, run_id=run_id)
    services.run_delete(run=run, user=request.user)
    return redirect("experiments:detail", project=project.slug, experiment_id=run.experiment_id)


@project_view(WRITE)
@require_POST
def run_restore(request: HttpRequest, project: Project, run_id: int) -> HttpResponse:
    run = run_get(user=request.user, project=project, run_id=run_id)
    services.run_restore(run=run, user=request.user)
    return redirect("experiments:run", project=project.slug, run_id=run.id)


@project_view(READ)
@require_GET
def run_compare(request: HttpRequest, project: Project) -> HttpResponse:
    ids = [part for value in request.GET.getlist("ids") for part in value.split(",") if part.strip()]
    if not all(part.strip().isdigit() for part in ids):
        raise UserError("Pick runs to compare from an experiment's runs table.", field="ids")
    runs = runs_compare(user=request.user, project=project, run_ids=[int(part) for part in ids])
    return render(request, "experiments/compare.html", _compare_context(request, project, runs))


# --- helpers -------------------------------------------------------------------------------------------------

def _runs_context(request: HttpRequest, experiment: Experiment) -> dict[str, Any]:
    filter_text, order_by = request.GET.get("filter", "").strip(), request.GET.get("order_by", "").strip()
    deleted = request.GET.get("deleted") == "1"
    runs = run_list(user=request.user, experiment=experiment, deleted=deleted).defer("spec", "metric_steps")
    error = ""
    try:
        runs = run_search(runs, filter_text=filter_text, order_by=order_by)
        page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
        shown = list(page.object_list)
    except UserError as failure:
        error, page, shown = failure.message, None, []
    metric_keys = sorted({key for run in shown for key in run.metrics})[:TABLE_KEYS]
    param_keys = sorted({key for run in shown for key in run.params})[:TABLE_KEYS]
    return {
        "active_area": "experiments", "project": experiment.project, "experiment": experiment, "runs": shown,
        "page": page, "filter": filter_text, "order_by": order_by, "show_deleted": deleted, "error": error,
        "metric_keys": metric_keys, "param_keys": param_keys,
        "rows": [{"run": run, "metrics": [run.metrics.get(k) for k in metric_keys],
                  "params": [run.params.get(k) for k in param_keys]} for run in shown],
        "sorts": _sorts(order_by, metric_keys, param_keys),
        "can_write": can(user=request.user, project=experiment.project, activity=WRITE),
    }


def _sorts(order_by: str, metric_keys: list[str], param_keys: list[str]) -> dict[str, dict[str, str]]:
    """For each sortable column: the order_by its header link asks for (descending first, then ascending)."""
    sorts = {}
    for prefix, keys in (("metrics", metric_keys), ("params", param_keys),
                         ("attributes", ["run_name", "status", "start_time"])):
        for key in keys:
            name = f"{prefix}.`{key}`" if any(c in key for c in " .`") else f"{prefix}.{key}"
            current = order_by.startswith(name + " ") or order_by == name
            descending = current and order_by.upper().endswith(" DESC")
            sorts[f"{prefix}.{key}"] = {"order_by": f"{name} ASC" if descending else f"{name} DESC",
                                        "arrow": ("▼" if descending else "▲") if current else ""}
    return sorts


def _compare_context(request: HttpRequest, project: Project, runs: list[Run]) -> dict[str, Any]:
    table = run_comparison(runs=runs)
    only_differences = request.GET.get("only_differences") == "1"
    histories = run_metric_histories(runs=runs)
    metric_keys = [row["key"] for row in table["metrics"]]
    param_keys = [row["key"] for row in table["params"]]
    curves = [{"key": key, "chart_id": f"chart-curve-{index}", "figure": charts.metric_curves_figure(
        key, {run.name: histories[run.id].get(key, []) for run in runs})} for index, key in enumerate(metric_keys)]
    differing = [row["key"] for row in table["params"] if row["differs"]] + param_keys  # a param that varies first
    x_key = request.GET.get("x") if request.GET.get("x") in param_keys else (differing[0] if differing else "")
    y_key = request.GET.get("y") if request.GET.get("y") in metric_keys else (metric_keys[0] if metric_keys else "")
    return {
        "active_area": "experiments", "project": project, "runs": runs, "only_differences": only_differences,
        "params": [row for row in table["params"] if row["differs"] or not only_differences],
        "metrics": [row for row in table["metrics"] if row["differs"] or not only_differences],
        "curves": curves, "param_keys": param_keys, "metric_keys": metric_keys, "x_key": x_key, "y_key": y_key,
        "parcoords": charts.parallel_coordinates_figure(runs, param_keys, metric_keys),
        "scatter": charts.scatter_figure(runs, x_key, y_key) if x_key and y_key else None,
        "ids": ",".join(str(run.id) for run in runs),
        "experiments": {run.experiment_id: run.experiment for run in runs}.values(),
    }
