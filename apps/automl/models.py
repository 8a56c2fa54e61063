"""AutoML jobs: what was asked (dataset version, optional fitted flow, target, problem type, time budget,
metric, and the data scientist's options) and what came of it: the leaderboard (kept up to date while the
search runs), the best model bundle, its evaluation on held-out rows, global importance, and the generated
script and notebook in the artifact store."""

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


class Budget(models.TextChoices):
    QUICK = "quick", "Quick build (about 2 minutes)"
    STANDARD = "standard", "Standard build (about 15 minutes)"
    CUSTOM = "custom", "Custom time budget"


BUDGET_SECONDS = {Budget.QUICK: 120, Budget.STANDARD: 900}


class AutoMLJob(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="automl_jobs")
    name = models.CharField(max_length=120)
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="automl_jobs")
    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="+")
    flow_run = models.ForeignKey(FlowRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                 help_text="The applied flow whose fitted steps the model carries, if any.")
    target = models.CharField(max_length=255)
    problem_type = models.CharField(max_length=20, blank=True, choices=ProblemType.choices,
                                    help_text="As asked; empty means inferred from the target.")
    budget = models.CharField(max_length=10, choices=Budget.choices, default=Budget.QUICK)
    budget_seconds = models.PositiveIntegerField(default=120)
    metric = models.CharField(max_length=40, blank=True, help_text="Empty: the problem type's default.")
    algorithms = models.JSONField(default=list, blank=True, help_text="Algorithms to try; empty: all that fit.")
    max_trials = models.PositiveIntegerField(null=True, blank=True)
    folds = models.PositiveSmallIntegerField(default=5, help_text="Cross-validation folds on small tables.")
    test_share = models.FloatField(default=0.2, help_text="Rows kept aside for the best model's evaluation.")
    seed = models.IntegerField(default=0)
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    leaderboard = models.JSONField(default=list, blank=True,
                                   help_text="Candidates, best first; updated while the search runs.")
    summary = models.JSONField(default=dict, blank=True)
    importance = models.JSONField(default=list, blank=True, help_text="[{column, importance}] of the best model.")
    model = models.ForeignKey(Artifact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              help_text="The best model's bundle (an ensemble bundle when an ensemble won).")
    evaluation = models.ForeignKey(Artifact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                   help_text="The best model's evaluation on held-out rows, as JSON.")
    script = models.ForeignKey(Artifact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    notebook = models.ForeignKey(Artifact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    run = models.OneToOneField(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="automl_job",
                               help_text="The experiment run of the job and its best model.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def resolved_problem_type(self) -> str:
        return self.summary.get("problem_type") or self.problem_type
