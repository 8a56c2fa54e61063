"""Training jobs: what was asked (dataset version, optional fitted flow, target, algorithm, hyperparameters,
validation) and what came of it (the model bundle and the result document in the artifact store, and a
summary the lists need without opening them). The Job row carries status, progress, logs and live curves."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.models import Artifact, Job, Project
from apps.datasets.models import Dataset, DatasetVersion
from apps.experiments.models import Run
from apps.wrangler.models import FlowRun


class ProblemType(models.TextChoices):
    INFERRED = "", "Inferred from the target"
    BINARY = "binary", "Binary classification"
    MULTICLASS = "multiclass", "Multiclass classification"
    REGRESSION = "regression", "Regression"
    CLUSTERING = "clustering", "Clustering"
    DIMENSIONALITY = "dimensionality", "Dimensionality reduction"
    ANOMALY = "anomaly", "Anomaly detection"


class Validation(models.TextChoices):
    HOLDOUT = "holdout", "Holdout"
    KFOLD = "kfold", "k-fold cross-validation"


class TrainingKind(models.TextChoices):
    BUILTIN = "builtin", "Built-in algorithm"
    SCRIPT = "script", "Your own script"


class TrainingJob(models.Model):
    """A built-in algorithm's training, or (kind script) the user's own train.py run on the SageMaker script-mode
    contract: then `algorithm` is "script", `hyperparameters` are passed to the script as given, and the script's
    source, metric regexes, limits and network choice are kept here."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="training_jobs")
    name = models.CharField(max_length=120)
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="training_jobs")
    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="+")
    flow_run = models.ForeignKey(FlowRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                 help_text="The applied flow whose fitted steps the model carries, if any.")
    target = models.CharField(max_length=255, blank=True)
    problem_type = models.CharField(max_length=20, blank=True, choices=ProblemType.choices,
                                    help_text="As asked; empty means inferred from the target.")
    kind = models.CharField(max_length=10, choices=TrainingKind.choices, default=TrainingKind.BUILTIN)
    algorithm = models.CharField(max_length=60)
    hyperparameters = models.JSONField(default=dict, help_text="Every hyperparameter, defaults filled in.")
    validation = models.CharField(max_length=10, choices=Validation.choices, default=Validation.HOLDOUT)
    folds = models.PositiveSmallIntegerField(default=5)
    test_share = models.FloatField(default=0.2)
    seed = models.IntegerField(default=0)
    exclude = models.JSONField(default=list, blank=True, help_text="Columns not learned from.")
    script = models.ForeignKey(Artifact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               help_text="Script jobs: the train.py that was run.")
    metric_definitions = models.JSONField(default=list, blank=True,
                                          help_text="Script jobs: [{name, regex}] read from the script's log.")
    timeout_seconds = models.PositiveIntegerField(null=True, blank=True, help_text="Script jobs: the time limit.")
    memory_mb = models.PositiveIntegerField(null=True, blank=True, help_text="Script jobs: the memory limit.")
    network_isolation = models.BooleanField(default=False, help_text="Script jobs: run without network access.")
    output = models.ForeignKey(Artifact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               help_text="Script jobs: SM_OUTPUT_DATA_DIR as output.tar.gz.")
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    model = models.ForeignKey(Artifact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              help_text="The model bundle (zip: manifest + estimator in a safe format); for "
                                        "script jobs SM_MODEL_DIR as model.tar.gz.")
    result = models.ForeignKey(Artifact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               help_text="Metrics, charts, feature importance and warnings as JSON.")
    summary = models.JSONField(default=dict, blank=True)
    run = models.OneToOneField(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="training_job",
                               help_text="The experiment run that records this job's params, metrics and model.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_script(self) -> bool:
        return self.kind == TrainingKind.SCRIPT

    @property
    def resolved_problem_type(self) -> str:
        return self.summary.get("problem_type") or self.problem_type
