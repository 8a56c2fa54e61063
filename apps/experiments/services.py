"""Writes for experiments and runs. The training, tuning and AutoML areas call these too, so a run logged by a
job and a run logged through the API look the same. Keyword-only, named <thing>_<verb>.

Services that take a `user` check the user's role; `run_log_batch`, `run_attach_artifact` and `run_finish`
take none: the API checks the role before calling them, and jobs call them on their owner's behalf."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.core.audit import audit_record
from apps.core.errors import Conflict, UserError
from apps.core.models import Artifact, Job, Project
from apps.core.roles import Activity
from apps.core.selectors import require
from apps.datasets.models import DatasetVersion
from apps.wrangler.models import Flow
from engine.experiments import (
    MAX_PARAMS_PER_BATCH,
    MAX_TAGS_PER_BATCH,
    BatchError,
    MetricPoint,
    as_number,
    check_metrics,
    check_strings,
    latest_values,
)
from engine.experiments.batch import MAX_PARAM_VALUE_LENGTH, MAX_TAG_VALUE_LENGTH

from .models import Experiment, Run, RunArtifact, RunMetric, RunSource, RunStatus

ENDED_STATUSES = {RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED}


# --- experiments -----------------------------------------------------------------------------------------------

def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise UserError("Give the experiment a name.", field="name")
    if len(name) > 200:
        raise UserError("An experiment's name has at most 200 characters.", field="name")
    return name


def experiment_create(*, project: Project, name: str, user, description: str = "") -> Experiment:
    require(user=user, project=project, activity=Activity.RUN_JOBS)
    name = _clean_name(name)
    try:
        with transaction.atomic():
            experiment = Experiment.objects.create(project=project, name=name, description=description or "",
                                                   created_by=user)
    except IntegrityError:
        raise Conflict(f"{project.name} already has an experiment called '{name}' (perhaps deleted: restore it, "
                       "or choose another name).", field="name") from None
    audit_record(actor=user, action="experiment.create", project=project, summary=f"Created experiment {name}")
    return experiment


def experiment_get_or_create(*, project: Project, name: str, user) -> Experiment:
    """The project's experiment of that name, made if missing. A deleted one is refused (restore it first), so
    new runs never land in the bin unseen."""
    require(user=user, project=project, activity=Activity.RUN_JOBS)
    name = _clean_name(name)
    experiment = Experiment.objects.filter(project=project, name=name).first()
    if experiment is None:
        try:
            return experiment_create(project=project, name=name, user=user)
        except Conflict:  # made by someone else meanwhile
            experiment = Experiment.objects.get(project=project, name=name)
    if experiment.deleted_at is not None:
        raise Conflict(f"The experiment '{name}' is deleted; restore it to log runs into it.")
    return experiment


def experiment_update(*, experiment: Experiment, user, name: str | None = None,
                      description: str | None = None) -> Experiment:
    require(user=user, project=experiment.project, activity=Activity.RUN_JOBS)
    if name is not None:
        experiment.name = _clean_name(name)
    if description is not None:
        experiment.description = description
    try:
        with transaction.atomic():
            experiment.save(update_fields=["name", "description"])
    except IntegrityError:
        raise Conflict(f"There is already an experiment called '{experiment.name}'.", field="name") from None
    audit_record(actor=user, action="experiment.update", project=experiment.project,
                 summary=f"Changed experiment {experiment.name}")
    return experiment


def experiment_delete(*, experiment: Experiment, user) -> Experiment:
    """Soft delete: the experiment and its runs leave the lists until restored."""
    require(user=user, project=experiment.project, activity=Activity.RUN_JOBS)
    if experiment.deleted_at is None:
        experiment.deleted_at = timezone.now()
        experiment.save(update_fields=["deleted_at"])
    audit_record(actor=user, action="experiment.delete", project=experiment.project,
                 summary=f"Deleted experiment {experiment.name}")
    return experiment


def experiment_restore(*, experiment: Experiment, user) -> Experiment:
    require(user=user, project=experiment.project, activity=Activity.RUN_JOBS)
    experiment.deleted_at = None
    experiment.save(update_fields=["deleted_at"])
    audit_record(actor=user, action="experiment.restore", project=experiment.project,
                 summary=f"Restored experiment {experiment.name}")
    return experiment


# --- runs ------------------------------------------------------------------------------------------------------

def _strings(values: Mapping[str, Any] | None, *, what: str) -> dict[str, str]:
    limit = MAX_PARAM_VALUE_LENGTH if what == "params" else MAX_TAG_VALUE_LENGTH
    try:
        return check_strings(values, what=what, max_value_length=limit)
    except BatchError as error:
        raise UserError(error.message, field=error.field) from None


def _numeric(params: Mapping[str, str]) -> dict[str, float]:
    return {key: number for key, value in params.items() if (number := as_number(value)) is not None}


def run_start(*, experiment: Experiment, user, name: str = "", source: str = RunSource.EXTERNAL,
              params: Mapping[str, Any] | None = None, tags: Mapping[str, Any] | None = None,
              dataset_version: DatasetVersion | None = None, flow: Flow | None = None, job: Job | None = None,
              spec: dict[str, Any] | None = None) -> Run:
    project = experiment.project
    require(user=user, project=project, activity=Activity.RUN_JOBS)
    if experiment.deleted_at is not None:
        raise Conflict(f"The experiment '{experiment.name}' is deleted; restore it to log runs into it.")
    if source not in RunSource.values:
        raise UserError(f"Unknown source '{source}'; one of: {', '.join(RunSource.values)}.", field="source")
    for linked, what in ((dataset_version, "dataset version"), (flow, "flow"), (job, "job")):
        linked_project = None if linked is None else (
            linked.dataset.project_id if isinstance(linked, DatasetVersion) else linked.project_id)
        if linked is not None and linked_project != project.id:
            raise UserError(f"The {what} belongs to another project.", field=what.replace(" ", "_"))
    checked_params, checked_tags = _strings(params, what="params"), _strings(tags, what="tags")
    name = (name or "").strip()[:200]
    run = Run(experiment=experiment, source=source, dataset_version=dataset_version, flow=flow, job=job,
              params=checked_params, params_numeric=_numeric(checked_params), tags=checked_tags, spec=spec or {},
              created_by=user if getattr(user, "is_authenticated", False) else None)
    run.name = name or f"run-{str(run.uuid)[:8]}"
    run.save()
    audit_record(actor=user, action="run.start", project=project,
                 summary=f"Started run {run.name} in experiment {experiment.name}")
    return run


def run_log_batch(*, run: Run, metrics: Iterable[Mapping[str, Any]] = (), params: Mapping[str, Any] | None = None,
                  tags: Mapping[str, Any] | None = None) -> None:
    """Record metric points, params and tags in one transaction: a bad entry (NaN, a missing key, a param that
    would change) is named in a UserError and nothing of the batch is written. A param keeps its first value,
    as in MLflow; tags may change. The run's latest metrics follow the highest step logged per key."""
    try:
        points = check_metrics(metrics)
    except BatchError as error:
        raise UserError(error.message, field=error.field) from None
    new_params, new_tags = _strings(params, what="params"), _strings(tags, what="tags")
    if run.deleted_at is not None:
        raise Conflict("This run is deleted; restore it to log to it.")
    with transaction.atomic():
        locked = Run.objects.select_for_update().only(
            "id", "params", "params_numeric", "metrics", "metric_steps", "tags").get(id=run.id)
        changed = {key: (locked.params[key], value) for key, value in new_params.items()
                   if key in locked.params and locked.params[key] != value}
        if changed:
            key, (old, new) = next(iter(changed.items()))
            raise UserError(f"The param {key!r} was logged as {old!r}; a param cannot change to {new!r}. Log it "
                            "as a tag, or start a new run.", field="params")
        fields = []
        if points:
            _insert_points(run.id, points)
            known = {key: (steps[0], steps[1]) for key, steps in locked.metric_steps.items()}
            for key, (value, step, timestamp) in latest_values(points, known).items():
                locked.metrics[key] = value
                locked.metric_steps[key] = [step, timestamp]
            fields += ["metrics", "metric_steps"]
        if new_params:
            locked.params.update(new_params)
            locked.params_numeric.update(_numeric(new_params))
            fields += ["params", "params_numeric"]
        if new_tags:
            locked.tags.update(new_tags)
            fields.append("tags")
        if fields:
            locked.save(update_fields=fields)
    for field in ("params", "params_numeric", "metrics", "metric_steps", "tags"):
        setattr(run, field, getattr(locked, field))


