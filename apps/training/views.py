"""The Training pages: the list, the form that starts a training job (its hyperparameter fields follow the
chosen algorithm), and a job's page (live progress and learning curves while it trains, then the evaluation)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from apps.core.errors import UserError
from apps.core.models import JobMetric, Project
from apps.core.permissions import project_view
from apps.core.roles import Activity
from apps.core.selectors import can
from engine.training import ALGORITHMS, METRICS
from engine.training.script import network_isolation_problem

from . import charts
from .choices import chosen_data, data_choices
from .forms import ScriptTrainingForm, TrainingForm
from .models import TrainingJob
from .selectors import training_job_get, training_job_list, training_job_result
from .services import (
    training_job_start,
    training_onnx,
    training_onnx_status,
    training_script_source,
    training_script_start,
)

STOP_POLLING = 286
LIST_SIZE = 100


@project_view(Activity.VIEW)
@require_GET
def training_list(request: HttpRequest, project: Project) -> HttpResponse:
    jobs = list(training_job_list(user=request.user, project=project)[:LIST_SIZE])
    return render(request, "training/list.html", {
        "active_area": "training", "project": project, "jobs": jobs,
        "can_run": can(user=request.user, project=project, activity=Activity.RUN_JOBS),
        "can_code": can(user=request.user, project=project, activity=Activity.RUN_CODE)})


@project_view(Activity.RUN_JOBS)
@require_http_methods(["GET", "POST"])
def training_new(request: HttpRequest, project: Project) -> HttpResponse:
    """GET: the form, prefilled from the query (dataset, version, flow_run: the flow builder's hand-off).
    POST: start the job, or show the form again with the problem at its field."""
    data = request.POST if request.method == "POST" else request.GET
    form = _form(request, project, data, bound=request.method == "POST")
    if request.method == "POST" and form.is_valid():
        try:
            training = _start(request, project, form)
        except UserError as error:
            field = error.field if error.field in form.fields else f"hp_{error.field}"
            form.add_error(field if field in form.fields else None, error.message)
        else:
            return redirect("training:detail", project=project.slug, training_job_id=training.id)
    status = 400 if request.method == "POST" else 200
    return render(request, "training/new.html", {"active_area": "training", "project": project, "form": form},
                  status=status)


@project_view(Activity.RUN_CODE)
@require_http_methods(["GET", "POST"])
def training_new_script(request: HttpRequest, project: Project) -> HttpResponse:
    """GET: the script form (the data fields follow the chosen dataset over htmx). POST: start the script job,
    or show the form again with the problem at its field."""
    bound = request.method == "POST"
    form = _script_form(request, project, request.POST if bound else request.GET, bound=bound)
    if bound and form.is_valid():
        try:
            training = _start_script(request, project, form)
        except UserError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            return redirect("training:detail", project=project.slug, training_job_id=training.id)
    return render(request, "training/new_script.html", {"active_area": "training", "project": project,
                                                        "form": form}, status=400 if bound else 200)


@project_view(Activity.RUN_JOBS)
@require_GET
def training_form(request: HttpRequest, project: Project) -> HttpResponse:
    """The form again after the dataset or the algorithm changed (htmx): columns and hyperparameters follow."""
    form = _form(request, project, request.GET, bound=False)
    return render(request, "training/_form.html", {"project": project, "form": form})


@project_view(Activity.VIEW)
@require_GET
def training_detail(request: HttpRequest, project: Project, training_job_id: int) -> HttpResponse:
    training = training_job_get(user=request.user, project=project, training_job_id=training_job_id)
    return render(request, "training/detail.html", _detail_context(request, training))


@project_view(Activity.VIEW)
@require_GET
def training_onnx_download(request: HttpRequest, project: Project, training_job_id: int) -> HttpResponse:
    """The model as an ONNX file (its input: the feature matrix the bundle's feature plan makes)."""
    training = training_job_get(user=request.user, project=project, training_job_id=training_job_id)
    data, name = training_onnx(training=training)
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@project_view(Activity.VIEW)
@require_GET
def training_live(request: HttpRequest, project: Project, training_job_id: int) -> HttpResponse:
    """Polled while the job works: progress and learning curves; once it has ended, the evaluation with 286."""
    training = training_job_get(user=request.user, project=project, training_job_id=training_job_id)
    context = _detail_context(request, training)
    response = render(request, "training/_body.html", context)
    if not context["live"]:
        response.status_code = STOP_POLLING
    return response


# --- helpers -------------------------------------------------------------------------------------------------

def _form(request: HttpRequest, project: Project, data: QueryDict, *, bound: bool) -> TrainingForm:
    choices = data_choices(user=request.user, project=project, data=data)
    kwargs: dict[str, Any] = {**choices.form_kwargs(), "algorithm": data.get("algorithm") or "xgboost",
                              "refresh_url": reverse("training:form", kwargs={"project": project.slug})}
    if bound:
        return TrainingForm(data, **kwargs)
    return TrainingForm(initial=choices.initial(data, ("dataset", "version", "flow_run", "algorithm", "target")),
                        **kwargs)


def _start(request: HttpRequest, project: Project, form: TrainingForm) -> TrainingJob:
    data = form.cleaned_data
    dataset, flow_run = chosen_data(user=request.user, project=project, dataset_id=data["dataset"],
                                    flow_run_id=data.get("flow_run"))
    return training_job_start(
        project=project, user=request.user, dataset=dataset, algorithm=data["algorithm"], target=data["target"],
        version_number=int(data["version"]) if data.get("version") else None,
        hyperparameters=form.hyperparameters(), problem_type=data["problem_type"], validation=data["validation"],
        folds=data["folds"] or 5, test_share=data["test_share"] or 0.2, exclude=data["exclude"],
        flow_run=flow_run, name=data["name"], experiment=data["experiment"])


def _script_form(request: HttpRequest, project: Project, data: QueryDict, *, bound: bool) -> ScriptTrainingForm:
    choices = data_choices(user=request.user, project=project, data=data)
    kwargs: dict[str, Any] = {
        **choices.form_kwargs(), "max_timeout": settings.SCRIPT_TIMEOUT_SECONDS,
        "max_memory": settings.SCRIPT_MEMORY_MB, "isolation_problem": network_isolation_problem(),
        "refresh_url": reverse("training:new-script", kwargs={"project": project.slug})}
    kwargs.pop("flow_runs")  # a script reads the version's Parquet itself
    if bound:
        return ScriptTrainingForm(data, request.FILES, **kwargs)
    return ScriptTrainingForm(initial=choices.initial(data, tuple(ScriptTrainingForm.base_fields)), **kwargs)


def _start_script(request: HttpRequest, project: Project, form: ScriptTrainingForm) -> TrainingJob:
    data = form.cleaned_data
    dataset, _ = chosen_data(user=request.user, project=project, dataset_id=data["dataset"])
    return training_script_start(
        project=project, user=request.user, dataset=dataset, script=data["script"],
        version_number=int(data["version"]) if data.get("version") else None,
        hyperparameters=data["hyperparameters"], metric_definitions=data["metric_definitions"],
        timeout_seconds=data["timeout_seconds"], memory_mb=data["memory_mb"],
        network_isolation=bool(data.get("network_isolation")), target=data.get("target") or "",
        name=data["name"], experiment=data["experiment"])


def _metric_rows(metrics: dict[str, float]) -> list[dict[str, Any]]:
    rows = []
    for name, value in metrics.items():
        entry = METRICS.get(name)
        rows.append({"name": name, "label": entry.label if entry else name.replace("_", " "), "value": value,
                     "better": ("higher" if entry.greater_is_better else "lower") if entry else ""})
    return rows


def _detail_context(request: HttpRequest, training: TrainingJob) -> dict[str, Any]:
    job = training.job
    live = job is not None and job.is_active
    points = list(JobMetric.objects.filter(job=job).order_by("id")) if job is not None else []
    algorithm = ALGORITHMS.get(training.algorithm)
    context: dict[str, Any] = {
        "active_area": "training", "project": training.project, "training": training, "job": job, "live": live,
        "algorithm": algorithm, "curves": charts.learning_curves(points),
        "can_run": can(user=request.user, project=training.project, activity=Activity.RUN_JOBS),
        "hyperparameters": sorted(training.hyperparameters.items()),
        "can_register": can(user=request.user, project=training.project, activity=Activity.MANAGE_MODELS),
    }
    if training.is_script:
        # A script's metrics are whatever its regexes read, so every metric is a curve over its occurrences.
        context["curves"] = charts.metric_curves(points)
        context["script_metrics"] = sorted((training.summary.get("metrics") or {}).items())
        try:
            context["script_source"] = training_script_source(training=training)
        except UserError as error:
            context["script_source"] = f"# {error.message}"
        return context
    result = None if live else training_job_result(training=training)
    context["result"] = result
    if result is not None:
        context["metric_rows"] = _metric_rows(result["metrics"])
        context["train_rows"] = _metric_rows(result.get("train_metrics") or {})
        context["test_rows"] = _metric_rows(result.get("test_metrics") or {})
        context["figures"] = charts.result_figures(result)
        context["onnx_ok"], context["onnx_reason"] = training_onnx_status(training=training)
    return context
