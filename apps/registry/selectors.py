"""Reads for the model registry, scoped to the projects the user is a member of."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.core.errors import NotFound
from apps.core.models import Project
from apps.core.selectors import AnyUser, project_list

from .models import CardRevision, ModelCard, ModelGroup, ModelVersion


def model_group_list(*, user: AnyUser, project: Project | None = None) -> QuerySet[ModelGroup]:
    groups = ModelGroup.objects.filter(project__in=project_list(user=user)).select_related("project", "created_by")
    return groups.filter(project=project) if project is not None else groups


def model_group_get(*, user: AnyUser, group_id: int, project: Project | None = None) -> ModelGroup:
    found = model_group_list(user=user, project=project).filter(id=group_id).first()
    if found is None:
        raise NotFound("There is no such model group, or it belongs to a project you are not a member of.")
    return found


def model_version_list(*, user: AnyUser, project: Project | None = None) -> QuerySet[ModelVersion]:
    versions = ModelVersion.objects.filter(group__project__in=project_list(user=user)).select_related(
        "group__project", "artifact", "training_job", "automl_job", "run__experiment", "dataset_version__dataset",
        "flow_run__flow", "created_by", "card")
    return versions.filter(group__project=project) if project is not None else versions


def model_version_get(*, user: AnyUser, version_id: int, project: Project | None = None) -> ModelVersion:
    found = model_version_list(user=user, project=project).filter(id=version_id).first()
    if found is None:
        raise NotFound("There is no such model version, or it belongs to a project you are not a member of.")
    return found


def model_card_list(*, user: AnyUser) -> QuerySet[ModelCard]:
    return ModelCard.objects.filter(version__group__project__in=project_list(user=user)).select_related(
        "version__group__project", "updated_by").order_by("-version__created_at", "-id")


def card_revision_get(*, card: ModelCard, number: int) -> CardRevision:
    found = card.revisions.filter(number=number).first()
    if found is None:
        raise NotFound(f"This card has no revision {number}.")
    return found


def model_version_evaluation(*, version: ModelVersion) -> dict[str, Any] | None:
    """The evaluation of the job the version came from, as {"metrics", "charts", "feature_importance"}: the
    training job's result, or the AutoML job's best model on its held-out rows. None for uploads, before the
    job made one, or when the stored document no longer matches its checksum."""
    from apps.automl.selectors import automl_job_evaluation
    from apps.core.errors import Conflict
    from apps.training.selectors import training_job_result

    try:
        if version.training_job is not None:
            return training_job_result(training=version.training_job)
        if version.automl_job is not None:
            document = automl_job_evaluation(automl=version.automl_job)
            test = (document or {}).get("test") or {}
            importance = [{"column": entry.get("column"), "importance": entry.get("importance")}
                          for entry in version.automl_job.importance or []]
            return {"metrics": test.get("metrics") or {}, "charts": test.get("charts") or {},
                    "feature_importance": importance} if document else None
    except Conflict:
        return None
    return None
