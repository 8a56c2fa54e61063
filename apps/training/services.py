"""Writes for training jobs: check and start one, and the job's work (read the version, re-apply the fitted
flow if asked, train in the engine, keep the bundle and the evaluation in the artifact store). Keyword-only,
named <thing>_<verb>."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
from django.conf import settings
from django.db import transaction

from apps.core.artifacts import ArtifactCorrupted, artifact_open, artifact_put_bytes, artifact_put_file
from apps.core.audit import audit_record
from apps.core.errors import Conflict, UserError
from apps.core.jobs import LeaseLost
from apps.core.models import Job, Project
from apps.core.roles import Activity
from apps.core.selectors import require
from apps.core.services import job_create
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
from apps.wrangler.models import FlowRun
from engine.runtime import JobContext
from engine.training import TrainingError, TrainingSpec, algorithm_get, bundle_bytes, train
from engine.training.hyperparams import clean_hyperparameters
from engine.training.script import (
    ScriptError,
    ScriptLimits,
    check_script_inputs,
    network_isolation_problem,
    pack_folder,
    run_training_script,
)

from .models import TrainingJob, TrainingKind, Validation

FIT_KIND = "training.fit"
SCRIPT_KIND = "training.script"
SCRIPT_ALGORITHM = "script"
MIN_SCRIPT_MEMORY_MB = 128
MAX_FOLDS = 20


def _user_error(error: TrainingError) -> UserError:
    return UserError(error.message, field=error.field or None)


def training_data_check(*, spec: Any, dataset: Dataset, version: Any, target: str, problem_type: str, validation: str,
                        folds: int, test_share: float, exclude: list[str], flow_run: FlowRun | None,
                        project: Project) -> str:
    """Check a training request's data choices against the algorithm `spec` and the version's columns (a tuning
    job makes them once up front, so a job whose trials would all be refused is refused itself). Returns the
    target (empty for unsupervised algorithms)."""
    columns = version.column_names
    target = (target or "").strip()
    if spec.supervised:
        if not target:
            raise UserError(f"{spec.label} learns to predict a target: choose the target column.", field="target")
        if target not in columns:
            raise UserError(f"There is no column called '{target}' in version {version.number} of {dataset.name}.",
                            field="target")
    else:
        target = ""
    if problem_type and problem_type not in spec.problem_types:
        raise UserError(f"{spec.label} solves {', '.join(spec.problem_types)} problems, not {problem_type}.",
                        field="problem_type")
    if validation not in Validation.values:
        raise UserError("Validation must be holdout or k-fold.", field="validation")
    if validation == Validation.KFOLD and not 2 <= int(folds) <= MAX_FOLDS:
        raise UserError(f"Choose between 2 and {MAX_FOLDS} folds.", field="folds")
    if not 0.05 <= float(test_share) <= 0.5:
        raise UserError("The validation share must be between 0.05 and 0.5.", field="test_share")
    unknown = [column for column in exclude if column not in columns]
    if unknown:
        raise UserError(f"There is no column called '{unknown[0]}' to leave out.", field="exclude")
    if target and target in exclude:
        raise UserError("The target cannot also be left out.", field="exclude")
    flow_run_check(flow_run=flow_run, project=project)
    return target


def flow_run_check(*, flow_run: FlowRun | None, project: Project) -> None:
    """A flow run a job learns from must be this project's and fitted."""
    if flow_run is None:
        return
    if flow_run.flow.project_id != project.id:
        raise UserError("That flow belongs to another project.", field="flow_run")
    if flow_run.fitted_id is None:
        raise UserError("That flow run has no fitted flow: apply the flow first.", field="flow_run")


