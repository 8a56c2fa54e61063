"""Writes for tuning jobs: check and start one, one step of its coordinator (`tuning_job_tick`), the
coordinator's loop, stopping, and the tidy-up when it ends. Keyword-only, named <thing>_<verb>.

How a tuning job runs. The coordinator is a `tuning.run` job on the default queue; every trial is an ordinary
`training.fit` job on the training queue, started with `training_job_start`, so it shows on the Training and
Jobs pages, records its own run (source "tuning") in the tuning job's experiment, checkpoints, retries and stops
like any training job. The coordinator only ticks: read the trials' outcomes, feed learning curves to the
median stopping rule, ask the tuner for new proposals, start them, and save the tuner's state, all in one
transaction. A coordinator that is restarted (its worker died, or someone retried it) loads that state and
carries on with the trials already running; it never starts over.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.audit import audit_record
from apps.core.errors import Conflict, Forbidden, UserError
from apps.core.jobs import LeaseLost
from apps.core.models import Job, JobMetric, JobStatus, Project
from apps.core.roles import Activity
from apps.core.selectors import require
from apps.core.services import job_create, job_stop
from apps.datasets.models import Dataset
from apps.datasets.selectors import version_get, version_parquet_path
from apps.experiments.models import Run, RunSource
from apps.experiments.services import experiment_get_or_create
from apps.training.models import TrainingJob, Validation
from apps.training.services import training_data_check, training_job_start
from apps.wrangler.models import FlowRun
from engine.runtime import JobContext, JobStopped
from engine.training import (
    PROBLEM_TYPES,
    TrainingError,
    algorithm_get,
    default_metric,
    infer_problem_type,
    metrics_for,
)
from engine.training.train import objective_direction
from engine.tuning import (
    Tuner,
    TuningError,
    parameter_importance,
    parse_ranges,
    ranges_to_json,
    strategy_list,
)
from engine.tuning.resources import ROW_FRACTION
from engine.tuning.tuner import COMPLETED, RUNNING, STOP

from .models import EarlyStopping, TrialStatus, TuningJob, TuningTrial

logger = logging.getLogger("studio.tuning")

RUN_KIND = "tuning.run"
MAX_FOLDS = 20
MAX_TRIALS = 500
MAX_PARALLEL = 50
# How long the coordinator sleeps between steps, and how long a trial may wait for a worker before the
# coordinator warns that the worker has no free slot (it occupies one itself).
TICK_SECONDS = 1.5
PENDING_WARNING_SECONDS = 60
UNSUPERVISED_METRICS = {"clustering": ("silhouette", "inertia"), "dimensionality": ("explained_variance",),
                        "anomaly": ("anomaly_share",)}


def _tuning_error(error: TuningError, default_field: str = "ranges") -> UserError:
    """A tuning error for the user. Errors about one range name it in the message and point at `ranges`."""
    known = {"strategy", "objective_metric", "direction", "max_trials", "max_parallel", "early_stopping", "seed",
             "warm_start", "algorithm", "resource"}
    return UserError(error.message, field=error.field if error.field in known else default_field)


def objective_metrics(problem_type: str) -> list[str]:
    """The metrics a tuning job may optimise for a problem type, the default first."""
    names = [entry.name for entry in metrics_for(problem_type)] or list(UNSUPERVISED_METRICS.get(problem_type, ()))
    default = default_metric(problem_type) if problem_type in PROBLEM_TYPES else ""
    return [default, *[name for name in names if name != default]] if default else names


def _problem_type(*, spec: Any, dataset: Dataset, version: Any, target: str, problem_type: str) -> str:
    """The problem the trials solve: as asked, the algorithm's only one, or inferred from the target column
    (so the objective can be checked before any trial runs)."""
    if problem_type:
        return problem_type
    if not spec.supervised or len(spec.problem_types) == 1:
        return spec.problem_types[0]
    frame = pd.read_parquet(version_parquet_path(version=version), columns=[target])
    inferred = infer_problem_type(frame[target])
    if inferred not in spec.problem_types:
        raise UserError(f"{spec.label} solves {', '.join(spec.problem_types)} problems, but {target} looks like "
                        f"a {inferred} target.", field="target")
    return inferred


def _warm_start_records(*, parent: TuningJob | None, project: Project, algorithm: str,
                        objective_metric: str) -> list[dict[str, Any]]:
    """The completed trials of the tuning job this one warm-starts from, as the tuner's history."""
    if parent is None:
        return []
    if parent.project_id != project.id:
        raise UserError("That tuning job belongs to another project.", field="warm_start_from")
    if parent.algorithm != algorithm:
        raise UserError(f"A warm start needs a tuning job of the same algorithm; that one tuned {parent.algorithm}.",
                        field="warm_start_from")
    if parent.objective_metric != objective_metric:
        raise UserError(f"A warm start needs the same objective; that job optimised {parent.objective_metric}.",
                        field="warm_start_from")
    trials = parent.trials.filter(status=TrialStatus.COMPLETED, value__isnull=False)
    return [{"params": trial.params, "value": trial.value, "status": COMPLETED} for trial in trials]


