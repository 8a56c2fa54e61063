"""Serializers of /api/v1/experiments/ and /api/v1/runs/."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import Experiment, Run, RunSource, RunStatus


class ExperimentSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Experiment
        fields = ["id", "project", "name", "description", "created_by", "created_at", "deleted_at"]
        read_only_fields = ["id", "project", "created_by", "created_at", "deleted_at"]


class ExperimentCreateSerializer(serializers.Serializer):
    project = serializers.SlugField(help_text="The project's slug.")
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class RunSerializer(serializers.ModelSerializer):
    experiment = serializers.PrimaryKeyRelatedField(read_only=True)
    project = serializers.SlugRelatedField(source="experiment.project", slug_field="slug", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    params = serializers.DictField(child=serializers.CharField(), read_only=True)
    metrics = serializers.DictField(child=serializers.FloatField(), read_only=True,
                                    help_text="Each metric's value at its latest step.")
    tags = serializers.DictField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Run
        fields = ["id", "uuid", "experiment", "project", "name", "status", "source", "params", "metrics", "tags",
                  "job", "dataset_version", "flow", "started_at", "ended_at", "created_by", "deleted_at"]
        read_only_fields = fields


class RunArtifactSerializer(serializers.Serializer):
    name = serializers.CharField()
    uuid = serializers.UUIDField(source="artifact.uuid")
    size = serializers.IntegerField(source="artifact.size")
    sha256 = serializers.CharField(source="artifact.sha256")
    download = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.URI)
    def get_download(self, attached: Any) -> str:
        return reverse("api-artifact-download", kwargs={"uuid": attached.artifact.uuid})


class RunDetailSerializer(RunSerializer):
    spec = serializers.JSONField(read_only=True)
    artifacts = RunArtifactSerializer(many=True, read_only=True)

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "spec", "artifacts"]
        read_only_fields = fields


class RunCreateSerializer(serializers.Serializer):
    experiment = serializers.IntegerField(help_text="The experiment's id.")
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    source = serializers.ChoiceField(choices=RunSource.choices, required=False, default=RunSource.EXTERNAL)
    params = serializers.DictField(required=False, default=dict, help_text="{key: value}; kept as text.")
    tags = serializers.DictField(required=False, default=dict)
    spec = serializers.JSONField(required=False, default=dict, help_text="The code or spec that made the run.")


class KeyValueSerializer(serializers.Serializer):
    key = serializers.CharField()
    value = serializers.CharField()


class MetricPointSerializer(serializers.Serializer):
    key = serializers.CharField()
    value = serializers.FloatField()
    timestamp = serializers.IntegerField(required=False, allow_null=True, help_text="Milliseconds since 1970.")
    step = serializers.IntegerField(required=False, default=0)


class LogBatchSerializer(serializers.Serializer):
    """Documents MLflow's log-batch body; the view reads it with lighter checks (thousands of points a second)."""

    metrics = MetricPointSerializer(many=True, required=False, help_text="At most 1000.")
    params = KeyValueSerializer(many=True, required=False, help_text="At most 100.")
    tags = KeyValueSerializer(many=True, required=False, help_text="At most 100.")


class RunFinishSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[s for s in RunStatus.values if s != RunStatus.RUNNING],
                                     required=False, default=RunStatus.FINISHED)


class MetricHistorySerializer(serializers.Serializer):
    key = serializers.CharField()
    points = serializers.ListField(child=serializers.DictField(),
                                   help_text="[{step, value, timestamp}] ordered by step.")


class ComparedKeySerializer(serializers.Serializer):
    key = serializers.CharField()
    values = serializers.ListField(child=serializers.JSONField(allow_null=True),
                                   help_text="One value per run, in the order of `runs`; null where missing.")
    differs = serializers.BooleanField()


class CompareSerializer(serializers.Serializer):
    runs = RunSerializer(many=True)
    params = ComparedKeySerializer(many=True)
    metrics = ComparedKeySerializer(many=True)
