"""Writes for AutoML jobs: check and start one, the job's work (read the version, re-apply the fitted flow if
asked, keep rows aside for the final evaluation, search in the engine while the leaderboard is saved as it
grows, then keep the best model, its evaluation, global importance and the generated code in the artifact
store, and record experiment runs), what-if and batch predictions of the best model. Keyword-only, named
<thing>_<verb>."""

from __future__ import annotations

import io
import json
import math
import time
from typing import Any

import numpy as np
import pandas as pd
from django.db import transaction

from apps.core.artifacts import artifact_open, artifact_put_bytes
from apps.core.audit import audit_record
from apps.core.errors import Conflict, UserError
from apps.core.models import Artifact, Job, Project
from apps.core.roles import Activity
from apps.core.selectors import require
from apps.datasets.models import Dataset
from apps.datasets.selectors import version_get, version_parquet_path
from apps.experiments.models import Run, RunSource
from apps.experiments.services import (
    experiment_get_or_create,
    run_attach_artifact,
    run_finish,
    run_log_batch,
    run_start,
)
from apps.training.services import (  # noqa: PLC2701 - shared job steps
    _apply_flow,
    _flow_document,
    _hold_lease,
    flow_run_check,
)
from apps.wrangler.models import FlowRun
from engine.automl import AutoMLResult, automl_run, generated_code, what_if
from engine.datasets.table_view import neutralise_text
from engine.runtime import JobContext
from engine.training import METRICS, TrainedModel, TrainingError, algorithm_get, bundle_bytes, bundle_load
from engine.training.metrics import CLASSIFICATION, curves, default_metric, evaluate
from engine.training.train import infer_problem_type

from .importance import global_importance
from .models import BUDGET_SECONDS, AutoMLJob, Budget, ProblemType

RUN_KIND = "automl.run"
MIN_BUDGET_SECONDS = 10
MAX_BUDGET_SECONDS = 24 * 3600
MAX_FOLDS = 10
CANDIDATE_RUNS = 10  # experiment runs recorded for the best candidates; the full leaderboard stays on the job
LIVE_SAVE_SECONDS = 2.0
MAX_PREDICT_ROWS = 50_000
MAX_PREDICT_BYTES = 20 * 1024 * 1024


def _user_error(error: TrainingError) -> UserError:
    return UserError(error.message, field=error.field or None)


def budget_resolve(*, budget: str, budget_seconds: int | None) -> int:
    """Seconds of a budget choice: quick and standard are fixed, custom takes the seconds asked."""
    if budget not in Budget.values:
        raise UserError("Choose a quick, standard or custom budget.", field="budget")
    if budget != Budget.CUSTOM:
        return BUDGET_SECONDS[Budget(budget)]
    if budget_seconds is None:
        raise UserError("A custom budget needs a number of seconds.", field="budget_seconds")
    if not MIN_BUDGET_SECONDS <= int(budget_seconds) <= MAX_BUDGET_SECONDS:
        raise UserError(f"The time budget must be between {MIN_BUDGET_SECONDS} seconds and 24 hours.",
                        field="budget_seconds")
    return int(budget_seconds)


def target_problem_type_infer(*, frame: pd.DataFrame, target: str) -> str:
    """The problem type the target's values suggest (what the form shows before the job starts)."""
    if target not in frame.columns:
        raise UserError(f"There is no column called '{target}'.", field="target")
    return infer_problem_type(frame[target])


def _check_target(frame: pd.DataFrame, target: str, problem_type: str, label: str) -> None:
    values = frame[target].dropna()
    if len(values) == 0:
        raise UserError(f"The target {target} has no values in {label}.", field="target")
    if problem_type in CLASSIFICATION and values.astype(str).nunique() < 2:
        raise UserError(f"The target {target} has a single class ({values.iloc[0]!s:.40}) in {label}; AutoML "
                        "needs at least two classes to learn from.", field="target")


