"""Serializers of the Data Wrangler API (complete, so the OpenAPI schema documents every field)."""

from __future__ import annotations

from rest_framework import serializers

from ..models import Flow, FlowRun, SampleMethod


class ParamSchemaSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.CharField(help_text="column, columns, string, integer, number, boolean, choice, string_list, "
                                           "mapping, expression or dataset.")
    label = serializers.CharField()
    help = serializers.CharField(allow_blank=True)
    required = serializers.BooleanField()
    default = serializers.JSONField(allow_null=True)
    choices = serializers.ListField(child=serializers.CharField(), required=False)
    minimum = serializers.FloatField(required=False)
    maximum = serializers.FloatField(required=False)
    dtype = serializers.CharField(required=False, help_text="For column parameters: numeric, text or datetime.")


class TransformSerializer(serializers.Serializer):
    name = serializers.CharField()
    family = serializers.CharField()
    description = serializers.CharField()
    params = ParamSchemaSerializer(many=True)
    stateful = serializers.BooleanField(help_text="Fitted on the training rows when the flow is applied.")
    row_local = serializers.BooleanField(help_text="Each output row depends only on its input row.")
    example = serializers.JSONField(help_text="Parameters that work on the engine's sample frame.")


class StepSerializer(serializers.Serializer):
    id = serializers.CharField(required=False, max_length=32, help_text="Kept when given; made up otherwise.")
    transform = serializers.CharField(help_text="A name from /api/v1/transforms/.")
    params = serializers.JSONField(required=False, default=dict, help_text="Parameter name → value.")
    enabled = serializers.BooleanField(required=False, default=True)


class FlowRunSerializer(serializers.ModelSerializer):
    input_version = serializers.SlugRelatedField(slug_field="number", read_only=True, allow_null=True)
    output_dataset = serializers.IntegerField(source="output_version.dataset_id", read_only=True, allow_null=True)
    output_version = serializers.SlugRelatedField(slug_field="number", read_only=True, allow_null=True)
    job = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    status = serializers.CharField(source="job.status", read_only=True, allow_null=True)

    class Meta:
        model = FlowRun
        fields = ["number", "trigger", "input_version", "output_dataset", "output_version", "job", "status",
                  "created_at"]
        read_only_fields = fields


class FlowSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    dataset = serializers.IntegerField(source="dataset_id", help_text="The dataset the flow prepares (on create).")
    version = serializers.IntegerField(
        source="source_version.number", required=False, allow_null=True,
        help_text="Pin this version number; leave out to follow the dataset's current version.")
    steps = StepSerializer(many=True, required=False)
    fitted = serializers.SlugRelatedField(slug_field="uuid", read_only=True, allow_null=True,
                                          help_text="The fitted flow artifact of the latest apply.")
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    runs = FlowRunSerializer(many=True, read_only=True)

    class Meta:
        model = Flow
        fields = ["id", "project", "name", "dataset", "version", "follow_latest", "steps", "sample_method",
                  "sample_rows", "schedule", "rerun_on_import", "fitted", "runs", "created_by", "created_at",
                  "updated_at"]
        read_only_fields = ["id", "project", "follow_latest", "schedule", "rerun_on_import", "fitted", "runs",
                            "created_by", "created_at", "updated_at"]
        extra_kwargs = {"name": {"required": False},
                        "sample_method": {"required": False},
                        "sample_rows": {"required": False, "min_value": 1, "max_value": 100_000}}


class PreviewRequestSerializer(serializers.Serializer):
    page = serializers.IntegerField(required=False, default=1, min_value=1)
    page_size = serializers.IntegerField(required=False, default=100, min_value=1, max_value=500)


class PreviewColumnSerializer(serializers.Serializer):
    name = serializers.CharField()
    dtype = serializers.CharField(help_text="The pandas dtype.")
    status = serializers.ChoiceField(choices=["", "added", "changed"], help_text="What the flow did to it.")


class StepReportSerializer(serializers.Serializer):
    id = serializers.CharField()
    index = serializers.IntegerField()
    transform = serializers.CharField()
    enabled = serializers.BooleanField()
    ok = serializers.BooleanField()
    error = serializers.CharField(allow_blank=True, help_text="Why the step failed, written for you.")
    error_param = serializers.CharField(allow_null=True, help_text="The parameter at fault.")
    rows = serializers.IntegerField()
    columns = serializers.IntegerField()
    added = serializers.ListField(child=serializers.CharField())
    changed = serializers.ListField(child=serializers.CharField())
    removed = serializers.ListField(child=serializers.CharField())
    seconds = serializers.FloatField()


class PreviewSerializer(serializers.Serializer):
    version = serializers.IntegerField(source="version.number", help_text="The input version.")
    ok = serializers.BooleanField(help_text="False when a step failed; see its report.")
    columns = PreviewColumnSerializer(many=True)
    rows = serializers.ListField(child=serializers.ListField(child=serializers.JSONField()),
                                 help_text="One page of output rows; values follow `columns`.")
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    page_size = serializers.IntegerField()
    output_rows = serializers.IntegerField()
    sample_rows = serializers.IntegerField()
    sample_method = serializers.ChoiceField(choices=SampleMethod.choices)
    source_rows = serializers.IntegerField(help_text="Rows in the input version.")
    seconds = serializers.FloatField()
    reports = StepReportSerializer(many=True)


class ApplyRequestSerializer(serializers.Serializer):
    new_dataset_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=120,
                                             help_text="Write a new dataset instead of a new version.")
    refit = serializers.BooleanField(required=False, default=True,
                                     help_text="Fit stateful steps again (false reuses the latest fit).")
