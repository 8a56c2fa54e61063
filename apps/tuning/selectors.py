"""Reads for tuning jobs, scoped to the user's projects."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.core.errors import NotFound
from apps.core.models import Project
from apps.core.selectors import AnyUser, project_list

from .models import TuningJob, TuningTrial


def tuning_job_list(*, user: AnyUser, project: Project | None = None) -> QuerySet[TuningJob]:
    jobs = TuningJob.objects.filter(project__in=project_list(user=user)).select_related(
        "project", "dataset", "version", "job", "created_by", "experiment", "best_training_job", "warm_start_from",
        "flow_run__flow")
    if project is not None:
        jobs = jobs.filter(project=project)
    return jobs


def tuning_job_get(*, user: AnyUser, tuning_job_id: int, project: Project | None = None) -> TuningJob:
    found = tuning_job_list(user=user, project=project).filter(id=tuning_job_id).first()
    if found is None:
        raise NotFound("There is no such tuning job, or it belongs to a project you are not a member of.")
    return found


def tuning_trials(*, tuning: TuningJob) -> QuerySet[TuningTrial]:
    return tuning.trials.select_related("training_job__job", "training_job__run").order_by("number")


def tuning_trial_records(*, tuning: TuningJob) -> list[dict]:
    """The trials as engine.tuning.analysis reads them (number, params, status, value)."""
    return [{"number": trial.number, "params": trial.params, "status": trial.status, "value": trial.value}
            for trial in tuning.trials.order_by("number")]