def tuning_job_start(
    *, project: Project, user, dataset: Dataset, algorithm: str, strategy: str, target: str = "",
    version_number: int | None = None, problem_type: str = "", validation: str = Validation.HOLDOUT, folds: int = 5,
    test_share: float = 0.2, seed: int = 0, exclude: list[str] | None = None, flow_run: FlowRun | None = None,
    ranges: Any = None, objective_metric: str = "", direction: str = "", max_trials: int | None = None,
    max_parallel: int = 1, early_stopping: str = EarlyStopping.OFF, warm_start_from: TuningJob | None = None,
    options: dict[str, Any] | None = None, name: str = "", experiment: str = "",
) -> TuningJob:
    """Check the whole search (data, ranges against the algorithm, objective for the problem type, limits,
    strategy options) before anything is saved, then save the tuning job and start its coordinator.
    `ranges` None searches every searchable hyperparameter over engine.tuning.default_ranges."""
    require(user=user, project=project, activity=Activity.RUN_JOBS)
    if dataset.project_id != project.id:
        raise UserError("That dataset belongs to another project.", field="dataset")
    version = version_get(dataset=dataset, number=version_number)
    try:
        spec = algorithm_get(algorithm)
    except TrainingError as error:
        raise UserError(error.message, field="algorithm") from None
    exclude = [column for column in (exclude or []) if column]
    problem_type = (problem_type or "").strip()
    target = training_data_check(spec=spec, dataset=dataset, version=version, target=target, problem_type=problem_type,
                                  validation=validation, folds=folds, test_share=test_share, exclude=exclude,
                                  flow_run=flow_run, project=project)
    solved = _problem_type(spec=spec, dataset=dataset, version=version, target=target, problem_type=problem_type)
    allowed = objective_metrics(solved)
    objective_metric = (objective_metric or "").strip() or allowed[0]
    if objective_metric not in allowed:
        raise UserError(f"'{objective_metric}' is not a metric of {solved} problems; choose one of: "
                        f"{', '.join(allowed)}.", field="objective_metric")
    natural = objective_direction(objective_metric)
    direction = (direction or "").strip().lower() or natural
    if direction != natural:
        raise UserError(f"{objective_metric} is better when it is {'higher' if natural == 'maximize' else 'lower'}, "
                        f"so its direction is {natural}.", field="direction")
    if max_trials is not None and not 1 <= int(max_trials) <= MAX_TRIALS:
        raise UserError(f"A tuning job may run from 1 to {MAX_TRIALS} trials.", field="max_trials")
    if not 1 <= int(max_parallel) <= MAX_PARALLEL:
        raise UserError(f"Run from 1 to {MAX_PARALLEL} trials at a time.", field="max_parallel")
    if max_trials is not None and int(max_parallel) > int(max_trials):
        raise UserError(f"At most {max_trials} trials run in all, so no more than {max_trials} can run at a time.",
                        field="max_parallel")
    warm = _warm_start_records(parent=warm_start_from, project=project, algorithm=spec.name,
                               objective_metric=objective_metric)
    try:
        parsed = parse_ranges(ranges if ranges is not None else _default_ranges(spec.name), spec.name)
        tuner = Tuner(strategy, parsed, objective_metric, direction, max_trials, int(max_parallel), int(seed),
                      early_stopping, warm, algorithm=spec.name, options=options)
    except TuningError as error:
        raise _tuning_error(error) from None
    if tuner.strategy_name == "hyperband" and (tuner.options.get("resource") or {}).get("name") == ROW_FRACTION:
        raise UserError(f"Hyperband spends boosting rounds, trees or epochs, and {spec.label} has none of them. "
                        "(Training on a share of the rows is not supported yet.) Choose random, grid or Bayesian "
                        "search.", field="strategy")
    assert tuner.max_trials is not None
    if tuner.max_parallel > tuner.max_trials:
        raise UserError(f"This search runs {tuner.max_trials} trials in all, so no more than {tuner.max_trials} can "
                        "run at a time.", field="max_parallel")
    name = (name or "").strip()[:120] or f"{spec.label} on {dataset.name} v{version.number}"
    with transaction.atomic():
        tuning = TuningJob.objects.create(
            project=project, name=name, dataset=dataset, version=version, flow_run=flow_run, target=target,
            problem_type=solved, validation=validation, folds=int(folds), test_share=float(test_share),
            seed=int(seed), exclude=exclude, algorithm=spec.name, strategy=tuner.strategy_name,
            ranges=ranges_to_json(tuner.ranges), options=dict(tuner.options), objective_metric=objective_metric,
            direction=tuner.direction, max_trials=tuner.max_trials, max_parallel=tuner.max_parallel,
            early_stopping=tuner.early_stopping, warm_start_from=warm_start_from, state=tuner.state(),
            created_by=user)
        experiment_name = (experiment or "").strip() or f"Tuning job {tuning.id}: {name}"
        tuning.experiment = experiment_get_or_create(project=project, name=experiment_name[:200], user=user)
        tuning.job = job_create(project=project, user=user, kind=RUN_KIND, title=f"Tune {name}",
                                inputs={"tuning_job_id": tuning.id, "strategy": tuner.strategy_name,
                                        "algorithm": spec.name, "max_trials": tuner.max_trials})
        tuning.save(update_fields=["experiment", "job"])
        audit_record(actor=user, action="tuning.start", project=project, summary=f"Started tuning job {name}")
    return tuning


