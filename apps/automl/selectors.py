"""Reads for AutoML jobs, scoped to the user's projects."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import QuerySet

from apps.core.artifacts import ArtifactCorrupted, artifact_open
from apps.core.errors import Conflict, NotFound
from apps.core.models import Project
from apps.core.selectors import AnyUser, project_list

from .models import AutoMLJob


def automl_job_list(*, user: AnyUser, project: Project | None = None) -> QuerySet[AutoMLJob]:
    jobs = AutoMLJob.objects.filter(project__in=project_list(user=user)).select_related(
        "project", "dataset", "version", "job", "model", "evaluation", "script", "notebook", "created_by",
        "flow_run__flow", "run__experiment")
    if project is not None:
        jobs = jobs.filter(project=project)
    return jobs


def automl_job_get(*, user: AnyUser, automl_job_id: int, project: Project | None = None) -> AutoMLJob:
    found = automl_job_list(user=user, project=project).filter(id=automl_job_id).first()
    if found is None:
        raise NotFound("There is no such AutoML job, or it belongs to a project you are not a member of.")
    return found


def automl_job_evaluation(*, automl: AutoMLJob) -> dict[str, Any] | None:
    """The evaluation document, checked against its sha256; None until the job has made it."""
    if automl.evaluation is None:
        return None
    try:
        with artifact_open(automl.evaluation) as handle:
            return json.load(handle)
    except ArtifactCorrupted:
        raise Conflict("This AutoML job's evaluation no longer matches its checksum, so it is not shown.") from None
