"""Serializers of /api/v1/tuning-jobs/ and /api/v1/tuning-strategies/."""

from __future__ import annotations

from rest_framework import serializers

from apps.core.api.jobs import JobSerializer
from apps.training.models import ProblemType, Validation

from ..models import Direction, EarlyStopping, TuningJob, TuningTrial


class TuningStrategySerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    options = serializers.DictField(child=serializers.CharField(), help_text="Option name → what it does.")


class TuningTrialSerializer(serializers.ModelSerializer):
    training_job = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True,
                                                      help_text="Its training job: /api/v1/training-jobs/<id>/.")
    run = serializers.IntegerField(source="training_job.run_id", read_only=True, allow_null=True,
                                   help_text="Its experiment run.")
    job_status = serializers.CharField(source="training_job.job.status", read_only=True, allow_null=True)

    class Meta:
        model = TuningTrial
        fields = ["number", "params", "resource", "status", "value", "message", "training_job", "run", "job_status"]
        read_only_fields = fields


class TuningJobSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    version = serializers.IntegerField(source="version.number", read_only=True)
    job = JobSerializer(read_only=True)
    status = serializers.CharField(source="job.status", read_only=True, allow_null=True)
    experiment = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    best_value = serializers.SerializerMethodField()
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = TuningJob
        fields = ["id", "project", "name", "dataset", "version", "flow_run", "target", "problem_type", "validation",
                  "folds", "test_share", "seed", "exclude", "algorithm", "strategy", "ranges", "options",
                  "objective_metric", "direction", "max_trials", "max_parallel", "early_stopping", "warm_start_from",
                  "status", "job", "best_training_job", "best_value", "experiment", "created_by", "created_at"]
        read_only_fields = fields

    def get_best_value(self, tuning: TuningJob) -> float | None:
        if tuning.best_training_job_id is None:
            return None
        best = tuning.trials.filter(training_job_id=tuning.best_training_job_id).first()
        return best.value if best else None


class TuningJobDetailSerializer(TuningJobSerializer):
    trials = TuningTrialSerializer(many=True, read_only=True)
    importance = serializers.ListField(child=serializers.DictField(), read_only=True, allow_null=True,
                                       help_text="[{name, importance}] once the job has ended (fANOVA shares).")

    class Meta(TuningJobSerializer.Meta):
        fields = [*TuningJobSerializer.Meta.fields, "importance", "trials"]
        read_only_fields = fields


class TuningJobCreateSerializer(serializers.Serializer):
    project = serializers.SlugField(help_text="The project's slug.")
    dataset = serializers.IntegerField(help_text="The dataset's id.")
    version = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                       help_text="Version number; defaults to the current one.")
    flow_run = serializers.IntegerField(required=False, allow_null=True)
    algorithm = serializers.CharField(help_text="A name from /api/v1/algorithms/.")
    target = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)
    problem_type = serializers.ChoiceField(choices=ProblemType.choices, required=False, allow_blank=True, default="")
    validation = serializers.ChoiceField(choices=Validation.choices, required=False, default=Validation.HOLDOUT)
    folds = serializers.IntegerField(required=False, default=5)
    test_share = serializers.FloatField(required=False, default=0.2)
    seed = serializers.IntegerField(required=False, default=0, min_value=0)
    exclude = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    strategy = serializers.CharField(help_text="A name from /api/v1/tuning-strategies/.")
    ranges = serializers.JSONField(
        required=False, allow_null=True, default=None,
        help_text="SageMaker's ParameterRanges object, a list of {name, type, min, max, scale} / {name, values}, or "
                  "{name: {min, max, scale} | [values]}. Empty: every searchable hyperparameter over its defaults.")
    objective_metric = serializers.CharField(required=False, allow_blank=True, default="",
                                             help_text="Empty: the problem type's default metric.")
    direction = serializers.ChoiceField(choices=Direction.choices, required=False, allow_blank=True, default="",
                                        help_text="Follows the metric; given, it must agree.")
    max_trials = serializers.IntegerField(required=False, allow_null=True, default=None,
                                          help_text="Empty: grid search's grid size, or one pass of Hyperband.")
    max_parallel = serializers.IntegerField(required=False, default=1)
    early_stopping = serializers.ChoiceField(choices=EarlyStopping.choices, required=False,
                                             default=EarlyStopping.OFF)
    warm_start_from = serializers.IntegerField(required=False, allow_null=True, default=None,
                                               help_text="An earlier tuning job of the same algorithm and objective.")
    options = serializers.DictField(required=False, default=dict, child=serializers.JSONField(),
                                    help_text="Strategy options (see /api/v1/tuning-strategies/) and "
                                              "stopping_min_trials / stopping_warmup_reports.")
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=120)
    experiment = serializers.CharField(required=False, allow_blank=True, default="", max_length=120,
                                       help_text="The experiment the trials' runs go to; empty: one for this job.")
