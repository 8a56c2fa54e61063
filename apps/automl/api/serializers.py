"""Serializers of /api/v1/automl-jobs/."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.jobs import JobSerializer

from ..models import AutoMLJob, Budget, ProblemType
from ..selectors import automl_job_evaluation


class AutoMLJobSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    version = serializers.IntegerField(source="version.number", read_only=True)
    job = JobSerializer(read_only=True)
    status = serializers.CharField(source="job.status", read_only=True, allow_null=True)
    model_artifact = serializers.UUIDField(source="model.uuid", read_only=True, allow_null=True,
                                           help_text="The best model's bundle: /api/v1/artifacts/<uuid>/download/.")
    script_artifact = serializers.UUIDField(source="script.uuid", read_only=True, allow_null=True)
    notebook_artifact = serializers.UUIDField(source="notebook.uuid", read_only=True, allow_null=True)
    evaluation_artifact = serializers.UUIDField(source="evaluation.uuid", read_only=True, allow_null=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = AutoMLJob
        fields = ["id", "project", "name", "dataset", "version", "flow_run", "target", "problem_type", "budget",
                  "budget_seconds", "metric", "algorithms", "max_trials", "folds", "test_share", "seed", "status",
                  "job", "summary", "model_artifact", "script_artifact", "notebook_artifact",
                  "evaluation_artifact", "run", "created_by", "created_at"]
        read_only_fields = fields


class AutoMLJobDetailSerializer(AutoMLJobSerializer):
    best = serializers.SerializerMethodField(help_text="The best model: algorithm (or ensemble), validation "
                                                       "score, ensemble members; null until completed.")
    evaluation = serializers.SerializerMethodField(
        help_text="The best model on the rows kept aside (metrics and charts' data), global importance and "
                  "warnings; null until the job has completed.")

    class Meta(AutoMLJobSerializer.Meta):
        fields = [*AutoMLJobSerializer.Meta.fields, "leaderboard", "importance", "best", "evaluation"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_best(self, automl: AutoMLJob) -> dict[str, Any] | None:
        if automl.model is None:
            return None
        summary = automl.summary
        return {"algorithm": summary.get("best_algorithm"), "validation_score": summary.get("best_score"),
                "metric": summary.get("metric"), "ensemble": summary.get("ensemble"),
                "signature": summary.get("signature"), "typical_row": summary.get("typical_row")}

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_evaluation(self, automl: AutoMLJob) -> dict[str, Any] | None:
        document = automl_job_evaluation(automl=automl)
        if document is None:
            return None
        return {"test": document.get("test"), "importance": document.get("importance"),
                "validation": document.get("validation"), "warnings": document.get("warnings")}


class AutoMLJobCreateSerializer(serializers.Serializer):
    project = serializers.SlugField(help_text="The project's slug.")
    dataset = serializers.IntegerField(help_text="The dataset's id.")
    version = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                       help_text="Version number; defaults to the current one.")
    flow_run = serializers.IntegerField(required=False, allow_null=True,
                                        help_text="An applied flow run whose fitted flow the model carries.")
    target = serializers.CharField(max_length=255)
    problem_type = serializers.ChoiceField(choices=ProblemType.choices, required=False, allow_blank=True, default="")
    budget = serializers.ChoiceField(choices=Budget.choices, required=False, default=Budget.QUICK,
                                     help_text="quick (about 2 minutes), standard (about 15), or custom seconds.")
    budget_seconds = serializers.IntegerField(required=False, allow_null=True, help_text="For a custom budget.")
    metric = serializers.CharField(required=False, allow_blank=True, default="", max_length=40)
    algorithms = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    max_trials = serializers.IntegerField(required=False, allow_null=True)
    folds = serializers.IntegerField(required=False, default=5)
    test_share = serializers.FloatField(required=False, default=0.2)
    seed = serializers.IntegerField(required=False, default=0)
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=120)
    experiment = serializers.CharField(required=False, allow_blank=True, default="", max_length=120)


class WhatIfRequestSerializer(serializers.Serializer):
    row = serializers.DictField(child=serializers.JSONField(allow_null=True),
                                help_text="One value per input column of the model (see best.signature).")


class WhatIfImpactSerializer(serializers.Serializer):
    column = serializers.CharField()
    value = serializers.JSONField(allow_null=True)
    typical = serializers.JSONField(allow_null=True)
    prediction_with_typical = serializers.JSONField(allow_null=True)
    impact = serializers.FloatField()


class WhatIfResponseSerializer(serializers.Serializer):
    prediction = serializers.JSONField()
    probabilities = serializers.DictField(child=serializers.FloatField(), required=False)
    compared_by = serializers.CharField()
    impacts = WhatIfImpactSerializer(many=True)


class PredictRequestSerializer(serializers.Serializer):
    rows = serializers.ListField(child=serializers.DictField(child=serializers.JSONField(allow_null=True)),
                                 required=False, help_text="JSON rows; or upload a CSV file as `file`.")
    file = serializers.FileField(required=False, help_text="A CSV file (multipart).")


class PredictResponseSerializer(serializers.Serializer):
    columns = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(child=serializers.DictField(child=serializers.JSONField(allow_null=True)))