def _default_ranges(algorithm: str) -> list[dict[str, Any]]:
    from engine.tuning import default_ranges

    return ranges_to_json(default_ranges(algorithm))


def tuning_strategies() -> list[dict[str, Any]]:
    return strategy_list()


# --- one step of the coordinator ------------------------------------------------------------------------------

@dataclass
class Tick:
    """What one step did, for the coordinator's log and progress."""

    done: bool = False
    started: list[int] = field(default_factory=list)
    finished: list[int] = field(default_factory=list)
    stop_requested: list[int] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)  # trials whose job has waited long for a worker
    finished_count: int = 0
    running_count: int = 0


def _curve(job: Job, tuner: Tuner) -> list[tuple[float, float]]:
    """The learning curve the median stopping rule judges, in the objective's direction.

    The rule compares values in the objective's direction, but the curves training jobs report are losses
    (validation_logloss, validation_mlogloss, validation_rmse, validation_loss). When the job reports a curve
    of the objective itself (validation_<objective>), it is used as is. Otherwise the validation loss is used,
    negated when the objective is maximised, so that "better" means the same on the curve as for the
    objective: a trial whose validation loss stays above the others' is the one judged worse."""
    points = (JobMetric.objects.filter(job=job, step__isnull=False, name__startswith="validation_")
              .order_by("id").values_list("name", "step", "value"))
    series: dict[str, list[tuple[float, float]]] = {}
    for name, step, value in points:
        if math.isfinite(value):
            series.setdefault(name, []).append((step, value))
    if not series:
        return []
    own = f"validation_{tuner.objective_metric}"
    if own in series:
        return series[own]
    sign = -1.0 if tuner.direction == "maximize" else 1.0
    return [(step, sign * value) for step, value in series[sorted(series)[0]]]


