"""Serializers of the datasets API (complete, so the OpenAPI schema documents every field)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.jobs import JobSerializer
from engine.datasets.options import ENCODINGS, FORMATS
from engine.datasets.types import STUDIO_TYPES

from ..models import Connection, Dataset, DatasetStatus, DatasetVersion, VersionOrigin


class ColumnSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.ChoiceField(choices=STUDIO_TYPES)
    nullable = serializers.BooleanField(help_text="True when the column has missing values.")


class ColumnSummarySerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.ChoiceField(choices=STUDIO_TYPES)
    count = serializers.IntegerField(help_text="Values present.")
    missing = serializers.IntegerField()
    missing_percent = serializers.FloatField()
    distinct = serializers.IntegerField()
    min = serializers.JSONField(required=False, help_text="Numbers and datetimes.")
    max = serializers.JSONField(required=False, help_text="Numbers and datetimes.")
    mean = serializers.FloatField(required=False, allow_null=True)
    std = serializers.FloatField(required=False, allow_null=True)
    p25 = serializers.FloatField(required=False, allow_null=True)
    median = serializers.FloatField(required=False, allow_null=True)
    p75 = serializers.FloatField(required=False, allow_null=True)
    top = serializers.ListField(child=serializers.DictField(), required=False,
                                help_text="Most frequent values of text and boolean columns: [{value, count}].")
    min_length = serializers.IntegerField(required=False)
    max_length = serializers.IntegerField(required=False)


class VersionSerializer(serializers.ModelSerializer):
    schema = ColumnSerializer(many=True)
    summary = ColumnSummarySerializer(many=True)
    parent = serializers.SlugRelatedField(slug_field="number", read_only=True, allow_null=True)
    job = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    parquet = serializers.SlugRelatedField(slug_field="uuid", read_only=True)
    source = serializers.SlugRelatedField(slug_field="uuid", read_only=True, allow_null=True)
    sha256 = serializers.CharField(source="parquet.sha256", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    origin = serializers.ChoiceField(choices=VersionOrigin.choices, read_only=True,
                                     help_text="Where the rows came from.")
    origin_detail = serializers.JSONField(
        read_only=True, help_text="By origin: upload {file_name}; sql {connection, query}; s3 {uri}; server_path "
        "{path}; dataset_version {dataset_id, dataset, version, columns}; cast {from_version, types}; flow {...}.")

    class Meta:
        model = DatasetVersion
        fields = ["number", "row_count", "column_count", "schema", "summary", "parent", "job", "note", "origin",
                  "origin_detail", "parquet", "source", "sha256", "created_by", "created_at"]
        read_only_fields = fields


class VersionBriefSerializer(serializers.ModelSerializer):
    schema = ColumnSerializer(many=True)

    class Meta:
        model = DatasetVersion
        fields = ["number", "row_count", "column_count", "schema", "created_at"]
        read_only_fields = fields


class DatasetSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    status = serializers.ChoiceField(choices=DatasetStatus.choices, source="shown_status", read_only=True)
    error = serializers.CharField(source="shown_error", read_only=True,
                                  help_text="Why the import failed, written for you; empty otherwise.")
    current_version = VersionBriefSerializer(read_only=True, allow_null=True)
    job = serializers.SerializerMethodField(help_text="The latest import or type-change job.")

    class Meta:
        model = Dataset
        fields = ["id", "project", "name", "description", "status", "error", "current_version", "job",
                  "created_by", "created_at"]
        read_only_fields = fields

    @extend_schema_field({"type": "object", "nullable": True, "properties": {
        "id": {"type": "integer"}, "status": {"type": "string"}, "progress": {"type": "number"},
        "message": {"type": "string"}, "error": {"type": "string"}}})
    def get_job(self, dataset: Dataset) -> dict[str, Any] | None:
        job = dataset.last_job
        if job is None:
            return None
        return {"id": job.id, "status": job.status, "progress": job.progress, "message": job.message,
                "error": job.error}


class DatasetUploadSerializer(serializers.Serializer):
    project = serializers.SlugField(help_text="Slug of the project to add the dataset to.")
    file = serializers.FileField(help_text="CSV, TSV, JSON lines, Parquet or Excel .xlsx.", allow_empty_file=True)
    name = serializers.CharField(required=False, allow_blank=True, max_length=120,
                                 help_text="Defaults to the file's name.")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    format = serializers.ChoiceField(choices=list(FORMATS), required=False, allow_blank=True,
                                     help_text="Defaults to the file's extension.")
    delimiter = serializers.CharField(required=False, allow_blank=True, max_length=3,
                                      help_text="For CSV/TSV; use \\t for a tab.")
    encoding = serializers.ChoiceField(choices=list(ENCODINGS), required=False, default="utf-8")
    header_row = serializers.IntegerField(required=False, min_value=0, max_value=1000, default=1,
                                          help_text="The line with the column names; 0 for none.")
    sheet = serializers.CharField(required=False, allow_blank=True, max_length=120, help_text="Excel only.")

    def options(self) -> dict[str, Any]:
        data = self.validated_data
        return {"delimiter": data.get("delimiter", ""), "encoding": data.get("encoding", "utf-8"),
                "header_row": data.get("header_row", 1), "sheet": data.get("sheet", "")}


class SchemaChangeSerializer(serializers.Serializer):
    types = serializers.DictField(child=serializers.ChoiceField(choices=STUDIO_TYPES),
                                  help_text='Column name → new type, e.g. {"age": "integer"}.')


class RowsSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    pages = serializers.IntegerField()
    total = serializers.IntegerField(help_text="Rows in the version.")
    sort = serializers.CharField(allow_blank=True)
    desc = serializers.BooleanField()
    columns = ColumnSerializer(many=True)
    rows = serializers.SerializerMethodField(
        help_text="[{number, values}]: number is the row's 1-based position in the file; values follow "
                  "`columns` (null when missing; datetimes as ISO text; NaN and infinities as text)."
    )

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_rows(self, page: Any) -> list[dict[str, Any]]:
        return [{"number": row["number"], "values": row["values"]} for row in page["rows"]]


# --- import sources --------------------------------------------------------------------------------------------

class ConnectionSerializer(serializers.ModelSerializer):
    project = serializers.SlugField(source="project.slug", help_text="Slug of the project; set on creation only.")
    password = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=500,
                                     trim_whitespace=False, style={"input_type": "password"},
                                     help_text="Write-only; stored encrypted and never returned. On update, "
                                               "leave it out (or empty) to keep the saved one.")
    has_password = serializers.BooleanField(read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Connection
        fields = ["id", "project", "name", "url", "password", "has_password", "created_by", "created_at",
                  "updated_at"]
        read_only_fields = ["id", "has_password", "created_by", "created_at", "updated_at"]
        extra_kwargs = {"url": {"help_text": "postgresql://user@host:5432/database or sqlite:////path/file.db, "
                                             "without a password."}}


class ConnectionTestSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    message = serializers.CharField()


class NamedImportSerializer(serializers.Serializer):
    project = serializers.SlugField(help_text="Slug of the project to add the dataset to.")
    name = serializers.CharField(required=False, allow_blank=True, max_length=120, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")


class FileImportSerializer(NamedImportSerializer):
    format = serializers.ChoiceField(choices=list(FORMATS), required=False, allow_blank=True, default="",
                                     help_text="Defaults to the file's extension.")
    delimiter = serializers.CharField(required=False, allow_blank=True, max_length=3, default="")
    encoding = serializers.ChoiceField(choices=list(ENCODINGS), required=False, default="utf-8")
    header_row = serializers.IntegerField(required=False, min_value=0, max_value=1000, default=1)
    sheet = serializers.CharField(required=False, allow_blank=True, max_length=120, default="")

    def options(self) -> dict[str, Any]:
        data = self.validated_data
        return {"delimiter": data["delimiter"], "encoding": data["encoding"], "header_row": data["header_row"],
                "sheet": data["sheet"]}


class SqlImportSerializer(NamedImportSerializer):
    connection = serializers.IntegerField(help_text="Id of a connection of the same project.")
    query = serializers.CharField(help_text="One SELECT or WITH statement; it runs read-only with a time limit.")


class S3ImportSerializer(FileImportSerializer):
    uri = serializers.CharField(max_length=1024, help_text="s3://bucket/path/to/file.csv on the storage an admin "
                                                           "configured (STUDIO_IMPORT_S3_*).")


class PathImportSerializer(FileImportSerializer):
    path = serializers.CharField(max_length=4096, help_text="A file inside a directory of STUDIO_IMPORT_PATHS.")


class VersionImportSerializer(NamedImportSerializer):
    dataset = serializers.IntegerField(help_text="Id of the dataset to copy (any project you are a member of).")
    version = serializers.IntegerField(required=False, min_value=1, help_text="Defaults to its current version.")
    columns = serializers.ListField(child=serializers.CharField(), required=False, default=list,
                                    help_text="Columns to copy, in this order; empty copies every column.")


class ImportStartedSerializer(serializers.Serializer):
    dataset = DatasetSerializer()
    job = JobSerializer(help_text="The import job, as /api/v1/jobs/<id>/ shows it.")
