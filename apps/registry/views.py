"""The Models pages: groups and their versions, registering a version (from a training job, an AutoML job
or an uploaded file), a version's page with its approval and lineage, comparing versions, the model card
with its history and exports, and the model dashboard."""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.automl.selectors import automl_job_get
from apps.core.errors import UserError
from apps.core.models import Project
from apps.core.permissions import project_view
from apps.core.roles import Activity
from apps.core.selectors import can
from apps.training.selectors import training_job_get
from engine.registry.formats import SUFFIXES
from engine.training import METRICS

from .cards import card_diff, card_html, card_pdf, card_sections, metric_rows
from .forms import AliasForm, ApprovalForm, CardForm, GroupForm, RegisterForm
from .models import CARD_TEXT_FIELDS, ModelGroup, ModelVersion
from .selectors import (
    card_revision_get,
    model_group_get,
    model_group_list,
    model_version_evaluation,
    model_version_get,
    model_version_list,
)
from .services import (
    card_content,
    model_alias_remove,
    model_alias_set,
    model_card_update,
    model_group_create,
    model_group_for,
    model_version_approval_set,
    model_version_file,
    model_version_integrity,
    model_version_register_automl,
    model_version_register_training,
    model_version_register_upload,
)

AREA = "models"
NO_ENDPOINTS = "none: endpoints are not built yet"


def _context(request: HttpRequest, project: Project, **extra: Any) -> dict[str, Any]:
    return {"active_area": AREA, "project": project,
            "can_manage": can(user=request.user, project=project, activity=Activity.MANAGE_MODELS),
            "can_approve": can(user=request.user, project=project, activity=Activity.APPROVE_MODELS), **extra}


@project_view(Activity.VIEW_EXPERIMENTS)
@require_GET
def registry_list(request: HttpRequest, project: Project) -> HttpResponse:
    return _list(request, project, GroupForm())


def _list(request: HttpRequest, project: Project, form: GroupForm, status: int = 200) -> HttpResponse:
    groups = model_group_list(user=request.user, project=project).prefetch_related("versions", "aliases__version")
    return render(request, "registry/list.html", _context(request, project, groups=groups, form=form), status=status)


@project_view(Activity.MANAGE_MODELS)
@require_POST
def registry_group_create(request: HttpRequest, project: Project) -> HttpResponse:
    form = GroupForm(request.POST)
    if form.is_valid():
        try:
            group = model_group_create(project=project, user=request.user, name=form.cleaned_data["name"],
                                       description=form.cleaned_data["description"])
        except UserError as error:
            form.add_error("name" if error.field == "name" else None, error.message)
        else:
            return redirect("registry:group", project=project.slug, group_id=group.id)
    return _list(request, project, form, status=400)


@project_view(Activity.MANAGE_MODELS)
@require_http_methods(["GET", "POST"])
def registry_register(request: HttpRequest, project: Project) -> HttpResponse:
    """Register a version. ?training_job=<id> or ?automl_job=<id> names the source; neither: a file upload."""
    source = _source(request, project)
    groups = [(str(group.id), group.name) for group in model_group_list(user=request.user, project=project)]
    bound = request.method == "POST"
    form = RegisterForm(request.POST if bound else None, request.FILES if bound else None, groups=groups,
                        upload=source is None)
    if bound and form.is_valid():
        try:
            version = _register(request, project, form, source)
        except UserError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            return redirect("registry:version", project=project.slug, version_id=version.id)
    return render(request, "registry/register.html", _context(request, project, form=form, source=source,
                                                             source_kind=type(source).__name__),
                  status=400 if bound else 200)


def _source(request: HttpRequest, project: Project) -> Any:
    training_id = request.GET.get("training_job") or ""
    automl_id = request.GET.get("automl_job") or ""
    if training_id.isdigit():
        return training_job_get(user=request.user, project=project, training_job_id=int(training_id))
    if automl_id.isdigit():
        return automl_job_get(user=request.user, project=project, automl_job_id=int(automl_id))
    return None


def _register(request: HttpRequest, project: Project, form: RegisterForm, source: Any) -> ModelVersion:
    data = form.cleaned_data
    chosen = (model_group_get(user=request.user, project=project, group_id=int(data["group"]))
              if data.get("group") else None)
    with transaction.atomic():  # a new group is kept only if the version it was made for is registered
        return _register_into(request, project, form, source, chosen)


def _register_into(request: HttpRequest, project: Project, form: RegisterForm, source: Any,
                   chosen: ModelGroup | None) -> ModelVersion:
    from apps.training.models import TrainingJob

    data = form.cleaned_data
    group = model_group_for(project=project, user=request.user, group=chosen, new_group_name=data.get("new_group", ""))
    if isinstance(source, TrainingJob):
        return model_version_register_training(group=group, training=source, user=request.user,
                                               description=data["description"])
    if source is not None:
        return model_version_register_automl(group=group, automl=source, user=request.user,
                                             description=data["description"])
    upload = data["file"]
    return model_version_register_upload(group=group, user=request.user, filename=upload.name, data=upload.read(),
                                         description=data["description"])


