"""The Import page (upload, SQL database, S3, server path, another dataset) and the SQL connections page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.errors import UserError
from apps.core.models import Project
from apps.core.permissions import project_view
from apps.core.roles import Activity

from .forms import (
    ConnectionForm,
    PathImportForm,
    S3ImportForm,
    SqlImportForm,
    UploadForm,
    VersionImportForm,
)
from .models import Dataset
from .selectors import version_get
from .sources import (
    connection_create,
    connection_delete,
    connection_get,
    connection_list,
    connection_test,
    connection_update,
    dataset_import_path,
    dataset_import_s3,
    dataset_import_sql,
    dataset_import_version,
)

SOURCES = [("upload", "Upload a file"), ("sql", "SQL database"), ("s3", "S3"), ("path", "Server path"),
           ("version", "Another dataset")]


def import_page(request: HttpRequest, project: Project, source: str = "", form=None, status: int = 200,
                upload_form=None) -> HttpResponse:
    source = source if source in dict(SOURCES) else "upload"
    forms: dict[str, Any] = {
        "upload": upload_form or UploadForm(), "sql": SqlImportForm(project=project), "s3": S3ImportForm(),
        "path": PathImportForm(), "version": VersionImportForm(project=project),
    }
    if form is not None:
        forms[source] = form
    context = {
        "active_area": "data", "project": project, "source": source, "sources": SOURCES, "forms": forms,
        "form": forms[source], "import_paths": settings.IMPORT_PATHS, "s3_enabled": settings.IMPORT_S3_ENABLED,
        "s3_buckets": settings.IMPORT_S3_BUCKETS,
        "connections": connection_list(user=request.user, project=project),
    }
    return render(request, "datasets/import.html", context, status=status)


@project_view(Activity.MANAGE_DATA)
@require_GET
def dataset_import_view(request: HttpRequest, project: Project) -> HttpResponse:
    return import_page(request, project, request.GET.get("source", ""))


def _error(form, error: UserError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _done(request: HttpRequest, project: Project, dataset: Dataset) -> HttpResponse:
    messages.success(request, f"Importing '{dataset.name}'; this page follows the job.")
    return redirect("datasets:detail", project=project.slug, dataset_id=dataset.id)


def _import(request: HttpRequest, project: Project, source: str, form, start) -> HttpResponse:
    """Every import source's POST: a valid form starts the import (`start(data)` returns the dataset) and goes
    to the dataset page; otherwise the Import page again, on the same tab, with the errors inline."""
    if form.is_valid():
        try:
            dataset = start(form.cleaned_data)
        except UserError as error:
            _error(form, error)
        else:
            return _done(request, project, dataset)
    return import_page(request, project, source, form, status=400)


@project_view(Activity.MANAGE_DATA)
@require_POST
def import_sql_view(request: HttpRequest, project: Project) -> HttpResponse:
    return _import(request, project, "sql", SqlImportForm(request.POST, project=project), lambda data: dataset_import_sql(
        project=project, user=request.user, connection=data["connection"], query=data["query"], name=data["name"],
        description=data["description"]))


@project_view(Activity.MANAGE_DATA)
@require_POST
def import_s3_view(request: HttpRequest, project: Project) -> HttpResponse:
    form = S3ImportForm(request.POST)
    return _import(request, project, "s3", form, lambda data: dataset_import_s3(
        project=project, user=request.user, uri=data["uri"], name=data["name"], description=data["description"],
        file_format=data["format"], options=form.options()))


@project_view(Activity.MANAGE_DATA)
@require_POST
def import_path_view(request: HttpRequest, project: Project) -> HttpResponse:
    form = PathImportForm(request.POST)
    return _import(request, project, "path", form, lambda data: dataset_import_path(
        project=project, user=request.user, path=data["path"], name=data["name"], description=data["description"],
        file_format=data["format"], options=form.options()))


@project_view(Activity.MANAGE_DATA)
@require_POST
def import_version_view(request: HttpRequest, project: Project) -> HttpResponse:
    form = VersionImportForm(request.POST, project=project)
    return _import(request, project, "version", form, lambda data: dataset_import_version(
        project=project, user=request.user, source=version_get(dataset=data["dataset"], number=data["version"]),
        columns=form.column_list(), name=data["name"], description=data["description"]))


# --- connections -----------------------------------------------------------------------------------------------

def _connections_page(request: HttpRequest, project: Project, *, form=None, edit=None, result: str = "",
                      failure: str = "", status: int = 200) -> HttpResponse:
    context = {
        "active_area": "data", "project": project, "edit": edit,
        "connections": connection_list(user=request.user, project=project),
        "form": form or ConnectionForm(connection=edit, initial={"name": edit.name, "url": edit.url} if edit else None),
        "result": result, "failure": failure, "sql_allowed_hosts": settings.SQL_ALLOWED_HOSTS,
        "import_paths": settings.IMPORT_PATHS,
    }
    return render(request, "datasets/connections.html", context, status=status)


@project_view(Activity.MANAGE_DATA)
@require_http_methods(["GET", "POST"])
def connections_view(request: HttpRequest, project: Project) -> HttpResponse:
    if request.method == "GET":
        return _connections_page(request, project)
    form = ConnectionForm(request.POST)
    if form.is_valid():
        try:
            connection = connection_create(project=project, user=request.user, name=form.cleaned_data["name"],
                                           url=form.cleaned_data["url"], password=form.cleaned_data["password"])
        except UserError as error:
            _error(form, error)
        else:
            messages.success(request, f"Saved connection '{connection.name}'.")
            return redirect("datasets:connections", project=project.slug)
    return _connections_page(request, project, form=form, status=400)


@project_view(Activity.MANAGE_DATA)
@require_http_methods(["GET", "POST"])
def connection_edit_view(request: HttpRequest, project: Project, connection_id: int) -> HttpResponse:
    connection = connection_get(user=request.user, project=project, connection_id=connection_id)
    if request.method == "GET":
        return _connections_page(request, project, edit=connection)
    form = ConnectionForm(request.POST, connection=connection)
    if form.is_valid():
        try:
            connection_update(connection=connection, user=request.user, name=form.cleaned_data["name"],
                              url=form.cleaned_data["url"], password=form.cleaned_data["password"],
                              clear_password=bool(form.cleaned_data.get("clear_password")))
        except UserError as error:
            _error(form, error)
        else:
            messages.success(request, f"Saved connection '{connection.name}'.")
            return redirect("datasets:connections", project=project.slug)
    connection.refresh_from_db()
    return _connections_page(request, project, form=form, edit=connection, status=400)


@project_view(Activity.MANAGE_DATA)
@require_POST
def connection_delete_view(request: HttpRequest, project: Project, connection_id: int) -> HttpResponse:
    connection = connection_get(user=request.user, project=project, connection_id=connection_id)
    connection_delete(connection=connection, user=request.user)
    messages.success(request, f"Deleted connection '{connection.name}'.")
    return redirect("datasets:connections", project=project.slug)


@project_view(Activity.MANAGE_DATA)
@require_POST
def connection_test_view(request: HttpRequest, project: Project, connection_id: int) -> HttpResponse:
    connection = connection_get(user=request.user, project=project, connection_id=connection_id)
    try:
        result = connection_test(connection=connection)
    except UserError as error:
        return _connections_page(request, project, edit=connection, failure=f"{connection.name}: {error.message}")
    return _connections_page(request, project, edit=connection, result=f"{connection.name}: {result}")
