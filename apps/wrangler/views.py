"""The flow builder: the list of a project's flows and one flow's screen (steps on the left, the preview of
the output on the right). Every edit is an htmx POST answered with the re-rendered builder, so the preview
follows each change without a page load; without htmx the same POSTs redirect back to the page."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_POST

from apps.core.errors import UserError
from apps.core.models import Project
from apps.core.permissions import project_view
from apps.core.roles import Activity
from apps.core.selectors import can
from apps.datasets.models import DatasetStatus
from apps.datasets.selectors import dataset_get, dataset_list
from engine.datasets import table_view
from engine.wrangler import TransformError, transform_get

from . import services
from .forms import form_fields, params_from_post
from .models import Flow
from .selectors import flow_get, flow_list, flow_runs, transform_families

STOP_POLLING = 286


@project_view(Activity.VIEW)
@require_GET
def flow_list_view(request: HttpRequest, project: Project) -> HttpResponse:
    ready = dataset_list(user=request.user, project=project).filter(status=DatasetStatus.READY)
    chosen = request.GET.get("dataset", "")
    flows = flow_list(user=request.user, project=project)
    if chosen.isdigit():
        flows = flows.filter(dataset_id=int(chosen))
    return render(request, "wrangler/list.html", {
        "active_area": "data", "project": project, "flows": flows, "chosen": int(chosen) if chosen.isdigit() else None,
        "datasets": ready, "can_manage": can(user=request.user, project=project, activity=Activity.MANAGE_DATA),
    })


@project_view(Activity.MANAGE_DATA)
@require_POST
def flow_create_view(request: HttpRequest, project: Project) -> HttpResponse:
    dataset_id = request.POST.get("dataset", "")
    if not dataset_id.isdigit():
        raise UserError("Choose a dataset to prepare.", field="dataset")
    dataset = dataset_get(user=request.user, project=project, dataset_id=int(dataset_id))
    flow = services.flow_create(project=project, user=request.user, dataset=dataset,
                                name=request.POST.get("name", ""))
    return redirect("wrangler:builder", project=project.slug, flow_id=flow.id)


@project_view(Activity.VIEW)
@require_GET
def flow_builder(request: HttpRequest, project: Project, flow_id: int) -> HttpResponse:
    flow = flow_get(user=request.user, project=project, flow_id=flow_id)
    return render(request, "wrangler/builder.html", _builder_context(request, flow))


@project_view(Activity.VIEW)
@require_GET
def flow_preview_view(request: HttpRequest, project: Project, flow_id: int) -> HttpResponse:
    # The preview reads the flow's own fields only (its input version is looked up by dataset id): no joins.
    flow = flow_get(user=request.user, project=project, flow_id=flow_id, related=())
    page = request.GET.get("page", "1")
    return render(request, "wrangler/_preview.html",
                  _preview_context(flow, page=int(page) if page.isdigit() else 1))


@project_view(Activity.VIEW)
@require_GET
def transform_picker(request: HttpRequest, project: Project, flow_id: int) -> HttpResponse:
    flow = flow_get(user=request.user, project=project, flow_id=flow_id)
    query = request.GET.get("q", "")[:100]
    return render(request, "wrangler/_picker.html",
                  {"project": project, "flow": flow, "families": transform_families(query=query), "query": query,
                   "custom_code": settings.CUSTOM_CODE_STEPS})


@project_view(Activity.MANAGE_DATA)
@require_GET
def step_form(request: HttpRequest, project: Project, flow_id: int) -> HttpResponse:
    """The parameter form: for a new step (?transform=) at the end, or for an existing one (?step=)."""
    flow = flow_get(user=request.user, project=project, flow_id=flow_id)
    step = flow.step(request.GET.get("step", "")) if request.GET.get("step") else None
    name = step["transform"] if step else request.GET.get("transform", "")
    try:
        spec = transform_get(name)
    except TransformError as error:
        raise UserError(error.message, field="transform") from None
    preview = _safe_preview(flow)
    index = flow.steps.index(step) if step else len(flow.steps)
    columns = _columns_at(preview, index)
    report = preview.reports[index] if step and preview is not None else None
    fields = form_fields(spec, step["params"] if step else {}, columns,
                         _datasets(request, project), report and report["error_param"], report and report["error"])
    return render(request, "wrangler/_step_form.html",
                  {"project": project, "flow": flow, "spec": spec, "step": step, "fields": fields})


def _edit_view(activity: str = Activity.MANAGE_DATA):
    """An edit POST: calls the service, answers the builder (htmx) or redirects; a UserError is shown on
    the builder rather than as an error page, so the flow stays in front of the user."""

    def decorate(edit):
        @project_view(activity)
        @require_POST
        def view(request: HttpRequest, project: Project, flow_id: int, **kwargs: Any) -> HttpResponse:
            flow = flow_get(user=request.user, project=project, flow_id=flow_id)
            problem = ""
            try:
                flow = edit(request, flow, **kwargs) or flow
            except UserError as error:
                if not request.headers.get("HX-Request"):
                    raise
                problem = error.message
            if not request.headers.get("HX-Request"):
                return redirect("wrangler:builder", project=project.slug, flow_id=flow.id)
            flow.refresh_from_db()
            return render(request, "wrangler/_builder.html", _builder_context(request, flow, problem=problem))

        view.__name__ = edit.__name__
        view.__doc__ = edit.__doc__
        return view

    return decorate


@_edit_view()
def step_add(request: HttpRequest, flow: Flow) -> Flow:
    spec = _spec(request.POST.get("transform", ""))
    return services.flow_step_add(flow=flow, user=request.user, transform=spec.name,
                                  params=params_from_post(spec, request.POST), strict=False)


@_edit_view()
def step_update(request: HttpRequest, flow: Flow, step_id: str) -> Flow:
    step = flow.step(step_id)
    if step is None:
        raise UserError("There is no such step in this flow (it may have been deleted meanwhile).", field="step")
    spec = _spec(step["transform"])
    return services.flow_step_update(flow=flow, user=request.user, step_id=step_id,
                                     params=params_from_post(spec, request.POST), strict=False)


@_edit_view()
def step_move(request: HttpRequest, flow: Flow, step_id: str) -> Flow:
    direction = request.POST.get("direction", "")
    if direction not in ("up", "down"):
        raise UserError("Move a step 'up' or 'down'.", field="direction")
    return services.flow_step_move(flow=flow, user=request.user, step_id=step_id,
                                   offset=-1 if direction == "up" else 1)


@_edit_view()
def step_toggle(request: HttpRequest, flow: Flow, step_id: str) -> Flow:
    return services.flow_step_toggle(flow=flow, user=request.user, step_id=step_id)


@_edit_view()
def step_delete(request: HttpRequest, flow: Flow, step_id: str) -> Flow:
    return services.flow_step_delete(flow=flow, user=request.user, step_id=step_id)


@_edit_view()
def flow_undo_view(request: HttpRequest, flow: Flow) -> Flow:
    return services.flow_undo(flow=flow, user=request.user)


@_edit_view()
def flow_settings(request: HttpRequest, flow: Flow) -> Flow:
    rows = request.POST.get("sample_rows", "").strip()
    if rows and not rows.isdigit():
        raise UserError("The sample size is a whole number of rows.", field="sample_rows")
    version = None
    number = request.POST.get("version", "").strip()
    if number.isdigit():
        version = flow.dataset.versions.filter(number=int(number)).first()
    return services.flow_update(
        flow=flow, user=request.user, name=request.POST.get("name") or None, version=version,
        follow_latest=number in ("", "latest"), sample_method=request.POST.get("sample_method") or None,
        sample_rows=int(rows) if rows else None)


@_edit_view(Activity.RUN_JOBS)
def flow_apply_view(request: HttpRequest, flow: Flow) -> Flow:
    job = services.flow_apply_start(flow=flow, user=request.user,
                                    new_dataset_name=request.POST.get("new_dataset_name", ""))
    messages.success(request, f"Started job {job.id}: {job.title}.")
    return flow


@_edit_view(Activity.RUN_JOBS)
def flow_schedule_view(request: HttpRequest, flow: Flow) -> Flow:
    return services.flow_schedule_set(flow=flow, user=request.user, cron=request.POST.get("schedule", ""),
                                      rerun_on_import="rerun_on_import" in request.POST)


@project_view(Activity.VIEW)
@require_GET
def flow_runs_view(request: HttpRequest, project: Project, flow_id: int) -> HttpResponse:
    """Polled while a run is active; 286 stops the polling once none is."""
    flow = flow_get(user=request.user, project=project, flow_id=flow_id)
    context = {"project": project, "flow": flow, "runs_poll": True, **_runs_context(flow)}
    response = render(request, "wrangler/_runs.html", context)
    if not context["runs_active"]:
        response.status_code = STOP_POLLING
    return response


@project_view(Activity.MANAGE_DATA)
@require_POST
def flow_delete_view(request: HttpRequest, project: Project, flow_id: int) -> HttpResponse:
    flow = flow_get(user=request.user, project=project, flow_id=flow_id)
    services.flow_delete(flow=flow, user=request.user)
    messages.success(request, f"Deleted flow '{flow.name}'.")
    return redirect("wrangler:list", project=project.slug)


@project_view(Activity.VIEW)
@require_GET
def flow_export_view(request: HttpRequest, project: Project, flow_id: int) -> HttpResponse:
    flow = flow_get(user=request.user, project=project, flow_id=flow_id)
    return attachment(services.flow_export_script(flow=flow), services.script_filename(flow), "text/x-python")


@project_view(Activity.VIEW)
@require_GET
def flow_fitted_view(request: HttpRequest, project: Project, flow_id: int) -> HttpResponse:
    flow = flow_get(user=request.user, project=project, flow_id=flow_id)
    return attachment(json.dumps(fitted_or_409(flow), indent=1, sort_keys=True),
                      services.script_filename(flow).replace(".py", "-fitted.json"), "application/json")


@project_view(Activity.MANAGE_DATA)
@require_POST
def proposal_add_view(request: HttpRequest, project: Project) -> HttpResponse:
    """A proposed step from another page (the insights report): fields dataset, transform, params (JSON)."""
    dataset_id = request.POST.get("dataset", "")
    if not dataset_id.isdigit():
        raise UserError("Say which dataset the step is for.", field="dataset")
    dataset = dataset_get(user=request.user, project=project, dataset_id=int(dataset_id))
    try:
        params = json.loads(request.POST.get("params") or "{}")
    except json.JSONDecodeError:
        raise UserError("'params' must be a JSON object.", field="params") from None
    flow = services.proposal_add(project=project, user=request.user, dataset=dataset,
                                 transform=request.POST.get("transform", ""), params=params)
    messages.success(request, f"Added a {request.POST.get('transform')} step to flow '{flow.name}'.")
    return redirect("wrangler:builder", project=project.slug, flow_id=flow.id)


# --- helpers -------------------------------------------------------------------------------------------------

def attachment(text: str, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(text.encode(), content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def fitted_or_409(flow: Flow) -> dict[str, Any]:
    from apps.core.errors import Conflict

    if flow.fitted is None:
        raise Conflict("This flow has not been applied yet, so it has no fitted values to download.")
    return services.fitted_json(artifact=flow.fitted)


def _spec(name: str):
    try:
        return transform_get(name)
    except TransformError as error:
        raise UserError(error.message, field="transform") from None


def _datasets(request: HttpRequest, project: Project) -> list[tuple[str, str]]:
    ready = dataset_list(user=request.user, project=project).filter(status=DatasetStatus.READY)
    return [(str(dataset.id), dataset.name) for dataset in ready]


def _safe_preview(flow: Flow, page: int = 1) -> services.Preview | None:
    try:
        return services.flow_preview(flow=flow, page=page)
    except UserError:
        return None


def _columns_at(preview: services.Preview | None, index: int) -> list[str]:
    if preview is None:
        return []
    if index < len(preview.step_columns):
        return preview.step_columns[index]
    return [column.name for column in preview.columns]


def _preview_context(flow: Flow, page: int = 1) -> dict[str, Any]:
    try:
        preview = services.flow_preview(flow=flow, page=page)
        problem = ""
    except UserError as error:
        preview, problem = None, error.message
    preview_url = reverse("wrangler:preview", kwargs={"project": flow.project.slug, "flow_id": flow.id})
    head = _head_html(preview) if preview is not None else SafeString("")
    body = _body_html(preview) if preview is not None else SafeString("")
    return {"flow": flow, "project": flow.project, "preview": preview, "preview_problem": problem,
            "preview_url": preview_url, "preview_head": head, "preview_body": body}


def _head_html(preview: services.Preview) -> SafeString:
    """The column headers (name, dtype, added/changed highlight), built here like the rows below them."""
    cells = []
    for column in preview.columns:
        name, status = escape(column.name), escape(column.status)
        cells.append(f'<th class="{f"col-{status}" if status else ""}" data-column="{name}" '
                     f'title="{status or "unchanged"}">{name}<div class="muted small">{escape(column.dtype)}</div></th>')
    return SafeString("".join(cells))  # nosec B703 - every value is escaped above


NULL_CELL = '<span class="null">null</span>'


def _body_html(preview: services.Preview) -> SafeString:
    """The page's table rows, escaped here rather than in a template loop (a page has thousands of cells).
    Cells are rendered a column at a time from the preview's JSON-ready columns, each shown as
    table_view.display_cell shows a value: numbers and booleans by a short path, anything else in full."""
    first = (preview.page - 1) * preview.page_size + 1
    columns = [_column_html(values, column.kind, f' class="col-{column.status}"' if column.status else "")
               for values, column in zip(preview.cells, preview.columns, strict=True)]
    numbers = [f'<tr><td class="num muted">{first + offset}</td>' for offset in range(len(preview.rows))]
    rows = ["".join(cells) for cells in zip(numbers, *columns, strict=True)]
    return SafeString("</tr>".join(rows) + "</tr>" if rows else "")  # nosec B703 - every value is escaped in _column_html


def _column_html(values: list[Any], kind: str, css: str) -> list[str]:
    null = f"<td{css}>{NULL_CELL}</td>"
    if kind == "number":  # ints, floats, "inf": short text with nothing to escape
        return [null if value is None else f"<td{css}>{value}</td>" for value in values]
    if kind == "bool":
        return [null if value is None else f"<td{css}>{'true' if value else 'false'}</td>" for value in values]
    out = []
    for value in values:
        cell = table_view.display_cell(value)
        if cell["null"]:
            out.append(null)
        else:
            title = f' title="{escape(cell["title"])}"' if cell["title"] else ""
            out.append(f"<td{css}{title}>{escape(cell['text'])}</td>")
    return out


def _runs_context(flow: Flow) -> dict[str, Any]:
    runs = list(flow_runs(flow=flow)[:10])
    return {"runs": runs, "runs_active": any(run.job is not None and run.job.is_active for run in runs)}


def _builder_context(request: HttpRequest, flow: Flow, *, problem: str = "") -> dict[str, Any]:
    project = flow.project
    context = {"active_area": "data", "project": project, "flow": flow, "problem": problem,
               "can_manage": can(user=request.user, project=project, activity=Activity.MANAGE_DATA),
               "can_run": can(user=request.user, project=project, activity=Activity.RUN_JOBS),
               "versions": list(flow.dataset.versions.order_by("-number").values_list("number", flat=True)[:50]),
               **_preview_context(flow), **_runs_context(flow)}
    preview = context["preview"]
    reports = {report["id"]: report for report in preview.reports} if preview else {}
    datasets = _datasets(request, project)
    steps = []
    for index, step in enumerate(flow.steps):
        report = reports.get(step["id"])
        entry = {"step": step, "report": report, "first": index == 0, "last": index == len(flow.steps) - 1,
                 "number": index + 1, "summary": _step_summary(step)}
        if report and not report["ok"] and report["error"] != "Not run: an earlier step failed.":
            # A failing step opens its form, with the parameter at fault marked.
            try:
                spec = transform_get(step["transform"])
                entry["fields"] = form_fields(spec, step["params"], _columns_at(preview, index), datasets,
                                              report["error_param"], report["error"])
                entry["spec"] = spec
            except TransformError:
                pass
        steps.append(entry)
    context["steps"] = steps
    context["total_seconds"] = sum(report["seconds"] for report in preview.reports) if preview else 0
    return context


def _step_summary(step: dict[str, Any]) -> str:
    parts = []
    for key, value in step.get("params", {}).items():
        if isinstance(value, dict):
            value = ", ".join(f"{old} → {new}" for old, new in value.items())
        elif isinstance(value, list):
            value = ", ".join(str(item) for item in value)
        parts.append(f"{key}: {value}")
    text = "; ".join(parts)
    return text if len(text) <= 140 else text[:139] + "…"
