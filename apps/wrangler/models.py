"""Data Wrangler flows: an ordered list of transform steps over a dataset version, previewed on a sample and
applied by a job that writes a new version. FlowRun records which flow made which version from which."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from apps.core.models import Artifact, Job, Project
from apps.datasets.models import Dataset, DatasetVersion


class SampleMethod(models.TextChoices):
    FIRST = "first", "First rows"
    RANDOM = "random", "Random rows"


class Flow(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="flows")
    name = models.CharField(max_length=120)
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="flows")
    source_version = models.ForeignKey(
        DatasetVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The version the flow reads; ignored while follow_latest is on.",
    )
    follow_latest = models.BooleanField(default=True, help_text="Read the dataset's current version.")
    steps = models.JSONField(default=list, blank=True, help_text="[{id, transform, params, enabled}]")
    undo_stack = models.JSONField(default=list, blank=True, help_text="Earlier steps lists, newest last.")
    sample_method = models.CharField(max_length=10, choices=SampleMethod.choices, default=SampleMethod.FIRST)
    sample_rows = models.PositiveIntegerField(default=10_000)
    fitted = models.ForeignKey(Artifact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               help_text="The fitted flow (JSON) of the latest apply.")
    schedule = models.CharField(max_length=100, blank=True, help_text="Cron: minute hour day month weekday.")
    rerun_on_import = models.BooleanField(default=False, help_text="Apply again when the dataset gets a new version.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.name

    def input_version(self) -> DatasetVersion | None:
        """The pinned version, or the dataset's latest version that this flow did not make itself (a flow
        applied into its own dataset keeps reading its input, not its output)."""
        if not self.follow_latest and self.source_version_id is not None:
            return self.source_version
        own_outputs = self.runs.filter(output_version__isnull=False).values("output_version")
        # By dataset id (the dataset itself need not be loaded), with the Parquet artifact the preview's sample
        # cache is keyed on; the column summaries (large for wide data) are read only if asked for.
        versions = DatasetVersion.objects.filter(dataset_id=self.dataset_id).select_related("parquet")
        versions = versions.defer("summary", "schema")
        return versions.exclude(id__in=own_outputs).order_by("-number").first()

    @property
    def trainable_run(self) -> FlowRun | None:
        """The latest apply whose fitted flow is current and whose output version exists: what "Train on this"
        hands to the training form."""
        if self.fitted_id is None:
            return None
        return self.runs.filter(fitted_id=self.fitted_id, output_version__isnull=False).select_related(
            "output_version").first()

    def step(self, step_id: str) -> dict[str, Any] | None:
        return next((step for step in self.steps if step.get("id") == step_id), None)


class FlowRunTrigger(models.TextChoices):
    MANUAL = "manual", "By hand"
    SCHEDULE = "schedule", "On schedule"
    IMPORT = "import", "After a new version"


class FlowRun(models.Model):
    """One apply of a flow: the lineage "version made by flow X from version Y"."""

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="runs")
    number = models.PositiveIntegerField()
    input_version = models.ForeignKey(DatasetVersion, null=True, on_delete=models.SET_NULL, related_name="+")
    output_version = models.ForeignKey(DatasetVersion, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+")
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    steps = models.JSONField(default=list, help_text="The steps as they were when the run started.")
    fitted = models.ForeignKey(Artifact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    trigger = models.CharField(max_length=10, choices=FlowRunTrigger.choices, default=FlowRunTrigger.MANUAL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["flow", "number"], name="flow_run_number_unique")]

    def __str__(self) -> str:
        return f"{self.flow.name} run {self.number}"