def _objective_value(training: TrainingJob, metric: str) -> float | None:
    value = (training.summary.get("metrics") or {}).get(metric)
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def _stop_quietly(job: Job, user: Any) -> bool:
    """Ask a trial's job to stop; False when it had ended already or the owner may no longer stop it."""
    try:
        job_stop(job=job, user=user)
    except (Conflict, Forbidden):
        return False
    return True


def _collect(tuner: Tuner, rows: dict[int, TuningTrial], owner: Any, tick: Tick) -> None:
    """Tell the tuner how trials ended, and feed running trials' curves to the stopping rule."""
    auto = tuner.early_stopping == EarlyStopping.AUTO
    for trial in tuner.running():
        row = rows.get(trial.number)
        training = row.training_job if row is not None else None
        job = training.job if training is not None else None
        if row is None or training is None or job is None:
            tuner.tell(trial.number, None)
            if row is not None:
                row.status, row.message = TrialStatus.FAILED, "Its training job was deleted."
                row.save(update_fields=["status", "message"])
            tick.finished.append(trial.number)
            continue
        curve = _curve(job, tuner) if auto else []
        if job.is_ended:
            value = _objective_value(training, tuner.objective_metric) if job.status == JobStatus.COMPLETED else None
            if job.status == JobStatus.COMPLETED and value is None:
                row.message = f"The training job reported no {tuner.objective_metric}."
            elif job.status == JobStatus.FAILED:
                row.message = (job.error or "The training job failed.")[:500]
            if job.status == JobStatus.STOPPED:  # stopped by the rule, with the tuning job, or by hand
                trial.stop_requested = True
            tuner.tell(trial.number, value, intermediate=curve)
            row.status = tuner.trials[trial.number].status
            row.value = value if row.status == TrialStatus.COMPLETED else None
            row.save(update_fields=["status", "value", "message"])
            tick.finished.append(trial.number)
            continue
        if job.status == JobStatus.PENDING and job.created_at < timezone.now() - timedelta(
                seconds=PENDING_WARNING_SECONDS):
            tick.waiting.append(trial.number)
        if not auto or job.status == JobStatus.STOPPING:
            continue
        last = trial.intermediate[-1][0] if trial.intermediate else -math.inf
        for step, value in curve:
            if step > last and tuner.report(trial.number, step, value) == STOP:
                if _stop_quietly(job, owner):
                    row.message = f"Stopped early at step {step:g}: worse than the median of completed trials."
                    row.save(update_fields=["message"])
                    tick.stop_requested.append(trial.number)
                break


def _start_trials(tuning: TuningJob, tuner: Tuner, owner: Any, tick: Tick) -> None:
    room = tuner.max_parallel - len(tuner.running())
    for proposal in tuner.ask(room) if room > 0 else []:
        row = TuningTrial(tuning_job=tuning, number=proposal.number, params=proposal.params,
                          resource=proposal.resource)
        try:
            training = training_job_start(
                project=tuning.project, user=owner, dataset=tuning.dataset, algorithm=tuning.algorithm,
                target=tuning.target, version_number=tuning.version.number, hyperparameters=proposal.params,
                problem_type=tuning.problem_type, validation=tuning.validation, folds=tuning.folds,
                test_share=tuning.test_share, seed=tuning.seed, exclude=tuning.exclude, flow_run=tuning.flow_run,
                name=f"{tuning.name} · trial {proposal.number}"[:120],
                experiment=tuning.experiment.name if tuning.experiment else "")
        except Forbidden:
            raise
        except UserError as error:  # a proposal the training form refuses: the trial fails, the search goes on
            tuner.tell(proposal.number, None)
            row.status, row.message = TrialStatus.FAILED, error.message[:500]
            row.save()
            tick.finished.append(proposal.number)
            continue
        if training.run_id:
            run = Run.objects.get(id=training.run_id)
            run.source = RunSource.TUNING
            run.tags = {**run.tags, "tuning_job": str(tuning.id), "trial": str(proposal.number)}
            run.save(update_fields=["source", "tags"])
        row.training_job = training
        row.save()
        tick.started.append(proposal.number)


