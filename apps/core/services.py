"""Writes for projects, memberships, jobs and the audit log. Keyword-only, named <thing>_<verb>."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from .audit import audit_record
from .errors import Conflict, UserError
from .jobs import job_ended_notify, job_enqueue, job_kind_get
from .models import Job, JobLog, JobStatus, Membership, Project
from .roles import Activity, Role
from .selectors import require

User = get_user_model()


def project_create(*, name: str, user, description: str = "", slug: str = "") -> Project:
    name = name.strip()
    if not name:
        raise UserError("Give the project a name.", field="name")
    slug = slugify(slug or name)[:60]
    if not slug:
        raise UserError("The project name needs at least one letter or digit.", field="name")
    if Project.objects.filter(slug=slug).exists():
        raise Conflict(f"A project with the address '{slug}' exists already; choose another name.", field="name")
    with transaction.atomic():
        project = Project.objects.create(name=name[:120], slug=slug, description=description, created_by=user)
        Membership.objects.create(project=project, user=user, role=Role.ADMIN)
        audit_record(actor=user, action="project.create", summary=f"Created project {project.name}", project=project)
    return project


def membership_set(*, project: Project, user, role: str, actor) -> Membership:
    if role not in Role.values:
        raise UserError(f"Unknown role {role!r}; choose one of: {', '.join(Role.labels)}.", field="role")
    with transaction.atomic():
        membership = Membership.objects.select_for_update().filter(project=project, user=user).first()
        if membership and membership.role == Role.ADMIN and role != Role.ADMIN:
            _keep_one_admin(project, leaving=membership)
        if membership is None:
            membership = Membership.objects.create(project=project, user=user, role=role)
        else:
            membership.role = role
            membership.save(update_fields=["role"])
        audit_record(
            actor=actor, action="membership.set", project=project,
            summary=f"{user.username} is now {Role(role).label} in {project.name}",
        )
    return membership


def membership_remove(*, project: Project, user, actor) -> None:
    with transaction.atomic():
        membership = Membership.objects.select_for_update().filter(project=project, user=user).first()
        if membership is None:
            raise UserError(f"{user.username} is not a member of {project.name}.")
        if membership.role == Role.ADMIN:
            _keep_one_admin(project, leaving=membership)
        membership.delete()
        audit_record(actor=actor, action="membership.remove", project=project,
                     summary=f"Removed {user.username} from {project.name}")


def _keep_one_admin(project: Project, *, leaving: Membership) -> None:
    others = Membership.objects.filter(project=project, role=Role.ADMIN).exclude(id=leaving.id)
    if not others.exists():
        raise Conflict(f"{project.name} needs at least one Admin; make someone else Admin first.")


def job_create(
    *, project: Project, user, kind: str, inputs: dict[str, Any] | None = None, title: str = ""
) -> Job:
    """Save a Pending job and send it to its queue after the transaction commits."""
    job_kind = job_kind_get(kind)
    job = Job.objects.create(
        project=project, owner=user, kind=kind, title=(title or job_kind.title)[:200], queue=job_kind.queue,
        inputs=inputs or {}, max_attempts=settings.JOB_MAX_ATTEMPTS, message="Waiting for a worker",
    )
    audit_record(actor=user, action="job.create", project=project, summary=f"Started job {job.id}: {job.title}")
    job_enqueue(job)
    return job


def job_stop(*, job: Job, user) -> Job:
    """Stop a job: at once if it has not started, else ask its worker to (it checks between steps)."""
    require(user=user, project=job.project, activity=Activity.RUN_JOBS)
    with transaction.atomic():
        job = Job.objects.select_for_update().get(id=job.id)
        if job.is_ended:
            raise Conflict(f"This job has already ended ({job.get_status_display()}).")
        if job.status == JobStatus.PENDING:
            job.status, job.ended_at, job.message = JobStatus.STOPPED, timezone.now(), "Stopped before it started"
        elif job.status == JobStatus.IN_PROGRESS:
            job.status, job.message = JobStatus.STOPPING, "Stopping…"
        job.stop_requested_by = user
        job.save(update_fields=["status", "ended_at", "message", "stop_requested_by"])
        JobLog.objects.create(job=job, level="WARNING", message=f"Stop requested by {user.username}.")
        audit_record(actor=user, action="job.stop", project=job.project, summary=f"Stopped job {job.id}")
        if job.is_ended:
            job_ended_notify(job_id=job.id)
    return job


def job_retry(*, job: Job, user) -> Job:
    """Run an ended (Failed or Stopped) job again; it resumes from its last checkpoint if it saved one."""
    require(user=user, project=job.project, activity=Activity.RUN_JOBS)
    with transaction.atomic():
        job = Job.objects.select_for_update().get(id=job.id)
        if job.status not in (JobStatus.FAILED, JobStatus.STOPPED):
            raise Conflict(f"Only failed or stopped jobs can be retried; this one is {job.get_status_display()}.")
        job_kind_get(job.kind)
        job.status, job.progress, job.message = JobStatus.PENDING, 0.0, "Waiting for a worker"
        job.error = job.error_detail = ""
        job.attempt, job.lease, job.heartbeat_at, job.enqueued_at, job.ended_at = 0, None, None, None, None
        job.stop_requested_by = None
        job.save()
        JobLog.objects.create(job=job, level="INFO", message=f"Retry requested by {user.username}.")
        audit_record(actor=user, action="job.retry", project=job.project, summary=f"Retried job {job.id}")
        job_enqueue(job)
    return job
