"""Serializers of /api/v1/algorithms/ and /api/v1/training-jobs/."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.jobs import JobSerializer

from ..models import ProblemType, TrainingJob, Validation
from ..selectors import training_job_result


class HyperparameterSchemaSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=["integer", "number", "choice", "boolean", "string"])
    label = serializers.CharField()
    default = serializers.JSONField(allow_null=True)
    help = serializers.CharField(allow_blank=True)
    nullable = serializers.BooleanField(help_text="Empty (null) means no limit.")
    log = serializers.BooleanField(help_text="Searched on a log scale by tuning and AutoML.")
    minimum = serializers.FloatField(required=False)
    maximum = serializers.FloatField(required=False)
    choices = serializers.ListField(child=serializers.JSONField(), required=False)


class AlgorithmSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    problem_types = serializers.ListField(child=serializers.CharField())
    supervised = serializers.BooleanField(help_text="Needs a target column.")
    hyperparameters = HyperparameterSchemaSerializer(many=True)
    checkpoints = serializers.BooleanField(help_text="Saves checkpoints and resumes from them.")
    curves = serializers.ListField(child=serializers.CharField(), help_text="Learning curves reported while training.")
    scales_features = serializers.BooleanField()
    handles_missing = serializers.BooleanField()
    notes = serializers.CharField(allow_blank=True)


class TrainingJobSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    version = serializers.IntegerField(source="version.number", read_only=True)
    job = JobSerializer(read_only=True)
    status = serializers.CharField(source="job.status", read_only=True, allow_null=True)
    model_artifact = serializers.UUIDField(source="model.uuid", read_only=True, allow_null=True,
                                           help_text="Download at /api/v1/artifacts/<uuid>/download/: the model "
                                                     "bundle (zip), or for script jobs model.tar.gz.")
    script_artifact = serializers.UUIDField(source="script.uuid", read_only=True, allow_null=True,
                                            help_text="Script jobs: the train.py that was run.")
    output_artifact = serializers.UUIDField(source="output.uuid", read_only=True, allow_null=True,
                                            help_text="Script jobs: SM_OUTPUT_DATA_DIR as output.tar.gz.")
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = TrainingJob
        fields = ["id", "project", "name", "kind", "dataset", "version", "flow_run", "target", "problem_type",
                  "algorithm", "hyperparameters", "validation", "folds", "test_share", "seed", "exclude",
                  "metric_definitions", "timeout_seconds", "memory_mb", "network_isolation", "status", "job",
                  "summary", "model_artifact", "script_artifact", "output_artifact", "run", "created_by",
                  "created_at"]
        read_only_fields = fields


class TrainingJobDetailSerializer(TrainingJobSerializer):
    evaluation = serializers.SerializerMethodField(
        help_text="Metrics (validation, training, test, per fold), charts' data, feature importance and warnings; "
                  "null until the job has completed.")

    class Meta(TrainingJobSerializer.Meta):
        fields = [*TrainingJobSerializer.Meta.fields, "evaluation"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_evaluation(self, training: TrainingJob) -> dict[str, Any] | None:
        return training_job_result(training=training)


class TrainingJobCreateSerializer(serializers.Serializer):
    project = serializers.SlugField(help_text="The project's slug.")
    dataset = serializers.IntegerField(help_text="The dataset's id.")
    version = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                       help_text="Version number; defaults to the current one.")
    flow_run = serializers.IntegerField(required=False, allow_null=True,
                                        help_text="An applied flow run whose fitted flow the model carries.")
    algorithm = serializers.CharField(help_text="A name from /api/v1/algorithms/.")
    target = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)
    problem_type = serializers.ChoiceField(choices=ProblemType.choices, required=False, allow_blank=True, default="")
    hyperparameters = serializers.DictField(required=False, default=dict, child=serializers.JSONField(allow_null=True),
                                            help_text="Name → value; the ones left out take their defaults.")
    validation = serializers.ChoiceField(choices=Validation.choices, required=False, default=Validation.HOLDOUT)
    folds = serializers.IntegerField(required=False, default=5)
    test_share = serializers.FloatField(required=False, default=0.2)
    seed = serializers.IntegerField(required=False, default=0)
    exclude = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=120)
    experiment = serializers.CharField(required=False, allow_blank=True, default="", max_length=120,
                                       help_text="The experiment the job's run is recorded in (made if new); "
                                                 "empty: one named after the dataset.")


@extend_schema_field({"type": "string", "description": "train.py: its text (JSON) or the file (multipart)."})
class ScriptField(serializers.Field):
    """train.py as text in a JSON body, or as an uploaded file in a multipart one."""

    default_error_messages = {"invalid": "Send train.py as text or as a file.",
                              "encoding": "The script is not UTF-8 text.",
                              "size": "The script is larger than {kilobytes} kB."}

    def to_internal_value(self, data: Any) -> str:
        from engine.training.script import MAX_SCRIPT_BYTES

        if isinstance(data, str):
            return data
        if hasattr(data, "read") and hasattr(data, "size"):
            if data.size > MAX_SCRIPT_BYTES:
                self.fail("size", kilobytes=MAX_SCRIPT_BYTES // 1000)
            try:
                return data.read().decode("utf-8")
            except UnicodeDecodeError:
                self.fail("encoding")
        self.fail("invalid")

    def to_representation(self, value: Any) -> str:
        return str(value)


class MetricDefinitionSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64)
    regex = serializers.CharField(max_length=500, help_text="Its first capture group is the value, e.g. loss=([0-9.]+).")


class TrainingScriptCreateSerializer(serializers.Serializer):
    project = serializers.SlugField(help_text="The project's slug.")
    dataset = serializers.IntegerField(help_text="The dataset's id; its rows are the channel training "
                                                 "(data.csv and data.parquet in SM_CHANNEL_TRAINING).")
    version = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                       help_text="Version number; defaults to the current one.")
    script = ScriptField()
    hyperparameters = serializers.JSONField(required=False, default=dict,
                                            help_text="A JSON object passed as --name value arguments and SM_HP_ "
                                                      "variables (in multipart: a JSON string).")
    metric_definitions = serializers.JSONField(required=False, default=list,
                                               help_text="[{name, regex}] read from every log line (in multipart: "
                                                         "a JSON string).")
    timeout_seconds = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                               help_text="Defaults to, and may not exceed, the studio's "
                                                         "STUDIO_SCRIPT_TIMEOUT_SECONDS.")
    memory_mb = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                         help_text="Defaults to, and may not exceed, STUDIO_SCRIPT_MEMORY_MB.")
    network_isolation = serializers.BooleanField(required=False, default=False,
                                                 help_text="Run without network access (refused where the server "
                                                           "cannot provide it).")
    target = serializers.CharField(required=False, allow_blank=True, default="", max_length=255,
                                   help_text="Optional, for the record.")
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=120)
    experiment = serializers.CharField(required=False, allow_blank=True, default="", max_length=120)

    def validate_hyperparameters(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise serializers.ValidationError("Hyperparameters are a JSON object of names to values.")
        return value

    def validate_metric_definitions(self, value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise serializers.ValidationError("Metric definitions are a JSON list of {name, regex} objects.")
        return value