def _hold_lease(ctx: JobContext | None, job_id: int | None) -> None:
    """Write only while this coordinator attempt still holds its job, so a presumed-dead one starts nothing."""
    lease = getattr(ctx, "lease", None)
    if lease is not None and not Job.objects.select_for_update().filter(id=job_id, lease=lease).exists():
        raise LeaseLost(f"job {job_id} lost its lease")


def tuning_job_tick(*, tuning: TuningJob, ctx: JobContext | None = None) -> Tick:
    """One step of a tuning job: tell the tuner how trials ended, stop trials the median rule stops, start new
    proposals up to max_parallel running (none once the coordinator is being stopped), and save the tuner's
    state, all in one transaction. Safe to call again at any time: the state says what is already running."""
    tick = Tick()
    with transaction.atomic():
        _hold_lease(ctx, tuning.job_id)
        # Lock the tuning row only: PostgreSQL cannot lock the nullable side of the joins select_related makes.
        tuning = (TuningJob.objects.select_for_update(of=("self",))
                  .select_related("project", "dataset", "version", "flow_run", "experiment", "created_by", "job")
                  .get(id=tuning.id))
        try:
            tuner = Tuner.from_state(tuning.state)
        except (TuningError, KeyError, TypeError) as error:
            raise UserError(f"This tuning job's saved state cannot be read ({error}); start a new one.") from None
        owner = tuning.created_by
        if owner is None:
            raise UserError("The user who started this tuning job no longer exists, so no trial can be started.")
        rows = {row.number: row for row in tuning.trials.select_related("training_job__job")}
        _collect(tuner, rows, owner, tick)
        stopping = tuning.job is not None and tuning.job.status == JobStatus.STOPPING
        if not stopping and not tuner.done():
            _start_trials(tuning, tuner, owner, tick)
        tuning.state = tuner.state()
        tick.done = tuner.done()
        if tick.done:
            best = tuner.best()
            tuning.best_training_job = rows[best.number].training_job if best and best.number in rows else None
        tuning.save(update_fields=["state", "best_training_job"])
        tick.finished_count = sum(1 for trial in tuner.trials if trial.finished)
        tick.running_count = len(tuner.running())
    return tick


# --- the coordinator job --------------------------------------------------------------------------------------

def tuning_job_run(*, job: Job, ctx: JobContext) -> dict[str, Any]:
    """The work of a tuning.run job: tick until the tuner is done, honouring stop requests (which stop the
    running trials too). Resumes from the saved state after a restart."""
    tuning = TuningJob.objects.filter(id=job.inputs.get("tuning_job_id"), project=job.project).first()
    if tuning is None:
        raise UserError("The tuning job was deleted before it could run.")
    # A retried coordinator has ended once already; its importance is computed again when this attempt ends.
    TuningJob.objects.filter(id=tuning.id).update(importance=None)
    warned: set[int] = set()
    done = sum(1 for trial in tuning.state.get("trials") or [] if trial.get("status") != RUNNING)
    ctx.log(f"Tuning {tuning.algorithm} with {tuning.strategy} search: up to {tuning.max_trials} trials, "
            f"{tuning.max_parallel} at a time, optimising {tuning.objective_metric} ({tuning.direction})."
            + (f" Resuming after {done} finished trials." if done else ""))
    while True:
        if ctx.should_stop():
            stopped = _stop_running_trials(tuning)
            ctx.log(f"Stop requested: stopped {stopped} running trials.", level="WARNING")
            raise JobStopped()
        tick = tuning_job_tick(tuning=tuning, ctx=ctx)
        for number in tick.started:
            ctx.log(f"Started trial {number}.")
        for number in tick.stop_requested:
            ctx.log(f"Trial {number} is stopping early: the median stopping rule judged it worse than the "
                    f"completed trials.")
        for number in tick.finished:
            trial = TuningTrial.objects.filter(tuning_job=tuning, number=number).first()
            if trial is not None:
                value = f" ({tuning.objective_metric} = {trial.value:.6g})" if trial.value is not None else ""
                ctx.log(f"Trial {number} {trial.status}{value}.")
        for number in sorted(set(tick.waiting) - warned):
            warned.add(number)
            ctx.log(f"Trial {number} has waited over {PENDING_WARNING_SECONDS} s for a worker on the training "
                    "queue. This coordinator occupies one worker slot itself, so tuning needs at least 2 worker "
                    "slots (e.g. `celery worker --concurrency 2` or more, or a second worker on the training "
                    "queue); with one slot the trials wait forever.", level="WARNING")
        ctx.progress(100 * tick.finished_count / max(tuning.max_trials, 1),
                     f"{tick.finished_count} of {tuning.max_trials} trials done, {tick.running_count} running")
        if tick.done:
            break
        _pause(getattr(settings, "TUNING_TICK_SECONDS", TICK_SECONDS))
    tuning_job_finish(job=job)  # importance before the job reads Completed, so the page that stops polling has it
    tuning.refresh_from_db()
    best = TuningTrial.objects.filter(tuning_job=tuning, training_job=tuning.best_training_job).first() \
        if tuning.best_training_job_id else None
    if best is not None:
        ctx.log(f"Best: trial {best.number} with {tuning.objective_metric} = {best.value:.6g}.")
    else:
        ctx.log("No trial completed, so there is no best model.", level="WARNING")
    return {"tuning_job_id": tuning.id, "trials": tick.finished_count,
            "best_training_job_id": tuning.best_training_job_id, "best_trial": best.number if best else None,
            "best_value": best.value if best else None}