def _insert_points(run_id: int, points: list[MetricPoint]) -> None:
    """One prepared INSERT run for every point (executemany): about twice the rate of bulk_create, which
    builds a model instance per point and splits the batch into statements of a few hundred rows."""
    table = connection.ops.quote_name(RunMetric._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(name) for name in ("run_id", "key", "value", "step", "timestamp"))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s)",  # noqa: S608  # nosec B608 - table and column names are the model's own
                           [(run_id, p.key, p.value, p.step, p.timestamp) for p in points])


def run_log_limits(*, metrics: int, params: int, tags: int) -> None:
    """MLflow's limits of one log-batch request, for the API to refuse a batch before reading it."""
    from engine.experiments import MAX_METRICS_PER_BATCH

    for count, limit, what in ((metrics, MAX_METRICS_PER_BATCH, "metrics"), (params, MAX_PARAMS_PER_BATCH, "params"),
                               (tags, MAX_TAGS_PER_BATCH, "tags")):
        if count > limit:
            raise UserError(f"A batch may hold at most {limit} {what}; this one has {count}. Split it into "
                            "several requests.", field=what)


def run_attach_artifact(*, run: Run, artifact: Artifact, name: str) -> RunArtifact:
    name = (name or "").strip() or artifact.name
    if artifact.project_id != run.experiment.project_id:
        raise UserError("The file belongs to another project.", field="artifact")
    attached, _ = RunArtifact.objects.update_or_create(run=run, name=name[:255], defaults={"artifact": artifact})
    return attached


def run_finish(*, run: Run, status: str = "finished") -> Run:
    wanted = (status or "").upper()
    if wanted not in ENDED_STATUSES:
        raise UserError(f"A run ends as FINISHED, FAILED or KILLED, not {status!r}.", field="status")
    run.status = wanted
    run.ended_at = timezone.now()
    run.save(update_fields=["status", "ended_at"])
    return run


def run_delete(*, run: Run, user) -> Run:
    require(user=user, project=run.experiment.project, activity=Activity.RUN_JOBS)
    if run.deleted_at is None:
        run.deleted_at = timezone.now()
        run.save(update_fields=["deleted_at"])
    audit_record(actor=user, action="run.delete", project=run.experiment.project, summary=f"Deleted run {run.name}")
    return run


def run_restore(*, run: Run, user) -> Run:
    require(user=user, project=run.experiment.project, activity=Activity.RUN_JOBS)
    run.deleted_at = None
    run.save(update_fields=["deleted_at"])
    audit_record(actor=user, action="run.restore", project=run.experiment.project, summary=f"Restored run {run.name}")
    return run
