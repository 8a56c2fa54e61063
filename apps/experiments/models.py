"""Experiment tracking: experiments of a project, their runs (params, latest metrics, tags, lineage) and every
metric point a run logged. Runs keep their latest metric values and their params as JSON on the row, so
searching and sorting thousands of runs reads one table; RunMetric holds the history for the charts."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.core.models import Artifact, Job, Project
from apps.datasets.models import DatasetVersion
from apps.wrangler.models import Flow


class Experiment(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="experiments")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True, help_text="Set while the experiment is deleted.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="experiment_name_unique")]

    def __str__(self) -> str:
        return self.name


class RunStatus(models.TextChoices):
    RUNNING = "RUNNING", "Running"
    FINISHED = "FINISHED", "Finished"
    FAILED = "FAILED", "Failed"
    KILLED = "KILLED", "Killed"


class RunSource(models.TextChoices):
    TRAINING = "training", "Training job"
    TUNING = "tuning", "Tuning job"
    AUTOML = "automl", "AutoML job"
    EXTERNAL = "external", "External (API)"


class Run(models.Model):
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="runs")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    source = models.CharField(max_length=10, choices=RunSource.choices, default=RunSource.EXTERNAL)
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                            help_text="The job that made this run.")
    dataset_version = models.ForeignKey(DatasetVersion, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    flow = models.ForeignKey(Flow, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    params = models.JSONField(default=dict, blank=True, help_text="{key: text}, as logged.")
    params_numeric = models.JSONField(default=dict, blank=True,
                                      help_text="The params that read as numbers, as numbers: for search and sort.")
    metrics = models.JSONField(default=dict, blank=True, help_text="{key: value at the latest step}.")
    metric_steps = models.JSONField(default=dict, blank=True,
                                    help_text="{key: [step, timestamp]} of the values in `metrics`.")
    tags = models.JSONField(default=dict, blank=True)
    spec = models.JSONField(default=dict, blank=True, help_text="The code or spec that made the run.")
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["experiment", "deleted_at"])]

    def __str__(self) -> str:
        return self.name or str(self.uuid)[:8]

    @property
    def project(self) -> Project:
        return self.experiment.project


class RunMetric(models.Model):
    """One logged point. Lean on purpose: thousands a second are inserted in bulk."""

    # The (run, key, step) index serves lookups by run too, so the foreign key gets no index of its own.
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="metric_points", db_index=False)
    key = models.CharField(max_length=250)
    value = models.FloatField()
    step = models.BigIntegerField(default=0)
    timestamp = models.BigIntegerField(help_text="Milliseconds since 1970.")

    class Meta:
        indexes = [models.Index(fields=["run", "key", "step"])]

    def __str__(self) -> str:
        return f"{self.key}={self.value} at step {self.step}"


class RunArtifact(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="artifacts")
    name = models.CharField(max_length=255)
    artifact = models.ForeignKey(Artifact, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["run", "name"], name="run_artifact_name_unique")]

    def __str__(self) -> str:
        return self.name
