"""The AutoML pages, reached from the Training area: the list, the Canvas-style form (the problem type shown as
inferred once the target is chosen), and a job's page: live progress and the leaderboard growing while it
searches, then the leaderboard, the best model's report, global importance, downloads, what-if and batch
predictions."""

from __future__ import annotations

from typing import Any

import pandas as pd
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.errors import UserError
from apps.core.models import Project
from apps.core.permissions import project_view
from apps.core.roles import Activity
from apps.core.selectors import can
from apps.datasets.models import DatasetVersion
from apps.datasets.selectors import version_parquet_path
from apps.training.choices import chosen_data, data_choices
from engine.training import ALGORITHMS, METRICS

from . import charts
from .forms import AutoMLForm
from .models import AutoMLJob, ProblemType
from .selectors import automl_job_evaluation, automl_job_get, automl_job_list
from .services import (
    automl_job_start,
    automl_onnx,
    automl_onnx_status,
    automl_predict_frame,
    automl_what_if,
    csv_bytes,
    csv_read,
    target_problem_type_infer,
)

STOP_POLLING = 286
LIST_SIZE = 100
READ = Activity.VIEW_EXPERIMENTS  # models and their scores: not for labelers, as experiments are not


@project_view(READ)
@require_GET
def automl_list(request: HttpRequest, project: Project) -> HttpResponse:
    jobs = list(automl_job_list(user=request.user, project=project)[:LIST_SIZE])
    return render(request, "automl/list.html", {
        "active_area": "training", "project": project, "jobs": jobs,
        "can_run": can(user=request.user, project=project, activity=Activity.RUN_JOBS)})


@project_view(Activity.RUN_JOBS)
@require_http_methods(["GET", "POST"])
def automl_new(request: HttpRequest, project: Project) -> HttpResponse:
    """GET: the form (prefilled from the query). POST: start the job, or show the form with the problem."""
    data = request.POST if request.method == "POST" else request.GET
    form, context = _form(request, project, data, bound=request.method == "POST")
    if request.method == "POST" and form.is_valid():
        try:
            automl = _start(request, project, form)
        except UserError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            return redirect("automl:detail", project=project.slug, automl_job_id=automl.id)
    return render(request, "automl/new.html", {**context, "form": form},
                  status=400 if request.method == "POST" else 200)


@project_view(Activity.RUN_JOBS)
@require_GET
def automl_form(request: HttpRequest, project: Project) -> HttpResponse:
    """The form's fields again after the dataset or the target changed (htmx)."""
    form, context = _form(request, project, request.GET, bound=False)
    return render(request, "automl/_fields.html", {**context, "form": form})


@project_view(READ)
@require_GET
def automl_detail(request: HttpRequest, project: Project, automl_job_id: int) -> HttpResponse:
    automl = automl_job_get(user=request.user, project=project, automl_job_id=automl_job_id)
    return render(request, "automl/detail.html", _detail_context(request, automl))


@project_view(READ)
@require_GET
def automl_onnx_download(request: HttpRequest, project: Project, automl_job_id: int) -> HttpResponse:
    """The best model as an ONNX file (its input: the feature matrix the bundle's feature plan makes)."""
    automl = automl_job_get(user=request.user, project=project, automl_job_id=automl_job_id)
    data, name = automl_onnx(automl=automl)
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@project_view(READ)
@require_GET
def automl_live(request: HttpRequest, project: Project, automl_job_id: int) -> HttpResponse:
    """Polled while the job searches: progress and the leaderboard so far; once it has ended, the report (286)."""
    automl = automl_job_get(user=request.user, project=project, automl_job_id=automl_job_id)
    context = _detail_context(request, automl)
    response = render(request, "automl/_body.html", context)
    if not context["live"]:
        response.status_code = STOP_POLLING
    return response


@project_view(READ)
@require_POST
def automl_what_if_view(request: HttpRequest, project: Project, automl_job_id: int) -> HttpResponse:
    """The what-if form's answer (htmx): the prediction, class probabilities and each column's impact."""
    automl = automl_job_get(user=request.user, project=project, automl_job_id=automl_job_id)
    row = {column["name"]: request.POST.get(f"col_{column['name']}", "")
           for column in automl.summary.get("signature", [])}
    answer = automl_what_if(automl=automl, row=row)
    return render(request, "automl/_what_if_answer.html", {"answer": answer, "automl": automl})


