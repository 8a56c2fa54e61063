"""Reads. Every queryset a user sees is scoped here to the projects they are a member of."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from .errors import Forbidden, NotFound
from .models import Artifact, AuditEvent, Job, JobLog, JobMetric, Membership, Project
from .roles import Activity, Role, role_allows

AnyUser = AbstractBaseUser | AnonymousUser


def project_list(*, user: AnyUser) -> QuerySet[Project]:
    if not user.is_authenticated:
        return Project.objects.none()
    return Project.objects.filter(memberships__user=user).distinct()


def projects_with_activity(*, user: AnyUser, activity: str) -> QuerySet[Project]:
    roles = [role for role in Role if role_allows(role, activity)]
    if not user.is_authenticated:
        return Project.objects.none()
    return Project.objects.filter(memberships__user=user, memberships__role__in=roles).distinct()


def role_in(*, user: AnyUser, project: Project) -> str | None:
    if not user.is_authenticated:
        return None
    cache = getattr(user, "_studio_roles", None)
    if cache is None:
        cache = dict(Membership.objects.filter(user=user).values_list("project_id", "role"))
        user._studio_roles = cache  # type: ignore[union-attr]
    return cache.get(project.id)


def can(*, user: AnyUser, project: Project, activity: str) -> bool:
    role = role_in(user=user, project=project)
    return role is not None and role_allows(role, activity)


def project_get(*, user: AnyUser, slug: str, activity: str = Activity.VIEW) -> Project:
    """The project, if the user is a member (else 404: a stranger cannot learn that it exists) and their
    role allows the activity (else 403)."""
    project = project_list(user=user).filter(slug=slug).first()
    if project is None:
        raise NotFound("There is no such project, or you are not a member of it.")
    require(user=user, project=project, activity=activity)
    return project


def require(*, user: AnyUser, project: Project, activity: str) -> None:
    role = role_in(user=user, project=project)
    if role is None:
        raise NotFound("There is no such project, or you are not a member of it.")
    if not role_allows(role, activity):
        label = Activity(activity).label.lower() if activity in Activity.values else activity
        raise Forbidden(f"Your role in {project.name} ({Role(role).label}) does not allow you to {label}.")


def job_list(*, user: AnyUser, project: Project | None = None) -> QuerySet[Job]:
    jobs = Job.objects.filter(project__in=project_list(user=user)).select_related("project", "owner")
    if project is not None:
        jobs = jobs.filter(project=project)
    return jobs


def job_get(*, user: AnyUser, job_id: int) -> Job:
    job = job_list(user=user).filter(id=job_id).first()
    if job is None:
        raise NotFound("There is no such job, or it belongs to a project you are not a member of.")
    return job


def job_logs(*, job: Job, after_id: int = 0, limit: int = 200) -> list[JobLog]:
    """The last `limit` lines after `after_id`, oldest first."""
    lines = list(JobLog.objects.filter(job=job, id__gt=after_id).order_by("-id")[:limit])
    lines.reverse()
    return lines


def job_logs_after(*, job: Job, after_id: int, limit: int = 1000) -> list[JobLog]:
    """Up to `limit` lines after `after_id`, oldest first, for clients that follow a log page by page."""
    return list(JobLog.objects.filter(job=job, id__gt=after_id).order_by("id")[:limit])


def job_metric_points(*, job: Job) -> QuerySet[JobMetric]:
    """Every recorded metric point of a job, in the order they were reported."""
    return JobMetric.objects.filter(job=job).order_by("name", "id")


def artifact_list(*, user: AnyUser) -> QuerySet[Artifact]:
    return Artifact.objects.filter(project__in=project_list(user=user)).select_related("project")


def artifact_get(*, user: AnyUser, artifact_uuid) -> Artifact:
    artifact = artifact_list(user=user).filter(uuid=artifact_uuid).first()
    if artifact is None:
        raise NotFound("There is no such file, or it belongs to a project you are not a member of.")
    return artifact


def audit_list(*, user: AnyUser) -> QuerySet[AuditEvent]:
    if not (user.is_authenticated and user.is_superuser):
        return AuditEvent.objects.none()
    return AuditEvent.objects.select_related("actor", "project")