def training_job_start(
    *, project: Project, user, dataset: Dataset, algorithm: str, target: str = "", version_number: int | None = None,
    hyperparameters: dict[str, Any] | None = None, problem_type: str = "", validation: str = Validation.HOLDOUT,
    folds: int = 5, test_share: float = 0.2, seed: int = 0, exclude: list[str] | None = None,
    flow_run: FlowRun | None = None, name: str = "", experiment: str = "",
) -> TrainingJob:
    """Check the request against the algorithm and the version's columns, then save the training job and start
    its job on the training queue."""
    require(user=user, project=project, activity=Activity.RUN_JOBS)
    if dataset.project_id != project.id:
        raise UserError("That dataset belongs to another project.", field="dataset")
    version = version_get(dataset=dataset, number=version_number)
    try:
        spec = algorithm_get(algorithm)
        cleaned = clean_hyperparameters(spec.hyperparameters, hyperparameters, spec.label)
    except TrainingError as error:
        raise _user_error(error) from None
    exclude = [column for column in (exclude or []) if column]
    problem_type = (problem_type or "").strip()
    target = training_data_check(spec=spec, dataset=dataset, version=version, target=target,
                                 problem_type=problem_type, validation=validation, folds=folds,
                                 test_share=test_share, exclude=exclude, flow_run=flow_run, project=project)
    name = (name or "").strip()[:120] or f"{spec.label} on {dataset.name} v{version.number}"
    experiment_name = (experiment or "").strip() or dataset.name
    with transaction.atomic():
        training = TrainingJob.objects.create(
            project=project, name=name, dataset=dataset, version=version, flow_run=flow_run, target=target,
            problem_type=problem_type, algorithm=spec.name, hyperparameters=cleaned, validation=validation,
            folds=int(folds), test_share=float(test_share), seed=int(seed), exclude=exclude, created_by=user)
        training.job = job_create(project=project, user=user, kind=FIT_KIND, title=f"Train {name}",
                                  inputs={"training_job_id": training.id, "dataset_id": dataset.id,
                                          "version": version.number, "algorithm": spec.name, "target": target})
        training.run = run_start(
            experiment=experiment_get_or_create(project=project, name=experiment_name, user=user), user=user,
            name=name, source=RunSource.TRAINING, dataset_version=version, job=training.job,
            flow=flow_run.flow if flow_run is not None else None,
            params={"algorithm": spec.name, "target": target, "problem_type": problem_type or "inferred",
                    "validation": validation, **({"folds": folds} if validation == Validation.KFOLD
                                                 else {"test_share": test_share}),
                    **{key: "none" if value is None else value for key, value in cleaned.items()}},
            tags={"training_job": str(training.id), "dataset": dataset.name},
            spec={"kind": "training.fit", "algorithm": spec.name, "hyperparameters": cleaned, "target": target,
                  "problem_type": problem_type, "validation": validation, "folds": folds, "test_share": test_share,
                  "seed": seed, "exclude": exclude, "dataset": dataset.id, "version": version.number,
                  "flow_run": flow_run.id if flow_run is not None else None})
        training.save(update_fields=["job", "run"])
        audit_record(actor=user, action="training.start", project=project, summary=f"Started training job {name}")
    return training