def automl_job_start(
    *, project: Project, user, dataset: Dataset, target: str, version_number: int | None = None,
    problem_type: str = "", budget: str = Budget.QUICK, budget_seconds: int | None = None, metric: str = "",
    algorithms: list[str] | None = None, max_trials: int | None = None, folds: int = 5, test_share: float = 0.2,
    seed: int = 0, flow_run: FlowRun | None = None, name: str = "", experiment: str = "",
) -> AutoMLJob:
    """Check the request against the version's columns and the registries, then save the AutoML job and start
    its job on the training queue."""
    require(user=user, project=project, activity=Activity.RUN_JOBS)
    if dataset.project_id != project.id:
        raise UserError("That dataset belongs to another project.", field="dataset")
    version = version_get(dataset=dataset, number=version_number)
    target = (target or "").strip()
    if not target:
        raise UserError("Choose the column to predict.", field="target")
    if target not in version.column_names:
        raise UserError(f"There is no column called '{target}' in version {version.number} of {dataset.name}.",
                        field="target")
    seconds = budget_resolve(budget=budget, budget_seconds=budget_seconds)
    problem_type = (problem_type or "").strip()
    if problem_type not in ProblemType.values:
        raise UserError("The problem type must be binary, multiclass or regression (or left to be inferred).",
                        field="problem_type")
    frame = pd.read_parquet(version_parquet_path(version=version), columns=[target])
    resolved = problem_type or infer_problem_type(frame[target])
    _check_target(frame, target, resolved, f"version {version.number} of {dataset.name}")
    metric = (metric or "").strip()
    entry = METRICS.get(metric) if metric else None
    if metric and (entry is None or resolved not in entry.problem_types):
        names = ", ".join(name for name, item in METRICS.items() if resolved in item.problem_types)
        raise UserError(f"'{metric}' is not a metric of {resolved} problems; choose one of: {names}.", field="metric")
    chosen = [name for name in (algorithms or []) if name]
    try:
        for algorithm in chosen:
            algorithm_get(algorithm)
    except TrainingError as error:
        raise UserError(error.message, field="algorithms") from None
    usable = [name for name in chosen if resolved in algorithm_get(name).problem_types]
    if chosen and not usable:
        raise UserError(f"None of the chosen algorithms solves {resolved} problems; choose others.",
                        field="algorithms")
    if max_trials is not None and int(max_trials) < 1:
        raise UserError("The number of trials must be at least 1.", field="max_trials")
    if not 2 <= int(folds) <= MAX_FOLDS:
        raise UserError(f"Choose between 2 and {MAX_FOLDS} folds.", field="folds")
    if not 0 <= float(test_share) <= 0.5:
        raise UserError("The share of rows kept for the evaluation must be between 0 and 0.5.", field="test_share")
    flow_run_check(flow_run=flow_run, project=project)
    name = (name or "").strip()[:120] or f"AutoML: {target} on {dataset.name} v{version.number}"
    with transaction.atomic():
        automl = AutoMLJob.objects.create(
            project=project, name=name, dataset=dataset, version=version, flow_run=flow_run, target=target,
            problem_type=problem_type, budget=budget, budget_seconds=seconds, metric=metric, algorithms=usable,
            max_trials=max_trials, folds=int(folds), test_share=float(test_share), seed=int(seed), created_by=user,
            summary={"problem_type": resolved, "metric": metric or default_metric(resolved)})
        automl.job = _job_create(project, user, automl)
        automl.run = run_start(
            experiment=experiment_get_or_create(project=project, name=(experiment or "").strip() or dataset.name,
                                                user=user),
            user=user, name=name, source=RunSource.AUTOML, dataset_version=version, job=automl.job,
            flow=flow_run.flow if flow_run is not None else None,
            params={"target": target, "problem_type": problem_type or "inferred", "budget_seconds": seconds,
                    "metric": metric or "default", "algorithms": ",".join(usable) or "all",
                    "max_trials": max_trials or "none", "folds": folds, "test_share": test_share},
            tags={"automl_job": str(automl.id), "dataset": dataset.name, "role": "automl job"},
            spec={"kind": RUN_KIND, "target": target, "problem_type": problem_type, "budget_seconds": seconds,
                  "metric": metric, "algorithms": usable, "max_trials": max_trials, "folds": folds,
                  "test_share": test_share, "seed": seed, "dataset": dataset.id, "version": version.number})
        automl.save(update_fields=["job", "run"])
        audit_record(actor=user, action="automl.start", project=project, summary=f"Started AutoML job {name}")
    return automl


