"""Data quality and insights reports of dataset versions. The report itself (often hundreds of kilobytes of
JSON) is an artifact in the store; the row keeps what lists and pages need without opening it."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.models import Artifact, Job, Project
from apps.datasets.models import Dataset, DatasetVersion


class ProblemType(models.TextChoices):
    INFERRED = "", "Inferred from the target"
    BINARY = "binary", "Binary classification"
    MULTICLASS = "multiclass", "Multiclass classification"
    REGRESSION = "regression", "Regression"


class InsightsReport(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="insights_reports")
    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="+")
    target = models.CharField(max_length=255, blank=True, help_text="Empty: a report without a target.")
    problem_type = models.CharField(max_length=20, blank=True, choices=ProblemType.choices,
                                    help_text="As asked; empty means inferred from the target.")
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    result = models.ForeignKey(Artifact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               help_text="The report as JSON, once the job has made it.")
    summary = models.JSONField(default=dict, blank=True, help_text="Counts and scores for lists.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Insights report {self.id} of {self.version}"

    @property
    def project(self) -> Project:
        return self.dataset.project