def training_job_run(*, job: Job, ctx: JobContext) -> dict[str, Any]:
    """The work of a training.fit job. A model saved by an earlier attempt is kept, not trained again."""
    training = (TrainingJob.objects.select_related("dataset", "version__parquet", "flow_run__fitted")
                .filter(id=job.inputs.get("training_job_id"), project=job.project).first())
    if training is None:
        raise UserError("The training job or its dataset was deleted before it could run.")
    if training.model_id:
        return _outputs(training)
    version = training.version
    ctx.progress(0.5, f"Reading version {version.number} of {training.dataset.name}")
    ctx.log(f"Reading {version.row_count:,} rows and {version.column_count} columns.")
    frame = pd.read_parquet(version_parquet_path(version=version))
    flow_document = _flow_document(training, ctx)
    if flow_document is not None and training.flow_run.output_version_id != version.id:
        frame = _apply_flow(frame, flow_document, ctx)
    spec = TrainingSpec(
        algorithm=training.algorithm, target=training.target or None, hyperparameters=training.hyperparameters,
        problem_type=training.problem_type or None, validation=training.validation, test_share=training.test_share,
        folds=training.folds, seed=training.seed, checkpoint_every=settings.TRAINING_CHECKPOINT_EVERY,
        threads=settings.TRAINING_THREADS, exclude=tuple(training.exclude),
    )
    try:
        result = train(frame, spec, ctx, flow=flow_document)
    except TrainingError as error:
        raise _user_error(error) from None
    for warning in result.warnings:
        ctx.log(warning, level="WARNING")
    bundle = bundle_bytes(result.model)
    document = json.dumps(result.summary(), allow_nan=False, separators=(",", ":"), default=float).encode()
    with transaction.atomic():
        _hold_lease(job, ctx)
        training.model = artifact_put_bytes(data=bundle, project=job.project, name=f"{training.name} model.zip",
                                            media_type="application/zip", kind="model", user=job.owner)
        training.result = artifact_put_bytes(data=document, project=job.project,
                                             name=f"{training.name} evaluation.json", media_type="application/json",
                                             kind="report", user=job.owner)
        training.summary = {"problem_type": result.problem_type, "metrics": result.metrics,
                            "objective": result.objective, "objective_value": result.metrics.get(result.objective),
                            "rows": result.rows, "seconds": round(result.seconds, 3),
                            "warnings": len(result.warnings), "classes": result.model.classes[:50],
                            "latency_ms_per_row": result.latency_ms_per_row, "resumed_from": result.resumed_from}
        training.save(update_fields=["model", "result", "summary"])
        _log_run(training, job, result)
    ctx.log(f"Model saved ({len(bundle):,} bytes); {result.objective} = {result.metrics.get(result.objective)}.")
    return _outputs(training)


MAX_CURVE_POINTS = 5000


def _log_run(training: TrainingJob, job: Job, result: Any) -> None:
    """Copy what the job measured into its experiment run: the learning curves with their steps, the final
    validation metrics under their plain names (metrics.roc_auc), training metrics as train_<name>, and the
    model bundle and evaluation as run artifacts."""
    from apps.core.models import JobMetric

    run = training.run
    if run is None:
        return
    curves = (JobMetric.objects.filter(job=job, step__isnull=False).exclude(name__startswith="fold_")
              .order_by("id").values_list("name", "value", "step", "at")[:MAX_CURVE_POINTS])
    points = [{"key": name, "value": value, "step": step, "timestamp": int(at.timestamp() * 1000)}
              for name, value, step, at in curves]
    points += [{"key": name, "value": value, "step": 0} for name, value in result.metrics.items()]
    points += [{"key": f"train_{name}", "value": value, "step": 0} for name, value in result.train_metrics.items()]
    points += [{"key": f"test_{name}", "value": value, "step": 0} for name, value in result.test_metrics.items()]
    run_log_batch(run=run, metrics=points, tags={"problem_type": result.problem_type})
    run_attach_artifact(run=run, artifact=training.model, name="model.zip")
    run_attach_artifact(run=run, artifact=training.result, name="evaluation.json")


RUN_END = {"Completed": "finished", "Failed": "failed", "Stopped": "killed"}


def training_run_finish(*, job: Job) -> None:
    """Called once the training job has ended, however it ended: end its run the same way."""
    run = Run.objects.filter(training_job__job=job, ended_at__isnull=True).first()
    if run is not None and job.status in RUN_END:
        run_finish(run=run, status=RUN_END[job.status])


def _flow_document(training: TrainingJob, ctx: JobContext) -> dict[str, Any] | None:
    if training.flow_run is None or training.flow_run.fitted is None:
        return None
    from apps.wrangler.services import fitted_json

    ctx.log(f"Using the fitted flow of {training.flow_run}.")
    return fitted_json(artifact=training.flow_run.fitted)


def _apply_flow(frame: pd.DataFrame, document: dict[str, Any], ctx: JobContext) -> pd.DataFrame:
    """Re-apply a fitted flow (its states as fitted, never re-fitted) to a version it did not make."""
    from engine.wrangler.errors import TransformError
    from engine.wrangler.flow import Step, flow_run

    ctx.log("The version was not made by this flow run: applying the fitted flow to it first.")
    steps = [Step.from_json(step) for step in document["steps"]]
    try:
        return flow_run(frame, steps, states=[step.get("state") for step in document["steps"]], ctx=ctx).frame
    except TransformError as error:
        raise UserError(f"The fitted flow failed on this version: {error.message}") from None


