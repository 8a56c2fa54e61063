"""/api/v1/datasets/: the same selectors and services as the Data pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.jobs import JobSerializer
from apps.core.api.permissions import ProjectRole
from apps.core.roles import Activity
from apps.core.selectors import project_get

from ..models import Dataset
from ..selectors import dataset_get, dataset_list, dataset_page, parse_paging, version_get, version_list
from ..services import dataset_cast_start, dataset_delete, dataset_upload
from ..sources import (
    connection_get,
    dataset_import_path,
    dataset_import_s3,
    dataset_import_sql,
    dataset_import_version,
)
from ..uploads import upload_refusal
from ..views import download_response
from .serializers import (
    DatasetSerializer,
    DatasetUploadSerializer,
    ImportStartedSerializer,
    PathImportSerializer,
    RowsSerializer,
    S3ImportSerializer,
    SchemaChangeSerializer,
    SqlImportSerializer,
    VersionImportSerializer,
    VersionSerializer,
)

VERSION_PARAMETER = OpenApiParameter("version", int, description="Version number; defaults to the current one.")


@extend_schema(tags=["datasets"])
class DatasetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                     viewsets.GenericViewSet):
    """Datasets of the projects you are a member of. Upload with multipart/form-data; the import runs as a
    job (see `job` in the answer, and /api/v1/jobs/<id>/)."""

    serializer_class = DatasetSerializer
    permission_classes = [IsAuthenticated, ProjectRole]
    action_activities = {"create": Activity.MANAGE_DATA, "destroy": Activity.MANAGE_DATA,
                         "change_schema": Activity.MANAGE_DATA}
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    queryset = Dataset.objects.none()  # for the schema generator; get_queryset scopes to the user

    def get_queryset(self):
        datasets = dataset_list(user=self.request.user)
        if self.action == "list" and self.request.query_params.get("project"):
            datasets = datasets.filter(project__slug=self.request.query_params["project"])
        return datasets

    @extend_schema(parameters=[OpenApiParameter("project", str, description="Only datasets of this project.")])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request={"multipart/form-data": DatasetUploadSerializer}, responses={201: DatasetSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = request.data  # parse the body first: the size-limit handler leaves its refusal while parsing
        refusal = upload_refusal(request)
        if refusal:
            raise ValidationError({"file": [refusal]})
        upload = DatasetUploadSerializer(data=data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        project = project_get(user=request.user, slug=data["project"], activity=Activity.MANAGE_DATA)
        dataset = dataset_upload(project=project, user=request.user, upload=data["file"], name=data.get("name", ""),
                                 description=data.get("description", ""), file_format=data.get("format", ""),
                                 options=upload.options())
        return Response(self.get_serializer(dataset).data, status=status.HTTP_201_CREATED)

    def _started(self, dataset: Dataset) -> Response:
        dataset = dataset_list(user=self.request.user).get(id=dataset.id)
        body = {"dataset": dataset, "job": dataset.last_job}
        return Response(ImportStartedSerializer(body, context={"request": self.request}).data,
                        status=status.HTTP_202_ACCEPTED)

    def _valid(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        project = project_get(user=self.request.user, slug=serializer.validated_data["project"],
                              activity=Activity.MANAGE_DATA)
        return serializer, serializer.validated_data, project

    @extend_schema(request=SqlImportSerializer, responses={202: ImportStartedSerializer})
    @action(detail=False, methods=["post"], url_path="import-sql", url_name="import-sql")
    def import_sql(self, request: Request) -> Response:
        """Run a read-only query on a saved connection as a job; its rows become version 1 of a new dataset."""
        _, data, project = self._valid(SqlImportSerializer)
        connection = connection_get(user=request.user, project=project, connection_id=data["connection"])
        return self._started(dataset_import_sql(project=project, user=request.user, connection=connection,
                                                query=data["query"], name=data["name"],
                                                description=data["description"]))

    @extend_schema(request=S3ImportSerializer, responses={202: ImportStartedSerializer})
    @action(detail=False, methods=["post"], url_path="import-s3", url_name="import-s3")
    def import_s3(self, request: Request) -> Response:
        """Copy s3://bucket/key from the admin-configured storage and import it like an upload."""
        serializer, data, project = self._valid(S3ImportSerializer)
        return self._started(dataset_import_s3(project=project, user=request.user, uri=data["uri"], name=data["name"],
                                               description=data["description"], file_format=data["format"],
                                               options=serializer.options()))

    @extend_schema(request=PathImportSerializer, responses={202: ImportStartedSerializer})
    @action(detail=False, methods=["post"], url_path="import-path", url_name="import-path")
    def import_path(self, request: Request) -> Response:
        """Import a file from a directory an admin allowed (STUDIO_IMPORT_PATHS) like an upload."""
        serializer, data, project = self._valid(PathImportSerializer)
        return self._started(dataset_import_path(project=project, user=request.user, path=data["path"],
                                                 name=data["name"], description=data["description"],
                                                 file_format=data["format"], options=serializer.options()))

    @extend_schema(request=VersionImportSerializer, responses={202: ImportStartedSerializer})
    @action(detail=False, methods=["post"], url_path="import-version", url_name="import-version")
    def import_version(self, request: Request) -> Response:
        """Copy a version of a dataset (or some of its columns) into a new dataset, as a job."""
        _, data, project = self._valid(VersionImportSerializer)
        source = version_get(dataset=dataset_get(user=request.user, dataset_id=data["dataset"]),
                             number=data.get("version"))
        return self._started(dataset_import_version(project=project, user=request.user, source=source,
                                                    columns=data["columns"], name=data["name"],
                                                    description=data["description"]))

    def perform_content_negotiation(self, request: Request, force: bool = False):
        # ?format=csv|parquet picks the download's file type here, not one of DRF's renderers.
        if self.action == "download":
            renderer = self.get_renderers()[0]
            return renderer, renderer.media_type
        return super().perform_content_negotiation(request, force)

    def perform_destroy(self, instance: Dataset) -> None:
        dataset_delete(dataset=instance, user=self.request.user)

    @extend_schema(responses=VersionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def versions(self, request: Request, pk: str | None = None) -> Response:
        versions = version_list(dataset=self.get_object())
        return Response(VersionSerializer(versions, many=True).data)

    @extend_schema(responses=VersionSerializer)
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>[0-9]+)", url_name="version")
    def version(self, request: Request, pk: str | None = None, number: str = "") -> Response:
        return Response(VersionSerializer(version_get(dataset=self.get_object(), number=int(number))).data)

    @extend_schema(responses=RowsSerializer, parameters=[
        VERSION_PARAMETER,
        OpenApiParameter("page", int, description="1-based page number (default 1)."),
        OpenApiParameter("page_size", int, description="Rows per page, at most 500 (default 50)."),
        OpenApiParameter("sort", str, description="Column to sort by."),
        OpenApiParameter("desc", bool, description="Sort descending."),
    ])
    @action(detail=True, methods=["get"])
    def rows(self, request: Request, pk: str | None = None) -> Response:
        version = version_get(dataset=self.get_object(), number=_version_param(request))
        page = dataset_page(version=version, **parse_paging(request.query_params))
        data = {"version": version.number, "page": page.page, "page_size": page.page_size, "pages": page.pages,
                "total": page.total, "sort": page.sort, "desc": page.descending, "columns": page.columns,
                "rows": page.rows}
        return Response(RowsSerializer(data).data)

    @extend_schema(request=SchemaChangeSerializer, responses={202: JobSerializer})
    @action(detail=True, methods=["post"], url_path="schema", url_name="schema")
    def change_schema(self, request: Request, pk: str | None = None) -> Response:
        dataset = self.get_object()  # the role check comes before looking at the body
        change = SchemaChangeSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        job = dataset_cast_start(dataset=dataset, user=request.user, types=change.validated_data["types"])
        return Response(JobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        parameters=[VERSION_PARAMETER, OpenApiParameter("format", str, enum=["csv", "parquet"],
                                                        description="csv (default) or parquet")],
        responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY)},
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str | None = None) -> HttpResponse:
        version = version_get(dataset=self.get_object(), number=_version_param(request))
        return download_response(version, request.query_params.get("format", "csv"))


def _version_param(request: Request) -> int | None:
    value = request.query_params.get("version", "")
    if value and not value.isdigit():
        raise ValidationError({"version": ["Give a version number."]})
    return int(value) if value else None