def _job_title(name: str) -> str:
    """The job list's title: the build's name, marked as AutoML unless its name already says so."""
    return name if name.lower().startswith("automl") else f"AutoML: {name}"


def _job_create(project: Project, user, automl: AutoMLJob) -> Job:
    from apps.core.services import job_create

    return job_create(project=project, user=user, kind=RUN_KIND, title=_job_title(automl.name),
                      inputs={"automl_job_id": automl.id, "dataset_id": automl.dataset_id,
                              "version": automl.version.number, "target": automl.target,
                              "budget_seconds": automl.budget_seconds})


# --- the job's work ------------------------------------------------------------------------------------------

class _LiveLeaderboard:
    """The job context as the engine sees it, which also keeps the AutoML job's leaderboard up to date: after
    a trial the engine saves its study as the checkpoint; every few seconds its trials are copied (as
    leaderboard rows) to the job, so the page shows the leaderboard growing."""

    def __init__(self, ctx: JobContext, automl: AutoMLJob, greater_is_better: bool) -> None:
        self.ctx, self.automl, self.greater_is_better = ctx, automl, greater_is_better
        self.saved_at = 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ctx, name)

    def progress(self, percent: float, message: str = "") -> None:
        self.ctx.progress(percent, message)

    def log(self, message: str, level: str = "INFO") -> None:
        self.ctx.log(message, level)

    def metric(self, name: str, value: float, step: int | None = None) -> None:
        self.ctx.metric(name, value, step)

    def should_stop(self) -> bool:
        return self.ctx.should_stop()

    def raise_if_stopped(self) -> None:
        self.ctx.raise_if_stopped()

    def load_checkpoint(self) -> bytes | None:
        return self.ctx.load_checkpoint()

    def save_checkpoint(self, data: bytes) -> None:
        self.ctx.save_checkpoint(data)
        if time.monotonic() - self.saved_at >= LIVE_SAVE_SECONDS:
            self.saved_at = time.monotonic()
            rows = live_leaderboard(data, greater_is_better=self.greater_is_better)
            if rows is not None:
                AutoMLJob.objects.filter(id=self.automl.id).update(leaderboard=rows)


def live_leaderboard(checkpoint: bytes, *, greater_is_better: bool) -> list[dict[str, Any]] | None:
    """Leaderboard rows (the final leaderboard's fields that are known mid-search) from the engine's saved
    study; None when it cannot be read (an unknown format is skipped, never an error)."""
    try:
        state = json.loads(checkpoint)
        trials = state["trials"]
    except (ValueError, KeyError, TypeError):
        return None
    rows = []
    for trial in trials:
        losses = trial.get("rung_losses") or []
        loss = losses[-1] if losses else None
        score = None if loss is None or not math.isfinite(loss) else (-loss if greater_is_better else loss)
        rows.append({"trial": int(trial.get("number", 0)) + 1, "algorithm": trial.get("algorithm", ""),
                     "hyperparameters": trial.get("hyperparameters", {}), "validation_score": score,
                     "training_rows": trial.get("rows", 0), "train_seconds": round(float(trial.get("seconds", 0)), 3),
                     "latency_ms_per_row": trial.get("latency_ms_per_row"), "status": trial.get("status", ""),
                     "error": trial.get("error", "")})
    order = {"completed": 0, "pruned": 1, "timeout": 2, "failed": 3}
    rows.sort(key=lambda row: (order.get(row["status"], 4), row["validation_score"] is None,
                               -(row["validation_score"] or 0) if greater_is_better else (row["validation_score"] or 0),
                               row["trial"]))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return rows