def _hold_lease(job: Job, ctx: JobContext) -> None:
    """Save only while this attempt still holds the job, so a worker presumed dead leaves no result."""
    lease = getattr(ctx, "lease", None)
    if lease is not None and not Job.objects.select_for_update().filter(id=job.id, lease=lease).exists():
        raise LeaseLost(f"job {job.id} lost its lease")


def _outputs(training: TrainingJob) -> dict[str, Any]:
    return {"training_job_id": training.id, "model": str(training.model.uuid) if training.model else None,
            "evaluation": str(training.result.uuid) if training.result else None,
            "objective": training.summary.get("objective"), "value": training.summary.get("objective_value")}


# --- your own script (SageMaker script mode) ---------------------------------------------------------------


def _script_user_error(error: ScriptError) -> UserError:
    return UserError(error.message, field=error.param or None)


def _param_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def training_script_start(
    *, project: Project, user, dataset: Dataset, script: str, version_number: int | None = None,
    hyperparameters: dict[str, Any] | None = None, metric_definitions: list[dict[str, str]] | None = None,
    timeout_seconds: int | None = None, memory_mb: int | None = None, network_isolation: bool = False,
    target: str = "", name: str = "", experiment: str = "",
) -> TrainingJob:
    """Check the user's train.py and its settings, keep the script as an artifact, and start a training.script
    job on the training queue. Only roles that may run custom code may do this: the script runs in a worker."""
    require(user=user, project=project, activity=Activity.RUN_JOBS)
    require(user=user, project=project, activity=Activity.RUN_CODE)
    if dataset.project_id != project.id:
        raise UserError("That dataset belongs to another project.", field="dataset")
    version = version_get(dataset=dataset, number=version_number)
    hyperparameters = dict(hyperparameters or {})
    metric_definitions = list(metric_definitions or [])
    try:
        source = check_script_inputs(script=script, hyperparameters=hyperparameters,
                                     metric_definitions=metric_definitions)
    except ScriptError as error:
        raise _script_user_error(error) from None
    timeout = int(timeout_seconds or settings.SCRIPT_TIMEOUT_SECONDS)
    if not 1 <= timeout <= settings.SCRIPT_TIMEOUT_SECONDS:
        raise UserError(f"The time limit must be between 1 and {settings.SCRIPT_TIMEOUT_SECONDS} seconds.",
                        field="timeout_seconds")
    memory = int(memory_mb or settings.SCRIPT_MEMORY_MB)
    if not MIN_SCRIPT_MEMORY_MB <= memory <= settings.SCRIPT_MEMORY_MB:
        raise UserError(f"The memory limit must be between {MIN_SCRIPT_MEMORY_MB} and {settings.SCRIPT_MEMORY_MB} MB.",
                        field="memory_mb")
    if network_isolation and (problem := network_isolation_problem()) is not None:
        raise UserError(f"Network isolation is not available on this server: {problem}.", field="network_isolation")
    target = (target or "").strip()
    if target and target not in version.column_names:
        raise UserError(f"There is no column called '{target}' in version {version.number} of {dataset.name}.",
                        field="target")
    name = (name or "").strip()[:120] or f"Script on {dataset.name} v{version.number}"
    experiment_name = (experiment or "").strip() or dataset.name
    definitions = [{"name": item.get("name", item.get("Name")), "regex": item.get("regex", item.get("Regex"))}
                   for item in metric_definitions]
    with transaction.atomic():
        stored = artifact_put_bytes(data=source.encode("utf-8"), project=project, name="train.py",
                                    media_type="text/x-python", kind="code", user=user)
        training = TrainingJob.objects.create(
            project=project, name=name, dataset=dataset, version=version, target=target, kind=TrainingKind.SCRIPT,
            algorithm=SCRIPT_ALGORITHM, hyperparameters=hyperparameters, script=stored,
            metric_definitions=definitions, timeout_seconds=timeout, memory_mb=memory,
            network_isolation=bool(network_isolation), created_by=user)
        training.job = job_create(project=project, user=user, kind=SCRIPT_KIND, title=f"Train {name}",
                                  inputs={"training_job_id": training.id, "dataset_id": dataset.id,
                                          "version": version.number, "script": str(stored.uuid)})
        training.run = run_start(
            experiment=experiment_get_or_create(project=project, name=experiment_name, user=user), user=user,
            name=name, source=RunSource.TRAINING, dataset_version=version, job=training.job,
            params={name: _param_text(value) for name, value in hyperparameters.items()},
            tags={"training_job": str(training.id), "dataset": dataset.name, "kind": "script",
                  **({"target": target} if target else {})},
            spec={"kind": SCRIPT_KIND, "script": source, "hyperparameters": hyperparameters,
                  "metric_definitions": definitions, "timeout_seconds": timeout, "memory_mb": memory,
                  "network_isolation": bool(network_isolation), "target": target, "dataset": dataset.id,
                  "version": version.number})
        training.save(update_fields=["job", "run"])
        audit_record(actor=user, action="training.start", project=project,
                     summary=f"Started script training job {name}")
    return training