@project_view(READ)
@require_POST
def automl_predict_view(request: HttpRequest, project: Project, automl_job_id: int) -> HttpResponse:
    """Batch prediction of an uploaded CSV, answered at once as a CSV download (bounded in size and rows)."""
    automl = automl_job_get(user=request.user, project=project, automl_job_id=automl_job_id)
    upload = request.FILES.get("file")
    if upload is None:
        raise UserError("Choose a CSV file to predict.", field="file")
    frame = automl_predict_frame(automl=automl, frame=csv_read(data=upload.read()))
    response = HttpResponse(csv_bytes(frame=frame), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="automl-{automl.id}-predictions.csv"'
    return response


# --- helpers -------------------------------------------------------------------------------------------------

def _inferred(version: DatasetVersion | None, target: str) -> str:
    if version is None or not target or target not in version.column_names:
        return ""
    try:
        frame = pd.read_parquet(version_parquet_path(version=version), columns=[target])
        return target_problem_type_infer(frame=frame, target=target)
    except (UserError, OSError, ValueError):
        return ""


def _form(request: HttpRequest, project: Project, data: QueryDict, *,
          bound: bool) -> tuple[AutoMLForm, dict[str, Any]]:
    choices = data_choices(user=request.user, project=project, data=data)
    kwargs: dict[str, Any] = {**choices.form_kwargs(),
                              "refresh_url": reverse("automl:form", kwargs={"project": project.slug})}
    if bound:
        form = AutoMLForm(data, **kwargs)
    else:
        form = AutoMLForm(initial=choices.initial(data, ("dataset", "version", "target", "problem_type", "budget",
                                                         "budget_seconds")), **kwargs)
    version = choices.version
    inferred = _inferred(version, data.get("target") or "")
    return form, {"active_area": "training", "project": project, "inferred": inferred,
                  "inferred_label": ProblemType(inferred).label if inferred else ""}


def _start(request: HttpRequest, project: Project, form: AutoMLForm) -> AutoMLJob:
    data = form.cleaned_data
    dataset, flow_run = chosen_data(user=request.user, project=project, dataset_id=data["dataset"],
                                    flow_run_id=data.get("flow_run"))
    return automl_job_start(
        project=project, user=request.user, dataset=dataset, target=data["target"],
        version_number=int(data["version"]) if data.get("version") else None, problem_type=data["problem_type"],
        budget=data["budget"], budget_seconds=data.get("budget_seconds"), metric=data["metric"],
        algorithms=data["algorithms"], max_trials=data.get("max_trials"), folds=data.get("folds") or 5,
        test_share=data["test_share"] if data.get("test_share") is not None else 0.2, flow_run=flow_run,
        name=data["name"], experiment=data["experiment"])


def _what_if_fields(automl: AutoMLJob) -> list[dict[str, Any]]:
    typical = automl.summary.get("typical_row") or {}
    return [{"name": column["name"], "type": column["type"], "value": typical.get(column["name"]),
             "numeric": column["type"] == "numeric"} for column in automl.summary.get("signature", [])]


def _detail_context(request: HttpRequest, automl: AutoMLJob) -> dict[str, Any]:
    job = automl.job
    live = job is not None and job.is_active
    metric = automl.summary.get("metric") or ""
    entry = METRICS.get(metric)
    context: dict[str, Any] = {
        "active_area": "training", "project": automl.project, "automl": automl, "job": job, "live": live,
        "metric": metric, "metric_label": entry.label if entry else metric,
        "better": ("higher" if entry.greater_is_better else "lower") if entry else "",
        "leaderboard": automl.leaderboard,
        "algorithm_labels": {name: algorithm.label for name, algorithm in ALGORITHMS.items()},
        "can_run": can(user=request.user, project=automl.project, activity=Activity.RUN_JOBS),
        "can_register": can(user=request.user, project=automl.project, activity=Activity.MANAGE_MODELS),
    }
    if automl.leaderboard:
        context["progress_chart"] = charts.leaderboard_figure(automl.leaderboard, metric)
    document = None if live else automl_job_evaluation(automl=automl)
    context["document"] = document
    if document is not None:
        test = document.get("test") or {}
        context["test_rows"] = [{"name": name, "label": METRICS[name].label if name in METRICS else name,
                                 "value": value} for name, value in (test.get("metrics") or {}).items()]
        context["figures"] = charts.evaluation_figures(test)
        if automl.importance:
            context["importance_chart"] = charts.importance_figure(automl.importance,
                                                                   automl.summary.get("importance_method", ""))
        context["what_if_fields"] = _what_if_fields(automl)
        context["onnx_ok"], context["onnx_reason"] = automl_onnx_status(automl=automl)
    return context