@project_view(Activity.VIEW_EXPERIMENTS)
@require_GET
def registry_group(request: HttpRequest, project: Project, group_id: int) -> HttpResponse:
    group = model_group_get(user=request.user, project=project, group_id=group_id)
    versions = list(group.versions.select_related("created_by", "card").order_by("-number"))
    alias_form = AliasForm(versions=[(str(v.id), f"v{v.number}") for v in versions])
    return render(request, "registry/group.html", _context(
        request, project, group=group, versions=versions, aliases=group.aliases.select_related("version"),
        alias_form=alias_form))


@project_view(Activity.MANAGE_MODELS)
@require_POST
def registry_alias_set(request: HttpRequest, project: Project, group_id: int) -> HttpResponse:
    group = model_group_get(user=request.user, project=project, group_id=group_id)
    version_id = request.POST.get("version") or ""
    if not version_id.isdigit():
        raise UserError("Choose the version the alias points to.")
    version = model_version_get(user=request.user, project=project, version_id=int(version_id))
    model_alias_set(group=group, user=request.user, name=request.POST.get("name", ""), version=version)
    return redirect("registry:group", project=project.slug, group_id=group.id)


@project_view(Activity.MANAGE_MODELS)
@require_POST
def registry_alias_remove(request: HttpRequest, project: Project, group_id: int) -> HttpResponse:
    group = model_group_get(user=request.user, project=project, group_id=group_id)
    model_alias_remove(group=group, user=request.user, name=request.POST.get("name", ""))
    return redirect("registry:group", project=project.slug, group_id=group.id)


@project_view(Activity.VIEW_EXPERIMENTS)
@require_GET
def registry_compare(request: HttpRequest, project: Project, group_id: int) -> HttpResponse:
    """The chosen versions' metrics side by side (all versions when none is chosen); the best is marked."""
    group = model_group_get(user=request.user, project=project, group_id=group_id)
    chosen = [int(value) for value in request.GET.getlist("versions") if value.isdigit()]
    versions = list(group.versions.order_by("number"))
    if chosen:
        versions = [version for version in versions if version.id in chosen]
    return render(request, "registry/compare.html", _context(
        request, project, group=group, versions=versions, rows=compare_rows(versions)))


def compare_rows(versions: list[ModelVersion]) -> list[dict[str, Any]]:
    """One row per metric: each version's value and which is best (by the metric's direction, when known)."""
    names: list[str] = []
    for version in versions:
        names += [name for name in version.metrics if name not in names]
    rows = []
    for name in names:
        values = [version.metrics.get(name) for version in versions]
        numbers = [value for value in values if isinstance(value, int | float)]
        entry = METRICS.get(name.removeprefix("test_"))
        best = None
        if entry is not None and len(numbers) > 1:
            best = max(numbers) if entry.greater_is_better else min(numbers)
        label = metric_rows({name: 0})[0]["label"]
        rows.append({"name": name, "label": label, "better": "" if entry is None else
                     ("higher" if entry.greater_is_better else "lower"),
                     "cells": [{"value": value, "best": best is not None and value == best} for value in values]})
    return rows


@project_view(Activity.VIEW_EXPERIMENTS)
@require_GET
def registry_version(request: HttpRequest, project: Project, version_id: int) -> HttpResponse:
    version = model_version_get(user=request.user, project=project, version_id=version_id)
    return render(request, "registry/version.html", _context(
        request, project, version=version, group=version.group, integrity=model_version_integrity(version=version),
        approvals=version.approvals.select_related("by"), approval_form=ApprovalForm(),
        metric_rows=metric_rows(version.metrics), aliases=version.aliases.all(), no_endpoints=NO_ENDPOINTS))


@project_view(Activity.APPROVE_MODELS)
@require_POST
def registry_approval(request: HttpRequest, project: Project, version_id: int) -> HttpResponse:
    version = model_version_get(user=request.user, project=project, version_id=version_id)
    form = ApprovalForm(request.POST)
    if not form.is_valid():
        raise UserError("Choose Approved, Rejected or Pending manual approval.")
    model_version_approval_set(version=version, user=request.user, status=form.cleaned_data["status"],
                               comment=form.cleaned_data["comment"])
    return redirect("registry:version", project=project.slug, version_id=version.id)


@project_view(Activity.VIEW_EXPERIMENTS)
@require_GET
def registry_lineage(request: HttpRequest, project: Project, version_id: int) -> HttpResponse:
    version = model_version_get(user=request.user, project=project, version_id=version_id)
    return render(request, "registry/lineage.html", _context(
        request, project, version=version, group=version.group, no_endpoints=NO_ENDPOINTS))