def training_script_source(*, training: TrainingJob) -> str:
    """The train.py a script job ran, checked against its sha256."""
    if training.script is None:
        raise UserError("This training job's script is no longer stored.")
    try:
        with artifact_open(training.script) as handle:
            return handle.read().decode("utf-8", "replace")
    except ArtifactCorrupted:
        raise UserError("This training job's script no longer matches its checksum, so it is not run.") from None


def script_work_dir(*, training: TrainingJob) -> Path:
    """The job's SageMaker folders on this worker; kept between attempts so SM_CHECKPOINT_DIR survives a retry."""
    return Path(settings.SCRIPT_WORK_ROOT) / f"training-{training.id}"


def _write_training_channel(training: TrainingJob, folder: Path, ctx: JobContext) -> None:
    """The version's rows as channel "training": data.parquet (the version's own file) and data.csv."""
    version = training.version
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    source = version_parquet_path(version=version)
    ctx.progress(0.5, f"Writing version {version.number} of {training.dataset.name} as channel training")
    shutil.copyfile(source, folder / "data.parquet")
    pd.read_parquet(source).to_csv(folder / "data.csv", index=False)
    ctx.log(f"Channel training: {version.row_count:,} rows and {version.column_count} columns as data.csv and "
            "data.parquet.")


def training_script_run(*, job: Job, ctx: JobContext) -> dict[str, Any]:
    """The work of a training.script job: write the channel, run train.py with its limits (logs and metrics
    streamed to the job), then keep SM_MODEL_DIR and SM_OUTPUT_DATA_DIR as gzip tars. An attempt that finds the
    job already done returns its outputs."""
    training = (TrainingJob.objects.select_related("dataset", "version__parquet", "script")
                .filter(id=job.inputs.get("training_job_id"), project=job.project, kind=TrainingKind.SCRIPT).first())
    if training is None:
        raise UserError("The training job or its dataset was deleted before it could run.")
    if training.summary:
        return _script_outputs(training)
    source = training_script_source(training=training)
    root = script_work_dir(training=training)
    channel = root / "channels" / "training"
    _write_training_channel(training, channel, ctx)
    limits = ScriptLimits(timeout_seconds=training.timeout_seconds or settings.SCRIPT_TIMEOUT_SECONDS,
                          memory_mb=training.memory_mb or settings.SCRIPT_MEMORY_MB)
    try:
        result = run_training_script(script=source, channels={"training": channel},
                                     hyperparameters=training.hyperparameters, workdir=root / "ml", limits=limits,
                                     ctx=ctx, network=not training.network_isolation,
                                     metric_definitions=training.metric_definitions)
        max_bytes = settings.SCRIPT_ARTIFACT_MAX_MB * 1_000_000
        model = pack_folder(result.model_dir, root / "model.tar.gz", max_bytes=max_bytes)
        output = pack_folder(result.output_dir, root / "output.tar.gz", max_bytes=max_bytes, what="output folder")
    except ScriptError as error:
        raise _script_user_error(error) from None
    for packed, folder in ((model, "SM_MODEL_DIR"), (output, "SM_OUTPUT_DATA_DIR")):
        if packed.skipped:
            ctx.log(f"Left out of {folder} (links and special files are not kept): "
                    f"{', '.join(packed.skipped[:20])}", "WARNING")
    with transaction.atomic():
        _hold_lease(job, ctx)
        if model.files:
            training.model = artifact_put_file(path=root / "model.tar.gz", project=job.project,
                                               name=f"{training.name} model.tar.gz", media_type="application/gzip",
                                               kind="model", user=job.owner)
        if output.files:
            training.output = artifact_put_file(path=root / "output.tar.gz", project=job.project,
                                                name=f"{training.name} output.tar.gz",
                                                media_type="application/gzip", kind="report", user=job.owner)
        training.summary = {"kind": TrainingKind.SCRIPT.value, "metrics": result.metrics,
                            "seconds": round(result.duration, 3), "cpu_seconds": round(result.cpu_seconds, 3),
                            "peak_memory_mb": round(result.peak_memory_mb, 1), "model_files": model.files,
                            "model_bytes": model.bytes, "output_files": output.files}
        training.save(update_fields=["model", "output", "summary"])
        _log_script_run(training, job)
    ctx.log(f"Kept {model.files} model file(s) ({model.bytes:,} bytes) as model.tar.gz and {output.files} output "
            f"file(s) as output.tar.gz.")
    shutil.rmtree(root, ignore_errors=True)  # everything worth keeping is in the artifact store now
    return _script_outputs(training)


