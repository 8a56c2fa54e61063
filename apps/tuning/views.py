"""The Tuning pages (part of the Training area): the list, the form that starts a tuning job (the training
form's data choices, then the search and a ranges editor), and a job's page: live progress, the trials
table, and the charts (objective over trials, parallel coordinates, importance once it has ended)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.errors import UserError
from apps.core.models import Project
from apps.core.permissions import project_view
from apps.core.roles import Activity
from apps.core.selectors import can
from apps.training.choices import chosen_data, data_choices
from engine.training import ALGORITHMS

from . import charts
from .forms import TuningForm
from .models import TuningJob
from .selectors import tuning_job_get, tuning_job_list, tuning_trial_records, tuning_trials
from .services import tuning_job_start, tuning_job_stop

STOP_POLLING = 286
LIST_SIZE = 100
MAX_COMPARED = 50  # the Experiments compare page's limit


@project_view(Activity.VIEW)
@require_GET
def tuning_list(request: HttpRequest, project: Project) -> HttpResponse:
    jobs = list(tuning_job_list(user=request.user, project=project)[:LIST_SIZE])
    return render(request, "tuning/list.html", {
        "active_area": "training", "active_tab": "tuning", "project": project, "jobs": jobs,
        "can_run": can(user=request.user, project=project, activity=Activity.RUN_JOBS)})


@project_view(Activity.RUN_JOBS)
@require_http_methods(["GET", "POST"])
def tuning_new(request: HttpRequest, project: Project) -> HttpResponse:
    """GET: the form (prefilled from the query). POST: start the tuning job, or show the form again with the
    problem at its field."""
    data = request.POST if request.method == "POST" else request.GET
    form = _form(request, project, data, bound=request.method == "POST")
    if request.method == "POST" and form.is_valid():
        try:
            tuning = _start(request, project, form)
        except UserError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            return redirect("tuning:detail", project=project.slug, tuning_job_id=tuning.id)
    return render(request, "tuning/new.html", {"active_area": "training", "active_tab": "tuning",
                                               "project": project, "form": form},
                  status=400 if request.method == "POST" else 200)


@project_view(Activity.RUN_JOBS)
@require_GET
def tuning_form(request: HttpRequest, project: Project) -> HttpResponse:
    """The form again after the dataset, algorithm or problem type changed (htmx)."""
    return render(request, "tuning/_form.html", {"project": project,
                                                 "form": _form(request, project, request.GET, bound=False)})


@project_view(Activity.VIEW)
@require_GET
def tuning_detail(request: HttpRequest, project: Project, tuning_job_id: int) -> HttpResponse:
    tuning = tuning_job_get(user=request.user, project=project, tuning_job_id=tuning_job_id)
    return render(request, "tuning/detail.html", _detail_context(request, tuning))


@project_view(Activity.VIEW)
@require_GET
def tuning_live(request: HttpRequest, project: Project, tuning_job_id: int) -> HttpResponse:
    """Polled while the tuning job runs: progress, trials and charts; once it has ended, the last of them
    with 286 so polling stops."""
    tuning = tuning_job_get(user=request.user, project=project, tuning_job_id=tuning_job_id)
    context = _detail_context(request, tuning)
    response = render(request, "tuning/_body.html", context)
    if not context["live"]:
        response.status_code = STOP_POLLING
    return response


@project_view(Activity.RUN_JOBS)
@require_POST
def tuning_stop(request: HttpRequest, project: Project, tuning_job_id: int) -> HttpResponse:
    tuning = tuning_job_get(user=request.user, project=project, tuning_job_id=tuning_job_id)
    tuning_job_stop(tuning=tuning, user=request.user)
    return redirect("tuning:detail", project=project.slug, tuning_job_id=tuning.id)


# --- helpers -------------------------------------------------------------------------------------------------

def _form(request: HttpRequest, project: Project, data: QueryDict, *, bound: bool) -> TuningForm:
    choices = data_choices(user=request.user, project=project, data=data)
    earlier = tuning_job_list(user=request.user, project=project)[:50]
    algorithm = data.get("algorithm") or "xgboost"
    problem_type = data.get("problem_type") or ""
    kwargs: dict[str, Any] = {
        **choices.form_kwargs(), "algorithm": algorithm,
        "refresh_url": reverse("tuning:form", kwargs={"project": project.slug}),
        "warm_starts": [(str(job.id), f"{job.name} ({job.algorithm}, {job.objective_metric})") for job in earlier],
        "problem_type": problem_type if ALGORITHMS.get(algorithm) and problem_type in ALGORITHMS[algorithm]
        .problem_types else ""}
    if bound:
        return TuningForm(data, **kwargs)
    return TuningForm(initial=choices.initial(data, ("dataset", "version", "flow_run", "algorithm", "target",
                                                     "strategy", "problem_type", "objective_metric",
                                                     "warm_start_from")), **kwargs)


def _start(request: HttpRequest, project: Project, form: TuningForm) -> TuningJob:
    data = form.cleaned_data
    dataset, flow_run = chosen_data(user=request.user, project=project, dataset_id=data["dataset"],
                                    flow_run_id=data.get("flow_run"))
    parent = None
    if data.get("warm_start_from"):
        parent = tuning_job_get(user=request.user, project=project, tuning_job_id=int(data["warm_start_from"]))
    return tuning_job_start(
        project=project, user=request.user, dataset=dataset, algorithm=data["algorithm"], strategy=data["strategy"],
        target=data["target"], version_number=int(data["version"]) if data.get("version") else None,
        problem_type=data["problem_type"], validation=data["validation"], folds=data["folds"] or 5,
        test_share=data["test_share"] or 0.2, exclude=data["exclude"], flow_run=flow_run, ranges=form.ranges(),
        objective_metric=data["objective_metric"], max_trials=data["max_trials"],
        max_parallel=data["max_parallel"], early_stopping=data["early_stopping"], warm_start_from=parent,
        name=data["name"], experiment=data["experiment"])


def _detail_context(request: HttpRequest, tuning: TuningJob) -> dict[str, Any]:
    job = tuning.job
    live = job is not None and job.is_active
    trials = list(tuning_trials(tuning=tuning))
    records = tuning_trial_records(tuning=tuning)
    run_ids = [trial.training_job.run_id for trial in sorted(
        (trial for trial in trials if trial.training_job and trial.training_job.run_id),
        key=lambda trial: (trial.value is None, -(trial.value or 0) if tuning.direction == "maximize"
                           else (trial.value or 0)))][:MAX_COMPARED]
    compare_url = ""
    if len(run_ids) >= 2:
        compare_url = reverse("experiments:compare", kwargs={"project": tuning.project.slug}) + \
            "?ids=" + ",".join(str(run_id) for run_id in run_ids)
    for trial in trials:
        trial.params_shown = [(name, _shown(value)) for name, value in trial.params.items()]  # type: ignore[attr-defined]
    figures = charts.tuning_figures(records, ranges=tuning.ranges, metric=tuning.objective_metric,
                                    direction=tuning.direction, importance=tuning.importance)
    return {
        "active_area": "training", "active_tab": "tuning", "project": tuning.project, "tuning": tuning, "job": job,
        "ranges_shown": [_range_text(entry) for entry in tuning.ranges or []],
        "wide_figures": [figure for figure in figures if figure["id"] == "parallel"],
        "live": live, "trials": trials, "algorithm": ALGORITHMS.get(tuning.algorithm),
        "done_count": sum(1 for trial in trials if trial.status != "running"),
        "figures": [figure for figure in figures if figure["id"] != "parallel"],
        "compare_url": compare_url,
        "can_run": can(user=request.user, project=tuning.project, activity=Activity.RUN_JOBS),
    }


def _shown(value: Any) -> str:
    if value is None:
        return "none"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _range_text(entry: dict[str, Any]) -> str:
    if "values" in entry:
        return f"{entry['name']} ∈ {{{', '.join(_shown(value) for value in entry['values'])}}}"
    scale = " (log)" if entry.get("scale") == "log" else ""
    return f"{entry['name']} {_shown(entry.get('min'))}–{_shown(entry.get('max'))}{scale}"
