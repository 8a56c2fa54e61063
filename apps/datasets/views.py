"""The Data pages: the dataset list with its upload form, and a dataset's page (live import progress, versions,
editable schema, column summaries, the paged and sortable data table, downloads)."""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from apps.core.errors import UserError
from apps.core.models import Project
from apps.core.permissions import project_view
from apps.core.roles import Activity
from apps.core.selectors import can

from .forms import ImportOptionsForm, SchemaForm, UploadForm
from .models import Dataset, DatasetStatus
from .selectors import (
    PAGE_SIZES,
    TablePage,
    dataset_get,
    dataset_list,
    dataset_page,
    parse_paging,
    version_csv,
    version_get,
    version_list,
    version_parquet_path,
)
from .services import dataset_cast_start, dataset_delete, dataset_reupload, dataset_upload
from .uploads import upload_refusal

STOP_POLLING = 286


@project_view(Activity.VIEW)
@require_GET
def dataset_list_view(request: HttpRequest, project: Project) -> HttpResponse:
    return _list_page(request, project, UploadForm())


@project_view(Activity.MANAGE_DATA)
@require_POST
def dataset_upload_view(request: HttpRequest, project: Project) -> HttpResponse:
    form = UploadForm(request.POST, request.FILES)
    if _valid(request, form):
        try:
            dataset = dataset_upload(project=project, user=request.user, upload=form.cleaned_data["file"],
                                     name=form.cleaned_data["name"], description=form.cleaned_data["description"],
                                     file_format=form.cleaned_data["format"], options=form.options())
        except UserError as error:
            _form_error(form, error)
        else:
            return redirect("datasets:detail", project=project.slug, dataset_id=dataset.id)
    if request.POST.get("from") == "import":  # the Import page's upload tab shows its own errors
        from .import_views import import_page

        return import_page(request, project, "upload", upload_form=form, status=400)
    return _list_page(request, project, form, status=400)


@project_view(Activity.VIEW)
@require_GET
def dataset_detail(request: HttpRequest, project: Project, dataset_id: int) -> HttpResponse:
    dataset = dataset_get(user=request.user, project=project, dataset_id=dataset_id)
    return render(request, "datasets/detail.html", _detail_context(request, dataset))


@project_view(Activity.VIEW)
@require_GET
def dataset_live(request: HttpRequest, project: Project, dataset_id: int) -> HttpResponse:
    """Polled every second while a job works on the dataset; once it has ended, the whole page body with 286."""
    dataset = dataset_get(user=request.user, project=project, dataset_id=dataset_id)
    if dataset.last_job is not None and dataset.last_job.is_active:
        return render(request, "datasets/_live.html", {"dataset": dataset, "job": dataset.last_job})
    response = render(request, "datasets/_body.html", _detail_context(request, dataset, fresh=True))
    response.status_code = STOP_POLLING
    return response


@project_view(Activity.VIEW)
@require_GET
def dataset_table(request: HttpRequest, project: Project, dataset_id: int) -> HttpResponse:
    dataset = dataset_get(user=request.user, project=project, dataset_id=dataset_id)
    version = version_get(dataset=dataset, number=_version_number(request))
    page = dataset_page(version=version, **parse_paging(request.GET))
    return render(request, "datasets/_table.html", _table_context(dataset, page))


@project_view(Activity.MANAGE_DATA)
@require_POST
def dataset_schema(request: HttpRequest, project: Project, dataset_id: int) -> HttpResponse:
    dataset = dataset_get(user=request.user, project=project, dataset_id=dataset_id)
    form = SchemaForm(request.POST, version=version_get(dataset=dataset))
    if form.is_valid():
        try:
            dataset_cast_start(dataset=dataset, user=request.user, types=form.types())
        except UserError as error:
            form.add_error(None, error.message)
        else:
            return redirect("datasets:detail", project=project.slug, dataset_id=dataset.id)
    context = _detail_context(request, dataset, schema_form=form)
    return render(request, "datasets/detail.html", context, status=400)


@project_view(Activity.MANAGE_DATA)
@require_POST
def dataset_reupload_view(request: HttpRequest, project: Project, dataset_id: int) -> HttpResponse:
    dataset = dataset_get(user=request.user, project=project, dataset_id=dataset_id)
    form = ImportOptionsForm(request.POST, request.FILES)
    if _valid(request, form):
        try:
            dataset_reupload(dataset=dataset, user=request.user, upload=form.cleaned_data["file"],
                             file_format=form.cleaned_data["format"], options=form.options())
        except UserError as error:
            _form_error(form, error)
        else:
            return redirect("datasets:detail", project=project.slug, dataset_id=dataset.id)
    context = _detail_context(request, dataset, reupload_form=form)
    return render(request, "datasets/detail.html", context, status=400)


@project_view(Activity.MANAGE_DATA)
@require_POST
def dataset_delete_view(request: HttpRequest, project: Project, dataset_id: int) -> HttpResponse:
    dataset = dataset_get(user=request.user, project=project, dataset_id=dataset_id)
    dataset_delete(dataset=dataset, user=request.user)
    messages.success(request, f"Deleted dataset '{dataset.name}'.")
    return redirect("datasets:list", project=project.slug)