@project_view(Activity.VIEW_EXPERIMENTS)
@require_GET
def registry_download(request: HttpRequest, project: Project, version_id: int) -> HttpResponse:
    """The model file, after its sha256 is checked (409 with the reason when it no longer matches)."""
    version = model_version_get(user=request.user, project=project, version_id=version_id)
    data = model_version_file(version=version)
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Content-Disposition"] = (f'attachment; filename="{version.group.name}-v{version.number}.'
                                       f'{SUFFIXES.get(version.format, "bin")}"')
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- the model card --------------------------------------------------------------------------------------

@project_view(Activity.VIEW_EXPERIMENTS)
@require_GET
def card_detail(request: HttpRequest, project: Project, version_id: int) -> HttpResponse:
    version = model_version_get(user=request.user, project=project, version_id=version_id)
    card = version.card
    return render(request, "registry/card.html", _context(
        request, project, version=version, group=version.group, card=card,
        sections=card_sections(card_content(card)), metric_rows=metric_rows(version.metrics),
        figures=_figures(version)))


def _figures(version: ModelVersion) -> list[dict[str, Any]]:
    """The charts of the evaluation of the job the version came from (none for uploads)."""
    from apps.training import charts

    evaluation = model_version_evaluation(version=version)
    return charts.result_figures(evaluation) if evaluation else []


@project_view(Activity.MANAGE_MODELS)
@require_http_methods(["GET", "POST"])
def card_edit(request: HttpRequest, project: Project, version_id: int) -> HttpResponse:
    version = model_version_get(user=request.user, project=project, version_id=version_id)
    card = version.card
    if request.method == "POST":
        form = CardForm(request.POST)
        if form.is_valid():
            try:
                model_card_update(card=card, user=request.user, changes=form.cleaned_data)
            except UserError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                return redirect("registry:card", project=project.slug, version_id=version.id)
    else:
        initial = card_content(card)
        initial["custom_fields"] = CardForm.custom_fields_text(card.custom_fields)
        form = CardForm(initial=initial)
    return render(request, "registry/card_edit.html", _context(
        request, project, version=version, group=version.group, card=card, form=form,
        text_fields=[form[name] for name, _ in CARD_TEXT_FIELDS]), status=400 if request.method == "POST" else 200)


@project_view(Activity.VIEW_EXPERIMENTS)
@require_GET
def card_history(request: HttpRequest, project: Project, version_id: int) -> HttpResponse:
    """Every revision; ?a=<n>&b=<n> shows the diff between two (default: the last two)."""
    version = model_version_get(user=request.user, project=project, version_id=version_id)
    card = version.card
    revisions = list(card.revisions.select_related("by"))
    diff, old, new = [], None, None
    if len(revisions) > 1:
        a, b = request.GET.get("a", ""), request.GET.get("b", "")
        old = card_revision_get(card=card, number=int(a)) if a.isdigit() else revisions[1]
        new = card_revision_get(card=card, number=int(b)) if b.isdigit() else revisions[0]
        diff = card_diff(old.content, new.content)
    return render(request, "registry/card_history.html", _context(
        request, project, version=version, group=version.group, card=card, revisions=revisions, diff=diff,
        old=old, new=new))


def _attachment(data: bytes | str, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def export_name(version: ModelVersion, suffix: str) -> str:
    return f"model-card-{version.group.name}-v{version.number}.{suffix}"


@project_view(Activity.VIEW_EXPERIMENTS)
@require_GET
def card_export_html(request: HttpRequest, project: Project, version_id: int) -> HttpResponse:
    version = model_version_get(user=request.user, project=project, version_id=version_id)
    return _attachment(card_html(version.card), "text/html; charset=utf-8", export_name(version, "html"))


@project_view(Activity.VIEW_EXPERIMENTS)
@require_GET
def card_export_json(request: HttpRequest, project: Project, version_id: int) -> HttpResponse:
    from .cards import card_document

    version = model_version_get(user=request.user, project=project, version_id=version_id)
    return _attachment(json.dumps(card_document(version.card), indent=2), "application/json",
                       export_name(version, "json"))


@project_view(Activity.VIEW_EXPERIMENTS)
@require_GET
def card_export_pdf(request: HttpRequest, project: Project, version_id: int) -> HttpResponse:
    version = model_version_get(user=request.user, project=project, version_id=version_id)
    return _attachment(card_pdf(version.card, evaluation=model_version_evaluation(version=version)), "application/pdf", export_name(version, "pdf"))


# --- the dashboard ---------------------------------------------------------------------------------------

@project_view(Activity.VIEW_EXPERIMENTS)
@require_GET
def registry_dashboard(request: HttpRequest, project: Project) -> HttpResponse:
    """Every version of the project with its risk rating, approval, endpoints, last batch job and monitor."""
    versions = model_version_list(user=request.user, project=project).order_by("group__name", "-number")
    return render(request, "registry/dashboard.html", _context(request, project, versions=versions))