def _split(frame: pd.DataFrame, target: str, problem_type: str, share: float,
           seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows for the search and rows kept aside for the best model's evaluation (stratified when it can be)."""
    from sklearn.model_selection import train_test_split

    labelled = frame[frame[target].notna()]
    if share <= 0 or len(labelled) < 40:
        return frame, labelled.iloc[0:0]
    stratify = None
    if problem_type in CLASSIFICATION:
        counts = labelled[target].astype(str).value_counts()
        stratify = labelled[target].astype(str) if counts.min() >= 2 else None
    search, kept = train_test_split(labelled.index, test_size=share, random_state=seed, stratify=stratify)
    return frame.drop(index=kept), frame.loc[kept]


def _evaluate(model: TrainedModel, test: pd.DataFrame, seed: int) -> dict[str, Any]:
    """Metrics and charts (confusion matrix, ROC and PR curves, or residuals) of the model on rows it never saw."""
    if len(test) == 0:
        return {"rows": 0, "metrics": {}, "charts": {}}
    predictions = model.predict_frame(test.drop(columns=[model.target]))
    if model.problem_type in CLASSIFICATION:
        codes = {label: index for index, label in enumerate(model.classes)}
        truth = test[model.target].astype(str).map(codes)
        known = truth.notna().to_numpy()
        y_true = truth[known].to_numpy(dtype="int64")
        y_pred = predictions["prediction"].astype(str).map(codes).to_numpy()[known].astype("int64")
        columns = [f"probability_{label}" for label in model.classes]
        proba = predictions[columns].to_numpy(dtype="float64")[known] if all(
            column in predictions for column in columns) else None
    else:
        y_true = pd.to_numeric(test[model.target], errors="coerce").to_numpy(dtype="float64")
        y_pred = predictions["prediction"].to_numpy(dtype="float64")
        proba = None
    return {"rows": len(y_true), "metrics": evaluate(model.problem_type, y_true, y_pred, proba),
            "charts": curves(model.problem_type, y_true, y_pred, proba, [str(c) for c in model.classes], seed)}


def _typical_row(frame: pd.DataFrame, model: TrainedModel) -> dict[str, Any]:
    """A typical input row for the what-if form: the median of each numeric column, the mode of the others."""
    row: dict[str, Any] = {}
    for column in model.signature:
        name = column["name"]
        values = frame[name].dropna() if name in frame.columns else pd.Series(dtype=object)
        if len(values) == 0:
            row[name] = None
        elif column["type"] == "numeric" and pd.api.types.is_numeric_dtype(values):
            median = float(values.median())
            row[name] = int(median) if pd.api.types.is_integer_dtype(values) and median.is_integer() else median
        else:
            value = values.mode().iloc[0]
            row[name] = value.item() if hasattr(value, "item") else (str(value) if not isinstance(value, str | bool)
                                                                      else value)
    return row


def _put(job: Job, automl: AutoMLJob, data: bytes, suffix: str, media_type: str, kind: str) -> Artifact:
    return artifact_put_bytes(data=data, project=job.project, name=f"{automl.name} {suffix}", media_type=media_type,
                              kind=kind, user=job.owner)


def automl_job_run(*, job: Job, ctx: JobContext) -> dict[str, Any]:
    """The work of an automl.run job. A model saved by an earlier attempt is kept, not searched again."""
    automl = (AutoMLJob.objects.select_related("dataset", "version__parquet", "flow_run__fitted")
              .filter(id=job.inputs.get("automl_job_id"), project=job.project).first())
    if automl is None:
        raise UserError("The AutoML job or its dataset was deleted before it could run.")
    if automl.model_id:
        return _outputs(automl)
    version = automl.version
    ctx.progress(0.5, f"Reading version {version.number} of {automl.dataset.name}")
    frame = pd.read_parquet(version_parquet_path(version=version))
    flow_document = _flow_document(automl, ctx)  # type: ignore[arg-type]
    if flow_document is not None and automl.flow_run is not None and automl.flow_run.output_version_id != version.id:
        frame = _apply_flow(frame, flow_document, ctx)
    if automl.target not in frame.columns:
        raise UserError(f"There is no column called '{automl.target}' in the data.")
    problem_type = automl.problem_type or infer_problem_type(frame[automl.target])
    metric = automl.metric or default_metric(problem_type)
    search, test = _split(frame, automl.target, problem_type, automl.test_share, automl.seed)
    ctx.log(f"{len(search):,} rows for the search; {len(test):,} rows kept aside for the final evaluation.")
    from django.conf import settings

    live = _LiveLeaderboard(ctx, automl, METRICS[metric].greater_is_better)
    try:
        result = automl_run(search, target=automl.target, problem_type=problem_type, budget_seconds=automl.budget_seconds,
                            metric=metric, seed=automl.seed, ctx=live, algorithms=automl.algorithms or None,
                            folds=automl.folds, max_trials=automl.max_trials, threads=settings.TRAINING_THREADS,
                            flow=flow_document)
    except TrainingError as error:
        raise _user_error(error) from None
    for warning in result.warnings:
        ctx.log(warning, level="WARNING")
    ctx.progress(99, "Evaluating the best model and writing its code")
    evaluation = _evaluate(result.best, test, automl.seed)
    importance = global_importance(result.best, test if len(test) >= 20 else search, seed=automl.seed)
    code = generated_code(result)
    document = {**result.summary(), "test": evaluation, "importance": importance}
    bundle = bundle_bytes(result.best)
    with transaction.atomic():
        _hold_lease(job, ctx)
        automl.model = _put(job, automl, bundle, "model.zip", "application/zip", "model")
        automl.evaluation = _put(job, automl, _json(document), "evaluation.json", "application/json", "report")
        automl.script = _put(job, automl, code["script"].encode(), code["file_name"], "text/x-python", "code")
        automl.notebook = _put(job, automl, _json(code["notebook"]), code["file_name"].replace(".py", ".ipynb"),
                               "application/x-ipynb+json", "code")
        automl.leaderboard = result.leaderboard
        automl.importance = importance["importance"]
        automl.summary = _summary(result, evaluation, importance, search)
        automl.save(update_fields=["model", "evaluation", "script", "notebook", "leaderboard", "importance",
                                   "summary"])
        _log_runs(automl, job, result, evaluation)
    ctx.log(f"Best model: {result.best.algorithm}, validation {result.metric} {result.best_score:.4f}.")
    return _outputs(automl)


def _json(value: Any) -> bytes:
    return json.dumps(value, allow_nan=False, separators=(",", ":"), default=_plain).encode()


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def _summary(result: AutoMLResult, evaluation: dict[str, Any], importance: dict[str, Any],
             search: pd.DataFrame) -> dict[str, Any]:
    return {"problem_type": result.problem_type, "metric": result.metric, "direction": result.direction,
            "best_algorithm": result.best.algorithm, "best_score": result.best_score,
            "ensemble": result.ensemble, "validation": result.validation, "warnings": result.warnings,
            "trials": result.trials, "seconds": round(result.seconds, 3), "resumed_trials": result.resumed_trials,
            "test_rows": evaluation["rows"], "test_metrics": evaluation["metrics"],
            "importance_method": importance["method"], "importance_rows": importance["rows"],
            "classes": result.best.classes[:50], "signature": result.best.signature,
            "typical_row": _typical_row(search, result.best)}


def _log_runs(automl: AutoMLJob, job: Job, result: AutoMLResult, evaluation: dict[str, Any]) -> None:
    """The job's run gets the best model's scores and the artifacts; each of the best CANDIDATE_RUNS
    candidates gets a run of its own (a long search may try hundreds: those stay on the leaderboard only)."""
    run = automl.run
    if run is None:
        return
    points = [{"key": f"validation_{result.metric}", "value": result.best_score, "step": 0}]
    points += [{"key": f"test_{name}", "value": value, "step": 0} for name, value in evaluation["metrics"].items()]
    run_log_batch(run=run, metrics=points, tags={"problem_type": result.problem_type,
                                                 "best_algorithm": result.best.algorithm})
    for artifact, name in ((automl.model, "model.zip"), (automl.evaluation, "evaluation.json"),
                           (automl.script, "automl.py"), (automl.notebook, "automl.ipynb")):
        if artifact is not None:
            run_attach_artifact(run=run, artifact=artifact, name=name)
    candidates = [row for row in result.leaderboard if row["status"] == "completed"][:CANDIDATE_RUNS]
    for row in candidates:
        child = run_start(
            experiment=run.experiment, user=job.owner, name=f"{automl.name} · #{row['rank']} {row['algorithm']}",
            source=RunSource.AUTOML, dataset_version=automl.version, job=job,
            params={"algorithm": row["algorithm"], **{key: "none" if value is None else value
                                                      for key, value in row["hyperparameters"].items()}},
            tags={"automl_job": str(automl.id), "rank": str(row["rank"]), "trial": str(row["trial"]),
                  "parent_run": str(run.uuid), "role": "automl candidate"})
        metrics = [{"key": f"validation_{result.metric}", "value": row["validation_score"], "step": 0},
                   {"key": "train_seconds", "value": row["train_seconds"], "step": 0}]
        if row.get("latency_ms_per_row") is not None:
            metrics.append({"key": "latency_ms_per_row", "value": row["latency_ms_per_row"], "step": 0})
        run_log_batch(run=child, metrics=metrics)
        run_finish(run=child, status="finished")


RUN_END = {"Completed": "finished", "Failed": "failed", "Stopped": "killed"}


def automl_run_finish(*, job: Job) -> None:
    """Called once the AutoML job has ended, however it ended: end its run the same way."""
    run = Run.objects.filter(automl_job__job=job, ended_at__isnull=True).first()
    if run is not None and job.status in RUN_END:
        run_finish(run=run, status=RUN_END[job.status])


def _outputs(automl: AutoMLJob) -> dict[str, Any]:
    def uuid_of(artifact: Artifact | None) -> str | None:
        return str(artifact.uuid) if artifact is not None else None

    return {"automl_job_id": automl.id, "model": uuid_of(automl.model), "evaluation": uuid_of(automl.evaluation),
            "script": uuid_of(automl.script), "notebook": uuid_of(automl.notebook),
            "best_algorithm": automl.summary.get("best_algorithm"), "best_score": automl.summary.get("best_score")}


# --- using the best model ------------------------------------------------------------------------------------

def automl_model_load(*, automl: AutoMLJob) -> TrainedModel:
    if automl.model is None:
        raise Conflict("This AutoML job has no model yet: wait until it has completed.")
    with artifact_open(automl.model) as handle:
        return bundle_load(handle.read())


NUMERIC_TYPES = ("numeric",)


def _coerce_row(model: TrainedModel, row: dict[str, Any]) -> dict[str, Any]:
    """The row with every signature column, numbers as numbers; a missing column or a value of the wrong type
    is a UserError that names the column."""
    if not isinstance(row, dict):
        raise UserError("Send the row as an object of column → value.", field="row")
    out: dict[str, Any] = {}
    for column in model.signature:
        name = column["name"]
        if name not in row:
            raise UserError(f"The row has no value for the column '{name}'.", field=name)
        value = row[name]
        if value in ("", None):
            out[name] = None
        elif column["type"] in NUMERIC_TYPES:
            if isinstance(value, bool):
                raise UserError(f"The column '{name}' takes a number, not {value!r}.", field=name)
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise UserError(f"The column '{name}' takes a number, not {str(value)[:40]!r}.", field=name) from None
            if not math.isfinite(number):
                raise UserError(f"The column '{name}' takes a finite number.", field=name)
            out[name] = number
        elif isinstance(value, dict | list):
            raise UserError(f"The column '{name}' takes a single value.", field=name)
        else:
            out[name] = value
    return out


def automl_what_if(*, automl: AutoMLJob, row: dict[str, Any]) -> dict[str, Any]:
    """The best model's prediction for one row, its class probabilities, and each column's impact."""
    model = automl_model_load(automl=automl)
    try:
        return what_if(model, _coerce_row(model, row))
    except TrainingError as error:
        raise _user_error(error) from None


def automl_predict_frame(*, automl: AutoMLJob, frame: pd.DataFrame) -> pd.DataFrame:
    """The input columns plus the prediction (and class probabilities) for each row; at most MAX_PREDICT_ROWS."""
    model = automl_model_load(automl=automl)
    if len(frame) == 0:
        raise UserError("The file has no rows to predict.", field="file")
    if len(frame) > MAX_PREDICT_ROWS:
        raise UserError(f"At most {MAX_PREDICT_ROWS:,} rows can be predicted at once; this file has {len(frame):,}.",
                        field="file")
    missing = [column["name"] for column in model.signature if column["name"] not in frame.columns]
    if missing:
        raise UserError(f"The file lacks the column{'s' if len(missing) > 1 else ''} the model needs: "
                        f"{', '.join(missing)}.", field="file")
    try:
        predictions = model.predict_frame(frame)
    except TrainingError as error:
        raise _user_error(error) from None
    inputs = frame.drop(columns=[column for column in predictions.columns if column in frame.columns])
    return pd.concat([inputs, predictions], axis=1)


def csv_read(*, data: bytes) -> pd.DataFrame:
    """A CSV upload as text columns inferred by pandas; size capped, errors said plainly."""
    if len(data) > MAX_PREDICT_BYTES:
        raise UserError(f"The file is larger than {MAX_PREDICT_BYTES // (1024 * 1024)} MB; split it.", field="file")
    try:
        return pd.read_csv(io.BytesIO(data), nrows=MAX_PREDICT_ROWS + 1)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as error:
        raise UserError(f"The file could not be read as CSV: {str(error)[:200]}", field="file") from None


def csv_bytes(*, frame: pd.DataFrame) -> bytes:
    """CSV with text cells that a spreadsheet would run as a formula neutralised."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object:
            safe[column] = safe[column].map(lambda value: neutralise_text(value) if isinstance(value, str) else value)
    safe.columns = [neutralise_text(str(column)) for column in safe.columns]
    return safe.to_csv(index=False).encode()



# --- ONNX export of the best model ---------------------------------------------------------------------------

def automl_onnx_status(*, automl: AutoMLJob) -> tuple[bool, str]:
    """Whether the best model can be downloaded as ONNX, and if not why (plain words)."""
    from engine.training.onnx_export import onnx_supported

    if automl.model is None:
        return False, "There is no best model yet: ONNX export is offered once the build has completed."
    from apps.core.artifacts import ArtifactCorrupted

    try:
        model = automl_model_load(automl=automl)
    except ArtifactCorrupted:
        return False, "The model bundle no longer matches its checksum, so it is not converted."
    except (UserError, Conflict, TrainingError) as error:
        return False, error.message
    return onnx_supported(model)


def automl_onnx(*, automl: AutoMLJob) -> tuple[bytes, str]:
    """(the ONNX file of the best model, its file name); Conflict with the reason when it cannot be exported."""
    from engine.training.onnx_export import onnx_export

    ok, reason = automl_onnx_status(automl=automl)
    if not ok:
        raise Conflict(reason)
    try:
        data = onnx_export(automl_model_load(automl=automl))
    except TrainingError as error:
        raise Conflict(error.message) from None
    return data, f"automl-{automl.id}-best.onnx"