def _pause(seconds: float) -> None:
    """The coordinator's wait between steps (a seam the tests replace to run trials meanwhile)."""
    time.sleep(seconds)


def _stop_running_trials(tuning: TuningJob) -> int:
    owner = tuning.created_by
    stopped = 0
    active = tuning.trials.filter(training_job__job__status__in=[JobStatus.PENDING, JobStatus.IN_PROGRESS])
    for row in active.select_related("training_job__job"):
        if owner is not None and row.training_job and row.training_job.job \
                and _stop_quietly(row.training_job.job, owner):
            stopped += 1
    return stopped


def tuning_job_stop(*, tuning: TuningJob, user) -> TuningJob:
    """Stop a tuning job: its coordinator stops the running trials and starts no more."""
    require(user=user, project=tuning.project, activity=Activity.RUN_JOBS)
    if tuning.job is None:
        raise Conflict("This tuning job has no coordinator job to stop.")
    job_stop(job=tuning.job, user=user)
    tuning.refresh_from_db()
    return tuning


def tuning_job_finish(*, job: Job) -> None:
    """Called when the coordinator's loop is done and again once its job has ended, however it ended: stop
    trials still running (a coordinator that failed or was stopped before it could), record how the ended ones
    came out, mark the best trial, and compute the hyperparameter importance once."""
    tuning = TuningJob.objects.filter(job=job).select_related("created_by").first()
    if tuning is None:
        return
    _stop_running_trials(tuning)
    try:
        tuner = Tuner.from_state(tuning.state)
    except (TuningError, KeyError, TypeError):
        return
    rows = {row.number: row for row in tuning.trials.select_related("training_job__job")}
    if tuning.created_by is not None:
        _collect(tuner, rows, tuning.created_by, Tick())
    for row in rows.values():  # trials whose jobs are still stopping end with the tuning job
        if row.status == TrialStatus.RUNNING:
            row.status, row.message = TrialStatus.STOPPED, row.message or "Stopped with the tuning job."
            row.save(update_fields=["status", "message"])
    best = tuner.best()
    tuning.state = tuner.state()
    tuning.best_training_job = rows[best.number].training_job if best and best.number in rows else None
    if tuning.importance is None:  # computed once: the handler and the on_end hook both come here
        try:
            tuning.importance = parameter_importance(tuner.records(), tuning.ranges or None, seed=tuning.seed)
        except Exception:  # noqa: BLE001 - a chart must never undo the job's outcome
            logger.exception("parameter importance of tuning job %s failed", tuning.id)
            tuning.importance = []
    tuning.save(update_fields=["state", "best_training_job", "importance"])
