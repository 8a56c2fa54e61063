from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from .roles import Role


class Project(models.Model):
    """A workspace: data, jobs and models belong to one project; people see a project only as members."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="one_role_per_project")]
        ordering = ["project__name", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} is {self.get_role_display()} in {self.project}"


class Artifact(models.Model):
    """A registered file in the content-addressed store: written atomically, then registered with its sha256."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="artifacts")
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.BigIntegerField()
    media_type = models.CharField(max_length=120)
    name = models.CharField(max_length=255, help_text="A display name; never used as a path.")
    kind = models.CharField(max_length=40, help_text="upload, dataset, model, report, checkpoint, ...")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.sha256[:12]})"


class JobStatus(models.TextChoices):
    PENDING = "Pending"
    IN_PROGRESS = "InProgress", "In progress"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    COMPLETED = "Completed"
    FAILED = "Failed"


ACTIVE_STATUSES = (JobStatus.PENDING, JobStatus.IN_PROGRESS, JobStatus.STOPPING)
ENDED_STATUSES = (JobStatus.STOPPED, JobStatus.COMPLETED, JobStatus.FAILED)


class Job(models.Model):
    """Every long piece of work. The UI and the API show it the same way."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="jobs")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="jobs")
    kind = models.CharField(max_length=60, db_index=True)
    title = models.CharField(max_length=200)
    queue = models.CharField(max_length=30, default="default")
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.PENDING, db_index=True)
    progress = models.FloatField(default=0.0)
    message = models.CharField(max_length=500, blank=True)
    inputs = models.JSONField(default=dict, blank=True)
    outputs = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True, help_text="Latest value of each metric.")
    error = models.TextField(blank=True, help_text="What went wrong, written for the user.")
    error_detail = models.TextField(blank=True, help_text="The traceback; shown to admins only.")
    attempt = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=3)
    lease = models.UUIDField(null=True, blank=True, help_text="Held by the worker running this attempt.")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True, help_text="When the broker accepted the message.")
    checkpoint = models.ForeignKey(Artifact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    stop_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_ended(self) -> bool:
        return self.status in ENDED_STATUSES

    @property
    def duration(self) -> timedelta | None:
        if not self.started_at:
            return None
        return (self.ended_at or timezone.now()) - self.started_at


class JobLog(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="logs")
    at = models.DateTimeField(default=timezone.now)
    level = models.CharField(max_length=10, default="INFO")
    message = models.TextField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.message[:80]


class JobMetric(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="metric_points")
    name = models.CharField(max_length=100)
    value = models.FloatField()
    step = models.IntegerField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["job", "name"])]

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class AuditEvent(models.Model):
    """One row per write: who, what, when. Written by the audit middleware and by services run outside requests."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(max_length=150, blank=True, help_text="Kept when the user is deleted.")
    action = models.CharField(max_length=120)
    summary = models.CharField(max_length=500, blank=True)
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    method = models.CharField(max_length=10, blank=True)
    path = models.CharField(max_length=500, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.actor_name} {self.action} at {self.at:%Y-%m-%d %H:%M}"