@project_view(Activity.VIEW)
@require_GET
def version_download(request: HttpRequest, project: Project, dataset_id: int, number: int) -> HttpResponse:
    dataset = dataset_get(user=request.user, project=project, dataset_id=dataset_id)
    version = version_get(dataset=dataset, number=number)
    return download_response(version, request.GET.get("format", "csv"))


def download_response(version, file_format: str) -> HttpResponse:
    """The version as a CSV (formula-safe) or Parquet attachment; shared with the API."""
    base = _safe_filename(f"{version.dataset.name}-v{version.number}")
    if file_format == "parquet":
        response: HttpResponse = FileResponse(
            open(version_parquet_path(version=version), "rb"), as_attachment=True,  # noqa: SIM115
            filename=f"{base}.parquet", content_type="application/vnd.apache.parquet",
        )
    elif file_format == "csv":
        response = StreamingHttpResponse(version_csv(version=version), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{base}.csv"'
    else:
        raise UserError("Choose format=csv or format=parquet.", field="format")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _safe_filename(name: str) -> str:
    cleaned = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_" for ch in name).strip("._")
    return cleaned[:100] or "dataset"


# --- helpers -------------------------------------------------------------------------------------------------

def _valid(request: HttpRequest, form) -> bool:
    refusal = upload_refusal(request)
    valid = form.is_valid()
    if refusal:
        form.errors.pop("file", None)
        form.add_error("file", refusal)
        return False
    return valid


def _form_error(form, error: UserError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _list_page(request: HttpRequest, project: Project, form, status: int = 200) -> HttpResponse:
    context = {
        "active_area": "data", "project": project, "form": form,
        "datasets": dataset_list(user=request.user, project=project),
        "can_manage": can(user=request.user, project=project, activity=Activity.MANAGE_DATA),
    }
    return render(request, "datasets/list.html", context, status=status)


def _version_number(request: HttpRequest) -> int | None:
    value = request.GET.get("version", "")
    return int(value) if value.isdigit() else None


def _detail_context(request: HttpRequest, dataset: Dataset, *, fresh: bool = False, schema_form=None,
                    reupload_form=None) -> dict[str, Any]:
    if fresh:
        dataset.refresh_from_db()
    project = dataset.project
    can_manage = can(user=request.user, project=project, activity=Activity.MANAGE_DATA)
    context: dict[str, Any] = {
        "active_area": "data", "project": project, "dataset": dataset, "job": dataset.last_job,
        "versions": list(version_list(dataset=dataset)), "can_manage": can_manage,
        "live": dataset.last_job is not None and dataset.last_job.is_active,
        "failed": dataset.shown_status == DatasetStatus.FAILED,
    }
    if context["failed"] and can_manage:
        context["reupload_form"] = reupload_form or ImportOptionsForm()
    if dataset.current_version_id and not context["live"]:
        params = {} if fresh else request.GET
        version = version_get(dataset=dataset, number=None if fresh else _version_number(request))
        page = dataset_page(version=version, **parse_paging(params))
        context.update(_table_context(dataset, page))
        context["version"] = version
        if can_manage and version.id == dataset.current_version_id:
            context["schema_form"] = schema_form or SchemaForm(version=version)
    return context


def _table_context(dataset: Dataset, page: TablePage) -> dict[str, Any]:
    detail = reverse("datasets:detail", kwargs={"project": dataset.project.slug, "dataset_id": dataset.id})
    table = reverse("datasets:table", kwargs={"project": dataset.project.slug, "dataset_id": dataset.id})

    def query(**changes: Any) -> str:
        params = {"version": page.version.number, "page": page.page, "page_size": page.page_size,
                  "sort": page.sort, "desc": "1" if page.descending else ""}
        params.update(changes)
        return urlencode({key: value for key, value in params.items() if value not in ("", None)})

    headers = []
    for column in page.columns:
        active = page.sort == column["name"]
        desc = "1" if active and not page.descending else ""
        headers.append({**column, "active": active, "query": query(sort=column["name"], desc=desc, page=1)})
    pager = {
        "first": query(page=1), "prev": query(page=max(1, page.page - 1)),
        "next": query(page=min(page.pages, page.page + 1)), "last": query(page=page.pages),
    }
    return {"table": page, "headers": headers, "pager": pager, "detail_url": detail, "table_url": table,
            "page_sizes": PAGE_SIZES, "dataset": dataset, "row_html": [_row_html(row) for row in page.rows]}


def _row_html(row: dict[str, Any]) -> str:
    """One table row's cells, escaped here rather than in the template loop: a page has hundreds of cells
    and the template engine's per-tag cost dominated the request."""
    cells = [f'<td class="num muted">{row["number"]}</td>']
    for cell in row["cells"]:
        if cell["null"]:
            cells.append('<td class="null">null</td>')
        elif cell["title"]:
            cells.append(f'<td title="{escape(cell["title"])}">{escape(cell["text"])}</td>')
        else:
            cells.append(f"<td>{escape(cell['text'])}</td>")
    return mark_safe("".join(cells))  # noqa: S308  # nosec B308 B703 - every value above is escaped
