"""Serializers of /api/v1/insights-reports/."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.jobs import JobSerializer

from ..models import InsightsReport, ProblemType
from ..selectors import insights_report_result


class InsightsReportSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(source="dataset.project", slug_field="slug", read_only=True)
    dataset = serializers.PrimaryKeyRelatedField(read_only=True)
    version = serializers.IntegerField(source="version.number", read_only=True)
    job = JobSerializer(read_only=True)
    status = serializers.CharField(source="job.status", read_only=True, allow_null=True,
                                   help_text="The status of the report's job; the report is ready once Completed.")
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    result_sha256 = serializers.CharField(source="result.sha256", read_only=True, allow_null=True)

    class Meta:
        model = InsightsReport
        fields = ["id", "project", "dataset", "version", "target", "problem_type", "status", "job", "summary",
                  "result_sha256", "created_by", "created_at"]
        read_only_fields = fields


class InsightsReportDetailSerializer(InsightsReportSerializer):
    report = serializers.SerializerMethodField(
        help_text="The full report (columns, warnings with proposed fixes, target, quick model, anomalies); "
                  "null until the job has completed.")

    class Meta(InsightsReportSerializer.Meta):
        fields = [*InsightsReportSerializer.Meta.fields, "report"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_report(self, report: InsightsReport) -> dict[str, Any] | None:
        return insights_report_result(report=report)


class InsightsReportCreateSerializer(serializers.Serializer):
    dataset = serializers.IntegerField(help_text="The dataset's id.")
    version = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                       help_text="Version number; defaults to the current one.")
    target = serializers.CharField(required=False, allow_blank=True, default="", max_length=255,
                                   help_text="Optional: the column a model would predict.")
    problem_type = serializers.ChoiceField(choices=ProblemType.choices, required=False, allow_blank=True,
                                           default="", help_text="Optional, with a target; empty means inferred.")
