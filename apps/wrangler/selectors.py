"""Reads for flows, scoped to the user's projects, and the transform catalogue the builder and the API list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from apps.core.errors import NotFound
from apps.core.models import Project
from apps.core.selectors import AnyUser, project_list, role_in
from engine.wrangler import Transform, transform_list

from .models import Flow, FlowRun

FLOW_RELATED = ("project", "dataset", "dataset__current_version", "source_version", "fitted", "created_by")


def flow_list(*, user: AnyUser, project: Project | None = None,
              related: Sequence[str] = FLOW_RELATED) -> QuerySet[Flow]:
    """The flows of the user's projects (of `project` only, when given), with the `related` objects joined."""
    if project is None:
        flows = Flow.objects.filter(project__in=project_list(user=user))
    elif role_in(user=user, project=project) is None:  # not a member (memberships are read once per request)
        flows = Flow.objects.none()
    else:
        flows = Flow.objects.filter(project=project)
    return flows.select_related(*related)


def flow_get(*, user: AnyUser, flow_id: int, project: Project | None = None,
             related: Sequence[str] = FLOW_RELATED) -> Flow:
    """One flow of the user's projects. `related` narrows the joined objects for views that need fewer (each
    join costs the query's compilation time); the project, when given, is attached without a join."""
    if project is not None:
        related = [name for name in related if name != "project"]
    flow = flow_list(user=user, project=project, related=related).filter(id=flow_id).first()
    if flow is None:
        raise NotFound("There is no such flow, or it belongs to a project you are not a member of.")
    if project is not None:
        flow.project = project
    return flow


def flow_runs(*, flow: Flow) -> QuerySet[FlowRun]:
    return flow.runs.select_related("input_version", "output_version", "output_version__dataset", "job", "fitted")


def transform_families(*, query: str = "") -> list[tuple[str, list[Transform]]]:
    """Registered transforms grouped by family (in the registry's order), filtered by a search text that
    matches names, families and descriptions."""
    words = query.lower().split()
    groups: dict[str, list[Transform]] = {}
    for spec in transform_list():
        if not transform_available(spec):
            continue  # turned off by the administrator: the picker says so below the list
        text = f"{spec.name} {spec.name.replace('_', ' ')} {spec.family} {spec.description}".lower()
        if all(word in text for word in words):
            groups.setdefault(spec.family, []).append(spec)
    return list(groups.items())


def transform_available(spec: Transform) -> bool:
    """Custom code steps are listed only where the administrator turned them on."""
    return not spec.extra.get("worker_only") or settings.CUSTOM_CODE_STEPS


def transform_schemas() -> list[dict[str, Any]]:
    return [spec.schema() for spec in transform_list() if transform_available(spec)]
