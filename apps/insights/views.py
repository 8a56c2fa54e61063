"""The Quality and insights pages: the section on the dataset page (start form, recent reports) and a report's
page (live job progress while it runs, then the report)."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.core.errors import UserError
from apps.core.models import Project
from apps.core.permissions import project_view
from apps.core.roles import Activity
from apps.core.selectors import can
from apps.datasets.models import Dataset, DatasetStatus
from apps.datasets.selectors import dataset_get

from . import charts
from .forms import ReportStartForm
from .models import InsightsReport
from .selectors import insights_report_get, insights_report_list, insights_report_result
from .services import insights_report_start

STOP_POLLING = 286
RECENT_REPORTS = 10
# Beyond this many columns the cards show their numbers without a chart, so the page stays quick to draw.
MAX_COLUMN_CHARTS = 100
# Ratios are shown as percentages; other measured values as numbers.
SCORE_LABELS = {"accuracy": "Accuracy", "balanced_accuracy": "Balanced accuracy", "roc_auc": "ROC AUC",
                "r2": "R²", "rmse": "RMSE"}
RATIO_KINDS = {"missing", "outliers", "duplicate_rows", "infinite", "target_imbalance", "mixed_types", "identifier"}


@project_view(Activity.VIEW)
@require_GET
def dataset_section(request: HttpRequest, project: Project, dataset_id: int) -> HttpResponse:
    """The dataset page's Quality and insights card, loaded into it by htmx."""
    dataset = dataset_get(user=request.user, project=project, dataset_id=dataset_id)
    return render(request, "insights/_dataset_section.html", _section_context(request, dataset))


@project_view(Activity.RUN_JOBS)
@require_POST
def report_start(request: HttpRequest, project: Project, dataset_id: int) -> HttpResponse:
    dataset = dataset_get(user=request.user, project=project, dataset_id=dataset_id)
    form = ReportStartForm(request.POST, columns=_columns(dataset))
    if form.is_valid():
        try:
            report = insights_report_start(dataset=dataset, user=request.user, target=form.cleaned_data["target"],
                                           problem_type=form.cleaned_data["problem_type"])
        except UserError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            return redirect("insights:detail", project=project.slug, dataset_id=dataset.id, report_id=report.id)
    context = {**_section_context(request, dataset, form=form), "active_area": "data"}
    return render(request, "insights/start.html", context, status=400)


@project_view(Activity.VIEW)
@require_GET
def report_detail(request: HttpRequest, project: Project, dataset_id: int, report_id: int) -> HttpResponse:
    dataset = dataset_get(user=request.user, project=project, dataset_id=dataset_id)
    report = insights_report_get(user=request.user, report_id=report_id, dataset=dataset)
    return render(request, "insights/report.html", _report_context(request, report))


@project_view(Activity.VIEW)
@require_GET
def report_live(request: HttpRequest, project: Project, dataset_id: int, report_id: int) -> HttpResponse:
    """Polled every second while the report's job works; once it has ended, the report with 286."""
    dataset = dataset_get(user=request.user, project=project, dataset_id=dataset_id)
    report = insights_report_get(user=request.user, report_id=report_id, dataset=dataset)
    if report.job is not None and report.job.is_active:
        return render(request, "datasets/_live.html", {"job": report.job})
    response = render(request, "insights/_report_body.html", _report_context(request, report))
    response.status_code = STOP_POLLING
    return response


# --- helpers -------------------------------------------------------------------------------------------------

def _columns(dataset: Dataset) -> list[str]:
    return dataset.current_version.column_names if dataset.current_version else []


def _section_context(request: HttpRequest, dataset: Dataset, form: ReportStartForm | None = None) -> dict[str, Any]:
    can_run = can(user=request.user, project=dataset.project, activity=Activity.RUN_JOBS)
    ready = dataset.status == DatasetStatus.READY and dataset.current_version is not None
    return {
        "project": dataset.project, "dataset": dataset, "can_run": can_run, "ready": ready,
        "reports": list(insights_report_list(user=request.user, dataset=dataset)[:RECENT_REPORTS]),
        "form": (form or ReportStartForm(columns=_columns(dataset))) if can_run and ready else None,
    }


def _report_context(request: HttpRequest, report: InsightsReport) -> dict[str, Any]:
    project, dataset = report.dataset.project, report.dataset
    context: dict[str, Any] = {"active_area": "data", "project": project, "dataset": dataset, "report": report,
                               "job": report.job, "live": report.job is not None and report.job.is_active}
    result = None if context["live"] else insights_report_result(report=report)
    context["result"] = result
    if result is None:
        return context
    context["proposal_url"] = reverse("wrangler:proposal_add", kwargs={"project": project.slug})
    context["missing_percent"] = f"{result['summary']['missing_ratio']:.2%}"
    if result.get("anomalies"):
        context["anomaly_percent"] = f"{result['anomalies']['ratio']:.2%}"
    context["warnings"] = [_shown_warning(warning) for warning in result["warnings"]]
    context["column_charts"] = [
        {"profile": profile, "chart_id": f"chart-column-{index}",
         "figure": charts.column_figure(profile) if index < MAX_COLUMN_CHARTS else None}
        for index, profile in enumerate(result["columns"])
    ]
    context["charts_capped"] = len(result["columns"]) > MAX_COLUMN_CHARTS and MAX_COLUMN_CHARTS
    target = result.get("target")
    if target:
        profile = next((p for p in result["columns"] if p["name"] == target["column"]), None)
        context["target_figure"] = charts.target_figure(target, profile)
        if target.get("model"):
            context["importance_figure"] = charts.importance_figure(target["model"])
            context["scores"] = [{"label": SCORE_LABELS.get(name, name), "value": value}
                                 for name, value in target["model"]["scores"].items()]
        if target.get("prediction_power"):
            context["power_figure"] = charts.power_figure(target)
            context["leaks"] = [p for p in target["prediction_power"] if p["leakage"]]
    return context


def _shown_warning(warning: dict[str, Any]) -> dict[str, Any]:
    value = warning.get("value")
    if value is None:
        measured = "—"
    elif warning["kind"] in RATIO_KINDS:
        measured = f"{value:.2%}"
    else:
        measured = f"{value:,.4g}"
    fixes = [warning["fix"], *warning.get("alternatives", [])]
    return {**warning, "measured": measured, "title": warning["kind"].replace("_", " ").capitalize(),
            "fixes": [{**fix, "params_json": json.dumps(fix["params"], sort_keys=True)} for fix in fixes]}