def _log_script_run(training: TrainingJob, job: Job) -> None:
    """The parsed metrics (every occurrence, its step) and the artifacts go to the job's experiment run."""
    from apps.core.models import JobMetric

    run = training.run
    if run is None:
        return
    points = (JobMetric.objects.filter(job=job, step__isnull=False).order_by("id")
              .values_list("name", "value", "step", "at")[:MAX_CURVE_POINTS])
    run_log_batch(run=run, metrics=[{"key": name, "value": value, "step": step,
                                     "timestamp": int(at.timestamp() * 1000)} for name, value, step, at in points])
    for artifact, name in ((training.script, "train.py"), (training.model, "model.tar.gz"),
                           (training.output, "output.tar.gz")):
        if artifact is not None:
            run_attach_artifact(run=run, artifact=artifact, name=name)


def _script_outputs(training: TrainingJob) -> dict[str, Any]:
    return {"training_job_id": training.id, "model": str(training.model.uuid) if training.model else None,
            "output": str(training.output.uuid) if training.output else None,
            "metrics": training.summary.get("metrics", {})}


# --- ONNX export ---------------------------------------------------------------------------------------------

def training_onnx_status(*, training: TrainingJob) -> tuple[bool, str]:
    """Whether the job's model can be downloaded as ONNX, and if not why (plain words)."""
    if training.is_script:
        return False, "Script-mode jobs save whatever train.py writes; the studio cannot convert that to ONNX."
    if training.model is None:
        return False, "There is no model yet: ONNX export is offered once the job has completed."
    from engine.training import bundle_load
    from engine.training.onnx_export import onnx_supported

    try:
        with artifact_open(training.model) as handle:
            model = bundle_load(handle.read())
    except ArtifactCorrupted:
        return False, "The model bundle no longer matches its checksum, so it is not converted."
    except TrainingError as error:
        return False, str(error)
    return onnx_supported(model)


def training_onnx(*, training: TrainingJob) -> tuple[bytes, str]:
    """(the ONNX file, its file name); Conflict with the reason when the model cannot be exported."""
    ok, reason = training_onnx_status(training=training)
    if not ok:
        raise Conflict(reason)
    from engine.training import bundle_load
    from engine.training.onnx_export import onnx_export

    assert training.model is not None
    with artifact_open(training.model) as handle:
        model = bundle_load(handle.read())
    try:
        data = onnx_export(model)
    except TrainingError as error:
        raise Conflict(str(error)) from None
    return data, f"training-{training.id}-{training.algorithm}.onnx"
