"""Datasets and their immutable versions. A version's rows live in a Parquet artifact; its schema and
per-column summary are kept here so pages never open the file to describe it."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.models import Artifact, Job, JobStatus, Project


class DatasetStatus(models.TextChoices):
    IMPORTING = "importing", "Importing"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class Dataset(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="datasets")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=20, choices=DatasetStatus.choices, default=DatasetStatus.IMPORTING)
    error = models.TextField(blank=True, help_text="Why the last import failed, written for the user.")
    current_version = models.ForeignKey(
        "DatasetVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_job = models.ForeignKey(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The latest import or type change, shown with its progress on the dataset page.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="dataset_name_unique_in_project")]

    def __str__(self) -> str:
        return self.name

    @property
    def shown_status(self) -> str:
        """The status to show: an import whose job ended without completing (stopped, or failed where the
        handler could not record it, e.g. a worker that died every attempt) is failed."""
        job = self.last_job
        if self.status == DatasetStatus.IMPORTING and job is not None and job.is_ended:
            if job.status != JobStatus.COMPLETED:
                return DatasetStatus.FAILED
        return self.status

    @property
    def shown_error(self) -> str:
        if self.error:
            return self.error
        if self.shown_status == DatasetStatus.FAILED and self.last_job is not None:
            return self.last_job.error or f"The import job ended as {self.last_job.get_status_display()}."
        return ""


class VersionOrigin(models.TextChoices):
    UPLOAD = "upload", "Uploaded file"
    SQL = "sql", "SQL query"
    S3 = "s3", "S3 object"
    SERVER_PATH = "server_path", "Server path"
    DATASET_VERSION = "dataset_version", "Another dataset's version"
    FLOW = "flow", "Data flow"
    CAST = "cast", "Type change"
    DEMO = "demo", "Demo data"


class DatasetVersion(models.Model):
    """Immutable once saved: a type change makes a new version whose parent is the one it came from."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    parquet = models.ForeignKey(Artifact, on_delete=models.PROTECT, related_name="+")
    source = models.ForeignKey(Artifact, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               help_text="The file as uploaded.")
    schema = models.JSONField(default=list, help_text="[{name, type, nullable}]")
    row_count = models.BigIntegerField()
    column_count = models.PositiveIntegerField()
    summary = models.JSONField(default=list, help_text="One summary per column.")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(max_length=500, blank=True, help_text="How this version was made.")
    origin = models.CharField(max_length=20, choices=VersionOrigin.choices, default=VersionOrigin.UPLOAD,
                              help_text="Where the rows came from.")
    origin_detail = models.JSONField(
        default=dict, blank=True,
        help_text="What the origin was: file name, connection name and query, S3 URI, server path, source "
                  "dataset and version, flow and run.",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dataset", "-number"]
        constraints = [models.UniqueConstraint(fields=["dataset", "number"], name="dataset_version_number_unique")]

    def __str__(self) -> str:
        return f"{self.dataset.name} v{self.number}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and DatasetVersion.objects.filter(pk=self.pk).exists():
            raise ValueError("Dataset versions are immutable; make a new version instead.")
        super().save(*args, **kwargs)

    @property
    def column_names(self) -> list[str]:
        return [column["name"] for column in self.schema]


class Connection(models.Model):
    """A saved SQL database of a project. The URL is kept without its password; the password is kept apart,
    encrypted with a key derived from SECRET_KEY (apps/datasets/secrets.py), and never shown again."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="connections")
    name = models.CharField(max_length=120)
    url = models.CharField(max_length=500, help_text="postgresql://user@host:5432/database or sqlite:///path")
    password_encrypted = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="connection_name_unique_in_project")]

    def __str__(self) -> str:
        return self.name

    @property
    def has_password(self) -> bool:
        return bool(self.password_encrypted)
