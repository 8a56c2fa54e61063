"""Tuning jobs (SageMaker's automatic model tuning): the data and algorithm as a training job has them, the
search (strategy, ranges, objective, limits, early stopping, warm start), the tuner's JSON state saved after
every step of the coordinator, and the trials. Each trial is a real training job with its own run in the
tuning job's experiment; TuningTrial links it back with its number, params and outcome."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.models import Job, Project
from apps.datasets.models import Dataset, DatasetVersion
from apps.experiments.models import Experiment
from apps.training.models import ProblemType, TrainingJob, Validation
from apps.wrangler.models import FlowRun


class Direction(models.TextChoices):
    MAXIMIZE = "maximize", "Maximize"
    MINIMIZE = "minimize", "Minimize"


class EarlyStopping(models.TextChoices):
    OFF = "off", "Off"
    AUTO = "auto", "Auto (median stopping rule)"


class TuningJob(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tuning_jobs")
    name = models.CharField(max_length=120)
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="tuning_jobs")
    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="+")
    flow_run = models.ForeignKey(FlowRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    target = models.CharField(max_length=255, blank=True)
    problem_type = models.CharField(max_length=20, blank=True, choices=ProblemType.choices,
                                    help_text="As asked, or as inferred from the target when the job was made.")
    validation = models.CharField(max_length=10, choices=Validation.choices, default=Validation.HOLDOUT)
    folds = models.PositiveSmallIntegerField(default=5)
    test_share = models.FloatField(default=0.2)
    seed = models.IntegerField(default=0)
    exclude = models.JSONField(default=list, blank=True)
    algorithm = models.CharField(max_length=60)
    strategy = models.CharField(max_length=30)
    ranges = models.JSONField(default=list, blank=True, help_text="The searched ranges, as parsed.")
    options = models.JSONField(default=dict, blank=True, help_text="Strategy options (eta, grid points...).")
    objective_metric = models.CharField(max_length=60)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    max_trials = models.PositiveIntegerField()
    max_parallel = models.PositiveIntegerField()
    early_stopping = models.CharField(max_length=10, choices=EarlyStopping.choices, default=EarlyStopping.OFF)
    warm_start_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="warm_started")
    state = models.JSONField(default=dict, blank=True,
                             help_text="The tuner's state (engine.tuning.Tuner.state()), saved every step.")
    importance = models.JSONField(null=True, blank=True,
                                  help_text="Hyperparameter importance, computed once when the job has ended.")
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                            help_text="The coordinator job (tuning.run on the default queue).")
    best_training_job = models.ForeignKey(TrainingJob, null=True, blank=True, on_delete=models.SET_NULL,
                                          related_name="+")
    experiment = models.ForeignKey(Experiment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                   help_text="The experiment every trial's run is recorded in.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class TrialStatus(models.TextChoices):
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    STOPPED = "stopped", "Stopped"


class TuningTrial(models.Model):
    tuning_job = models.ForeignKey(TuningJob, on_delete=models.CASCADE, related_name="trials")
    number = models.PositiveIntegerField()
    training_job = models.ForeignKey(TrainingJob, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="tuning_trials")
    params = models.JSONField(default=dict, blank=True)
    resource = models.JSONField(null=True, blank=True, help_text="Hyperband: the resource this trial may spend.")
    value = models.FloatField(null=True, blank=True, help_text="The objective value of a completed trial.")
    status = models.CharField(max_length=10, choices=TrialStatus.choices, default=TrialStatus.RUNNING)
    message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["tuning_job", "number"]
        constraints = [models.UniqueConstraint(fields=["tuning_job", "number"], name="tuning_trial_number_unique")]

    def __str__(self) -> str:
        return f"trial {self.number}"
