"""The model registry: groups of model versions per project, each version's artifact (verified by sha256
on every load), where it came from, its approval history, aliases, and its model card with every revision."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.automl.models import AutoMLJob
from apps.core.models import Artifact, Project
from apps.datasets.models import DatasetVersion
from apps.experiments.models import Run
from apps.training.models import TrainingJob
from apps.wrangler.models import FlowRun


class ModelGroup(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="model_groups")
    name = models.CharField(max_length=63)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="model_group_name_unique")]

    def __str__(self) -> str:
        return self.name


class ApprovalStatus(models.TextChoices):
    PENDING = "PendingManualApproval", "Pending manual approval"
    APPROVED = "Approved", "Approved"
    REJECTED = "Rejected", "Rejected"


class VersionSource(models.TextChoices):
    TRAINING = "training", "Training job"
    AUTOML = "automl", "AutoML job"
    UPLOAD = "upload", "Uploaded file"


class ModelVersion(models.Model):
    group = models.ForeignKey(ModelGroup, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    artifact = models.ForeignKey(Artifact, on_delete=models.PROTECT, related_name="+",
                                 help_text="The model file; its sha256 is checked every time it is loaded.")
    format = models.CharField(max_length=30, help_text="studio-bundle, xgboost-json, xgboost-ubj or skops.")
    source = models.CharField(max_length=10, choices=VersionSource.choices)
    training_job = models.ForeignKey(TrainingJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    automl_job = models.ForeignKey(AutoMLJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    dataset_version = models.ForeignKey(DatasetVersion, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    flow_run = models.ForeignKey(FlowRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    algorithm = models.CharField(max_length=100, blank=True)
    problem_type = models.CharField(max_length=20, blank=True)
    target = models.CharField(max_length=255, blank=True)
    signature = models.JSONField(default=list, blank=True, help_text="[{name, type}] of the input columns.")
    metrics = models.JSONField(default=dict, blank=True)
    description = models.TextField(blank=True)
    approval_status = models.CharField(max_length=25, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["group__name", "-number"]
        constraints = [models.UniqueConstraint(fields=["group", "number"], name="model_version_number_unique")]

    def __str__(self) -> str:
        return f"{self.group.name} v{self.number}"

    @property
    def project(self) -> Project:
        return self.group.project


class ApprovalEvent(models.Model):
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="approvals")
    previous = models.CharField(max_length=25, choices=ApprovalStatus.choices)
    status = models.CharField(max_length=25, choices=ApprovalStatus.choices)
    comment = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.previous} → {self.status}"


class ModelAlias(models.Model):
    group = models.ForeignKey(ModelGroup, on_delete=models.CASCADE, related_name="aliases")
    name = models.SlugField(max_length=50)
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="aliases")
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    set_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["group", "name"], name="model_alias_unique")]

    def __str__(self) -> str:
        return self.name


class RiskRating(models.TextChoices):
    UNKNOWN = "unknown", "Unknown"
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class CardStatus(models.TextChoices):
    DRAFT = "Draft", "Draft"
    PENDING_REVIEW = "PendingReview", "Pending review"
    APPROVED = "Approved", "Approved"
    ARCHIVED = "Archived", "Archived"


# The card's text fields in the order the card shows them (SageMaker model card sections).
CARD_TEXT_FIELDS = [
    ("overview", "Overview"),
    ("intended_uses", "Intended uses"),
    ("risk_explanation", "Why this risk rating"),
    ("training_details", "Training details"),
    ("evaluation_details", "Evaluation"),
    ("ethical_considerations", "Ethical considerations"),
    ("caveats", "Caveats and recommendations"),
]


class ModelCard(models.Model):
    """The current content of a version's card; every save also writes a CardRevision."""

    version = models.OneToOneField(ModelVersion, on_delete=models.CASCADE, related_name="card")
    status = models.CharField(max_length=15, choices=CardStatus.choices, default=CardStatus.DRAFT)
    risk_rating = models.CharField(max_length=10, choices=RiskRating.choices, default=RiskRating.UNKNOWN)
    overview = models.TextField(blank=True)
    intended_uses = models.TextField(blank=True)
    risk_explanation = models.TextField(blank=True)
    training_details = models.TextField(blank=True)
    evaluation_details = models.TextField(blank=True)
    ethical_considerations = models.TextField(blank=True)
    caveats = models.TextField(blank=True)
    custom_fields = models.JSONField(default=list, blank=True, help_text="[{key, value}]")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Card of {self.version}"

    @property
    def project(self) -> Project:
        return self.version.group.project


class CardRevision(models.Model):
    card = models.ForeignKey(ModelCard, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    content = models.JSONField(help_text="Every field of the card as it was saved.")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["card", "number"], name="card_revision_number_unique")]

    def __str__(self) -> str:
        return f"revision {self.number}"
