"""Writes for Data Wrangler flows: editing steps (each edit keeps the previous list on a bounded undo stack),
the preview on a cached sample, the apply job that writes a new dataset version, the exported script and
the fitted flow, schedules. Keyword-only, named <thing>_<verb>.

Editing never refuses a step because of the data: a step whose column is gone (renamed upstream, say) is
saved and the preview shows its error at that step, so the flow always stays editable. Only what cannot be
a step at all (an unknown transform, parameters that are not an object, or, for API callers, parameters of
the wrong type) is refused with a UserError."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.db import transaction

from apps.core.artifacts import artifact_open, artifact_put_bytes
from apps.core.audit import audit_record
from apps.core.errors import Conflict, UserError
from apps.core.models import Artifact, Job, Project
from apps.core.roles import Activity
from apps.core.selectors import require
from apps.core.services import job_create
from apps.datasets.models import Dataset, DatasetStatus, DatasetVersion, VersionOrigin
from apps.datasets.selectors import version_parquet_path
from engine.wrangler import (
    CustomCodeLimits,
    FlowResult,
    Step,
    StepReport,
    TransformError,
    flow_run,
    params_check,
    transform_get,
)
from engine.wrangler.cells import display_kind, json_columns

from .models import Flow, FlowRun, FlowRunTrigger, SampleMethod

UNDO_LIMIT = 30
MAX_STEPS = 200
PREVIEW_PAGE_ROWS = 100
MAX_SAMPLE_ROWS = 100_000
APPLY_KIND = "flow.apply"


# --- creating and editing ----------------------------------------------------------------------------------

def flow_create(*, project: Project, user, dataset: Dataset, name: str = "", version: DatasetVersion | None = None,
                steps: Sequence[dict[str, Any]] = (), strict: bool = True) -> Flow:
    """A flow over `dataset`: pinned to `version` when given, else following the dataset's current version."""
    require(user=user, project=project, activity=Activity.MANAGE_DATA)
    if dataset.project_id != project.id:
        raise UserError("That dataset is not in this project.", field="dataset")
    if version is not None and version.dataset_id != dataset.id:
        raise UserError(f"Version {version.number} is not a version of {dataset.name}.", field="version")
    name = (name or f"{dataset.name} flow").strip()[:120]
    checked = _steps_checked(steps, strict=strict)
    if any(_is_custom(step) for step in checked):
        custom_code_require(user=user, project=project)
    with transaction.atomic():
        flow = Flow.objects.create(project=project, name=name, dataset=dataset, source_version=version,
                                   follow_latest=version is None, steps=checked, created_by=user)
        audit_record(actor=user, action="flow.create", project=project, summary=f"Created flow '{name}'")
    return flow


def flow_update(*, flow: Flow, user, name: str | None = None, follow_latest: bool | None = None,
                version: DatasetVersion | None = None, sample_method: str | None = None,
                sample_rows: int | None = None) -> Flow:
    """Settings that are not steps: the name, the source version, the preview sample."""
    require(user=user, project=flow.project, activity=Activity.MANAGE_DATA)
    with transaction.atomic():
        flow = Flow.objects.select_for_update().get(id=flow.id)
        if name is not None:
            if not name.strip():
                raise UserError("Give the flow a name.", field="name")
            flow.name = name.strip()[:120]
        if version is not None:
            if version.dataset_id != flow.dataset_id:
                raise UserError(f"Version {version.number} is not a version of {flow.dataset.name}.", field="version")
            flow.source_version, flow.follow_latest = version, False
        if follow_latest is not None:
            flow.follow_latest = follow_latest
        if sample_method is not None:
            if sample_method not in SampleMethod.values:
                raise UserError("The sample is 'first' or 'random' rows.", field="sample_method")
            flow.sample_method = sample_method
        if sample_rows is not None:
            if not 1 <= sample_rows <= MAX_SAMPLE_ROWS:
                raise UserError(f"The sample has 1 to {MAX_SAMPLE_ROWS:,} rows.", field="sample_rows")
            flow.sample_rows = sample_rows
        flow.save()
    return flow


def flow_steps_set(*, flow: Flow, user, steps: Sequence[dict[str, Any]], strict: bool = True) -> Flow:
    """Replace the whole steps list (the API's update); undoable like every other edit."""
    checked = _steps_checked(steps, strict=strict)
    return _edit(flow, user, "replaced the steps", lambda current: checked)


def flow_step_add(*, flow: Flow, user, transform: str, params: Any = None, strict: bool = True,
                  position: int | None = None) -> Flow:
    step = _step_checked({"transform": transform, "params": params if params is not None else {}}, strict=strict)

    def change(current: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(current) >= MAX_STEPS:
            raise UserError(f"A flow has at most {MAX_STEPS} steps.")
        at = len(current) if position is None else max(0, min(position, len(current)))
        return [*current[:at], step, *current[at:]]

    return _edit(flow, user, f"added a {transform} step", change)


def flow_step_update(*, flow: Flow, user, step_id: str, params: Any, strict: bool = True) -> Flow:
    def change(current: list[dict[str, Any]]) -> list[dict[str, Any]]:
        index = _index(current, step_id)
        updated = _step_checked({**current[index], "params": params}, strict=strict)
        return [*current[:index], updated, *current[index + 1:]]

    return _edit(flow, user, "changed a step", change)


def flow_step_move(*, flow: Flow, user, step_id: str, offset: int) -> Flow:
    def change(current: list[dict[str, Any]]) -> list[dict[str, Any]]:
        index = _index(current, step_id)
        target = index + offset
        if not 0 <= target < len(current):
            raise UserError("That step cannot move further.", field="direction")
        moved = list(current)
        moved.insert(target, moved.pop(index))
        return moved

    return _edit(flow, user, "moved a step", change)


def flow_step_toggle(*, flow: Flow, user, step_id: str) -> Flow:
    def change(current: list[dict[str, Any]]) -> list[dict[str, Any]]:
        index = _index(current, step_id)
        step = current[index]
        return [*current[:index], {**step, "enabled": not step.get("enabled", True)}, *current[index + 1:]]

    return _edit(flow, user, "turned a step on or off", change)


def flow_step_delete(*, flow: Flow, user, step_id: str) -> Flow:
    def change(current: list[dict[str, Any]]) -> list[dict[str, Any]]:
        index = _index(current, step_id)
        return [*current[:index], *current[index + 1:]]

    return _edit(flow, user, "deleted a step", change)


def flow_undo(*, flow: Flow, user) -> Flow:
    """Go back to the steps before the last edit."""
    require(user=user, project=flow.project, activity=Activity.MANAGE_DATA)
    with transaction.atomic():
        flow = Flow.objects.select_for_update().get(id=flow.id)
        if not flow.undo_stack:
            raise Conflict("There is nothing to undo.")
        stack = list(flow.undo_stack)
        flow.steps = stack.pop()
        flow.undo_stack = stack
        flow.save(update_fields=["steps", "undo_stack", "updated_at"])
    return flow


def flow_delete(*, flow: Flow, user) -> None:
    require(user=user, project=flow.project, activity=Activity.MANAGE_DATA)
    with transaction.atomic():
        _schedule_remove(flow)
        audit_record(actor=user, action="flow.delete", project=flow.project, summary=f"Deleted flow '{flow.name}'")
        flow.delete()


def _edit(flow: Flow, user, summary: str, change: Any) -> Flow:
    """Apply `change` to the current steps under a row lock; the previous list goes on the undo stack.
    Either the whole edit is saved or nothing is."""
    require(user=user, project=flow.project, activity=Activity.MANAGE_DATA)
    with transaction.atomic():
        locked = Flow.objects.select_for_update().get(id=flow.id)
        previous = list(locked.steps)
        locked.steps = change(previous)
        if any(_is_custom(step) and step not in previous for step in locked.steps):
            custom_code_require(user=user, project=flow.project)
        locked.undo_stack = [*locked.undo_stack, previous][-UNDO_LIMIT:]
        locked.save(update_fields=["steps", "undo_stack", "updated_at"])
        audit_record(actor=user, action="flow.edit", project=flow.project, summary=f"Flow '{locked.name}': {summary}")
    return locked


def _is_custom(step: dict[str, Any]) -> bool:
    try:
        return bool(transform_get(str(step.get("transform") or "")).extra.get("worker_only"))
    except TransformError:
        return False


def custom_code_require(*, user, project: Project) -> None:
    """Custom code steps need the administrator's setting and a role that may run code."""
    if not settings.CUSTOM_CODE_STEPS:
        raise UserError("Custom code steps are turned off on this studio; an administrator can turn them on with "
                        "STUDIO_CUSTOM_CODE_STEPS.", field="transform")
    require(user=user, project=project, activity=Activity.RUN_CODE)


def custom_code_limits(steps: Sequence[Step]) -> CustomCodeLimits | None:
    """The limits custom code steps run with in a worker; a flow that has some while the setting is off fails
    rather than writing a version without them."""
    if not settings.CUSTOM_CODE_STEPS:
        if any(step.enabled and _is_custom(step.to_json()) for step in steps):
            raise UserError("This flow has a custom code step, and custom code steps are turned off on this studio "
                            "(STUDIO_CUSTOM_CODE_STEPS); disable or delete the step, or ask an administrator.")
        return None
    return CustomCodeLimits(timeout_seconds=settings.CUSTOM_CODE_TIMEOUT_SECONDS,
                            memory_mb=settings.CUSTOM_CODE_MEMORY_MB)


def _index(steps: list[dict[str, Any]], step_id: str) -> int:
    for index, step in enumerate(steps):
        if step.get("id") == step_id:
            return index
    raise UserError("There is no such step in this flow (it may have been deleted meanwhile).", field="step")


def _steps_checked(steps: Any, *, strict: bool) -> list[dict[str, Any]]:
    if not isinstance(steps, list | tuple):
        raise UserError("'steps' must be a list of {transform, params, enabled}.", field="steps")
    if len(steps) > MAX_STEPS:
        raise UserError(f"A flow has at most {MAX_STEPS} steps.", field="steps")
    checked = []
    for number, step in enumerate(steps, start=1):
        if not isinstance(step, dict):
            raise UserError(f"Step {number} must be an object with 'transform' and 'params'.", field="steps")
        try:
            checked.append(_step_checked(step, strict=strict))
        except UserError as error:
            raise UserError(f"Step {number}: {error.message}", field="steps") from None
    return checked


def _step_checked(step: dict[str, Any], *, strict: bool) -> dict[str, Any]:
    """The step as stored: a known transform, params an object. With `strict`, parameter types are checked
    too (column names are checked later, against the columns at that step, by the preview)."""
    name = str(step.get("transform") or "")
    try:
        spec = transform_get(name)
    except TransformError as error:
        raise UserError(error.message, field="transform") from None
    params = step.get("params")
    params = {} if params is None else params
    if not isinstance(params, dict):
        raise UserError("'params' must be an object of parameter names and values.", field="params")
    if strict:
        referenced = _referenced_columns(spec, params)
        try:
            params_check(spec, params, referenced)
        except TransformError as error:
            field_name = f"params.{error.param}" if error.param else "params"
            raise UserError(f"{name}: {error.message}", field=field_name) from None
    step_id = str(step.get("id") or "")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", step_id):
        step_id = uuid.uuid4().hex[:8]
    return {"id": step_id, "transform": name, "params": params, "enabled": bool(step.get("enabled", True))}


def _referenced_columns(spec: Any, params: dict[str, Any]) -> list[str]:
    """The columns the params name, so params_check checks only types (the data decides the rest)."""
    names: list[str] = []
    for param in spec.params:
        value = params.get(param.name)
        if param.kind == "column" and isinstance(value, str):
            names.append(value)
        elif param.kind == "columns":
            names.extend(item for item in ([value] if isinstance(value, str) else value or [])
                         if isinstance(item, str))
    return names


def steps_of(flow: Flow) -> list[Step]:
    return [Step.from_json(step) for step in flow.steps]


# --- reading data ------------------------------------------------------------------------------------------

_SAMPLES: OrderedDict[tuple[str, str, int], tuple[pd.DataFrame, int]] = OrderedDict()
_SAMPLES_LOCK = threading.Lock()
SAMPLE_CACHE_SIZE = 8


def _frame(table: pa.Table) -> pd.DataFrame:
    """One conversion everywhere (preview, apply, chunks), so they see the same dtypes."""
    return table.to_pandas()


def version_sample(*, version: DatasetVersion, rows: int, method: str) -> tuple[pd.DataFrame, int]:
    """(the sample, rows in the version). The first rows are read batch by batch, never the whole file; a
    random sample reads the file once. Samples are kept in this process per (file, method, rows)."""
    key = (version.parquet.sha256, method, rows)
    with _SAMPLES_LOCK:
        if key in _SAMPLES:
            _SAMPLES.move_to_end(key)
            return _SAMPLES[key]
    path = version_parquet_path(version=version)
    try:
        parquet = pq.ParquetFile(path)
        total = parquet.metadata.num_rows
        if method == SampleMethod.RANDOM and total > rows:
            chosen = np.sort(np.random.default_rng(0).choice(total, size=rows, replace=False))
            table = parquet.read().take(pa.array(chosen))
        else:
            batches, read = [], 0
            for batch in parquet.iter_batches(batch_size=min(rows, 65_536)):
                batches.append(batch)
                read += batch.num_rows
                if read >= rows:
                    break
            table = pa.Table.from_batches(batches, schema=parquet.schema_arrow).slice(0, rows)
    except (pa.ArrowException, OSError) as error:
        raise Conflict(f"Version {version.number} of {version.dataset.name} cannot be read "
                       f"({type(error).__name__}).") from None
    sample = (_frame(table), total)
    with _SAMPLES_LOCK:
        _SAMPLES[key] = sample
        while len(_SAMPLES) > SAMPLE_CACHE_SIZE:
            _SAMPLES.popitem(last=False)
    return sample


def version_frame(*, version: DatasetVersion) -> pd.DataFrame:
    try:
        return _frame(pq.read_table(version_parquet_path(version=version)))
    except (pa.ArrowException, OSError) as error:
        raise Conflict(f"Version {version.number} of {version.dataset.name} cannot be read "
                       f"({type(error).__name__}).") from None


def dataset_resolver(project: Project):
    """Resolves a "dataset" parameter: a dataset id (its current version) or "<id>:<version>"."""

    def resolve(reference: Any) -> pd.DataFrame:
        text = str(reference).strip()
        dataset_id, _, number = text.partition(":")
        if not dataset_id.isdigit() or (number and not number.isdigit()):
            raise TransformError(f"{text!r} does not name a dataset; pick one from the list.")
        dataset = Dataset.objects.filter(project=project, id=int(dataset_id)).first()
        if dataset is None:
            raise TransformError(f"There is no dataset {text!r} in this project.")
        version = (dataset.versions.filter(number=int(number)).first() if number
                   else dataset.current_version)
        if version is None:
            raise TransformError(f"Dataset {dataset.name} has no such version.")
        try:
            return version_frame(version=version)
        except Conflict as error:
            raise TransformError(error.message) from None

    return resolve


def _input_version(flow: Flow) -> DatasetVersion:
    version = flow.input_version()
    if version is None:
        raise Conflict(f"Dataset {flow.dataset.name} has no ready version yet.")
    return version


# --- the preview -------------------------------------------------------------------------------------------

@dataclass
class PreviewColumn:
    name: str
    dtype: str
    status: str = ""  # "added", "changed" or ""
    kind: str = ""  # how its cells display: "number", "bool" or "" (any value); see engine.wrangler.cells


@dataclass
class Preview:
    version: DatasetVersion
    columns: list[PreviewColumn]
    rows: list[list[Any]]  # one page of the output, JSON-ready values
    page: int
    pages: int
    page_size: int
    output_rows: int
    sample_rows: int
    sample_method: str
    source_rows: int
    reports: list[dict[str, Any]]
    seconds: float
    step_columns: list[list[str]] = field(default_factory=list)  # the columns each step receives
    cells: list[list[Any]] = field(default_factory=list)  # the same page column by column (rows transposed)

    @property
    def failed(self) -> dict[str, Any] | None:
        return next((report for report in self.reports if not report["ok"]), None)

    @property
    def ok(self) -> bool:
        return self.failed is None

    @property
    def first_row(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.output_rows else 0

    @property
    def last_row(self) -> int:
        return min(self.page * self.page_size, self.output_rows)


def flow_preview(*, flow: Flow, page: int = 1, page_size: int = PREVIEW_PAGE_ROWS) -> Preview:
    """Run the flow on the sample of its input version; never raises for a failing step: the report of that
    step carries the error (and the parameter at fault), later steps say they did not run."""
    version = _input_version(flow)
    sample, total = version_sample(version=version, rows=flow.sample_rows, method=flow.sample_method)
    steps = steps_of(flow)
    started = time.perf_counter()
    result = flow_run(sample, steps, resolve=dataset_resolver(flow.project), stop_at_error=False, describe=True)
    seconds = time.perf_counter() - started
    frame = result.frame
    columns = _column_status(sample, frame, result.reports)
    pages = max(1, -(-len(frame) // page_size))
    page = max(1, min(page, pages))
    chunk = frame.iloc[(page - 1) * page_size: page * page_size]
    # JSON-ready cells converted a column at a time (one decision per column, not per cell); the HTML
    # preview renders from these columns, the API from the rows.
    cells = json_columns(chunk)
    rows = [list(row) for row in zip(*cells, strict=True)] if cells else [[] for _ in range(len(chunk))]
    return Preview(
        version=version, columns=columns, rows=rows, page=page, pages=pages, page_size=page_size,
        output_rows=len(frame), sample_rows=len(sample), sample_method=flow.sample_method, source_rows=total,
        reports=[_report_json(flow.steps[report.index], report) for report in result.reports],
        seconds=seconds, step_columns=_step_columns(sample, result.reports, flow.steps), cells=cells,
    )


def _column_status(before: pd.DataFrame, after: pd.DataFrame, reports: list[StepReport]) -> list[PreviewColumn]:
    original = {str(column) for column in before.columns.tolist()}
    changed = {name for report in reports for name in report.changed}
    added = {name for report in reports for name in report.added}
    out = []
    for column, dtype in zip(after.columns.tolist(), after.dtypes.tolist(), strict=True):
        name = str(column)
        status = "added" if name not in original or name in added else "changed" if name in changed else ""
        out.append(PreviewColumn(name, str(dtype), status, display_kind(dtype)))
    return out


def _step_columns(sample: pd.DataFrame, reports: list[StepReport], steps: list[dict[str, Any]]) -> list[list[str]]:
    """The columns each step receives, for the column pickers of its form (a step after a failing one gets
    the columns of the last step that ran)."""
    current = [str(column) for column in sample.columns]
    out = []
    for report in reports:
        out.append(list(current))
        if report.ok and report.enabled and report.output_columns:
            current = list(report.output_columns)
    return out


def _report_json(step: dict[str, Any], report: StepReport) -> dict[str, Any]:
    return {"id": step.get("id", ""), "index": report.index, "transform": report.transform,
            "enabled": report.enabled, "ok": report.ok, "error": report.error, "error_param": report.error_param,
            "rows": report.rows, "columns": report.columns, "added": report.added, "changed": report.changed,
            "removed": report.removed, "seconds": round(report.seconds, 4), "note": report.note}


# --- applying ----------------------------------------------------------------------------------------------

def flow_apply_start(*, flow: Flow, user, new_dataset_name: str = "", refit: bool = True,
                     trigger: str = FlowRunTrigger.MANUAL) -> Job:
    """Check the flow on its sample, then start a flow.apply job on the batch queue. The job writes a new
    version of the flow's dataset (or of a new dataset called `new_dataset_name`)."""
    require(user=user, project=flow.project, activity=Activity.RUN_JOBS)
    require(user=user, project=flow.project, activity=Activity.MANAGE_DATA)
    version = _input_version(flow)
    enabled = [step for step in flow.steps if step.get("enabled", True)]
    if not enabled:
        raise UserError("Add at least one step before applying the flow.")
    if any(_is_custom(step) for step in enabled):
        custom_code_require(user=user, project=flow.project)
    preview = flow_preview(flow=flow, page_size=1)
    if preview.failed is not None:
        failed = preview.failed
        raise UserError(f"Fix step {failed['index'] + 1} ({failed['transform']}) before applying: {failed['error']}",
                        field="steps")
    new_dataset_name = new_dataset_name.strip()[:120]
    if new_dataset_name and Dataset.objects.filter(project=flow.project, name=new_dataset_name).exists():
        raise Conflict(f"A dataset called '{new_dataset_name}' exists already; choose another name.",
                       field="new_dataset_name")
    dataset = flow.dataset
    # An import-triggered run starts while the import job is still finishing; versions are numbered under a
    # lock, so it need not wait for it.
    busy = dataset.last_job is not None and dataset.last_job.is_active and trigger != FlowRunTrigger.IMPORT
    if not new_dataset_name and busy:
        raise Conflict(f"A job is still working on {dataset.name}; wait for it to end before applying.")
    with transaction.atomic():
        locked = Flow.objects.select_for_update().get(id=flow.id)
        number = (locked.runs.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        job = job_create(
            project=flow.project, user=user, kind=APPLY_KIND, title=f"Apply flow {flow.name} (run {number})",
            inputs={"flow_id": flow.id, "version_id": version.id, "run": number, "refit": refit,
                    "new_dataset_name": new_dataset_name},
        )
        FlowRun.objects.create(flow=locked, number=number, input_version=version, job=job, steps=locked.steps,
                               trigger=trigger)
        if not new_dataset_name:
            Dataset.objects.filter(id=dataset.id).update(last_job=job)
        audit_record(actor=user, action="flow.apply", project=flow.project,
                     summary=f"Applying flow '{flow.name}' to {dataset.name} v{version.number}")
    return job


CHUNK_ROWS = 65_536


def _streamable(steps: list[Step], states: list[dict[str, Any] | None] | None) -> bool:
    for index, step in enumerate(steps):
        if not step.enabled:
            continue
        spec = transform_get(step.transform)
        fitted = states is not None and index < len(states) and states[index] is not None
        if not spec.row_local or (spec.stateful and not fitted):
            return False
    return True


def _stored_states(flow: Flow, steps: list[Step]) -> list[dict[str, Any] | None] | None:
    """The fitted states of the latest apply, when its steps are the current ones."""
    run = FlowRun.objects.filter(flow=flow, fitted=flow.fitted).first() if flow.fitted_id else None
    if run is None or run.fitted is None:
        return None
    if [Step.from_json(step).to_json() for step in run.steps] != [step.to_json() for step in steps]:
        return None
    fitted = fitted_json(artifact=run.fitted)
    return [step.get("state") for step in fitted["steps"]]


class _Scaled:
    """A job context whose progress maps 0-100 onto [start, end] of the job's bar."""

    def __init__(self, ctx: Any, start: float, end: float) -> None:
        self.ctx, self.start, self.end = ctx, start, end

    def progress(self, percent: float, message: str = "") -> None:
        self.ctx.progress(self.start + (self.end - self.start) * percent / 100, message)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ctx, name)


def flow_apply_run(*, job: Job, ctx: Any) -> dict[str, Any]:
    """The work of a flow.apply job. Reads the input version, fits and applies the steps (streaming row
    groups through the flow when every enabled step is row-local and needs no fitting), writes Parquet to a
    temporary file, then records the new version, the fitted flow and the run in one transaction."""
    import tempfile
    from pathlib import Path

    run = FlowRun.objects.select_related("flow", "flow__project", "input_version", "output_version").filter(
        job=job).first()
    if run is None or run.flow.project_id != job.project_id:
        raise UserError("The flow was deleted before this job could run.")
    if run.output_version is not None:  # an earlier attempt finished the work already
        return _apply_outputs(run)
    flow, version = run.flow, run.input_version
    if version is None:
        raise UserError("The input version was deleted before this job could run.")
    steps = [Step.from_json(step) for step in run.steps]
    states = None if job.inputs.get("refit", True) else _stored_states(flow, steps)
    custom_code = custom_code_limits(steps)
    path = version_parquet_path(version=version)
    resolve = dataset_resolver(flow.project)
    ctx.log(f"Applying {sum(step.enabled for step in steps)} steps of flow '{flow.name}' to "
            f"{version.dataset.name} v{version.number} ({version.row_count:,} rows).")
    tmp_dir = Path(settings.ARTIFACT_ROOT) / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tmp_dir, prefix="flow-") as workdir:
        output = Path(workdir) / "data.parquet"
        try:
            result = None
            if _streamable(steps, states):
                result = _apply_in_chunks(path, steps, states, output, ctx, resolve, version.row_count)
            if result is None:
                ctx.log("Reading the whole version (a step needs all rows: it is fitted or not row-local).")
                ctx.progress(5, f"Reading version {version.number}")
                frame = version_frame(version=version)
                ctx.raise_if_stopped()
                result = flow_run(frame, steps, states=states, resolve=resolve, ctx=_Scaled(ctx, 10, 70),
                                  custom_code=custom_code)
                ctx.progress(72, "Writing Parquet")
                _write(result.frame, output)
        except TransformError as error:
            raise UserError(error.message) from None
        ctx.raise_if_stopped()
        return _apply_save(job=job, ctx=ctx, run=run, result=result, steps=steps, output=output)


def _apply_in_chunks(path: Any, steps: list[Step], states: list[dict[str, Any] | None] | None, output: Any,
                     ctx: Any, resolve: Any, total: int) -> FlowResult | None:
    """Row groups through the flow, written as they come. None when the chunks' column types disagree (a
    column empty in one chunk, say): the caller then runs on the whole frame."""
    parquet = pq.ParquetFile(path)
    writer: pq.ParquetWriter | None = None
    done = 0
    result: FlowResult | None = None
    ctx.log(f"Streaming in chunks of {CHUNK_ROWS:,} rows: every step is row-local and needs no fitting.")
    try:
        for batch in parquet.iter_batches(batch_size=CHUNK_ROWS):
            frame = _frame(pa.Table.from_batches([batch], schema=parquet.schema_arrow))
            chunk = flow_run(frame, steps, states=states, resolve=resolve)
            table = _arrow(chunk.frame)
            if writer is None:
                writer = pq.ParquetWriter(str(output), table.schema, compression="zstd")
                result = chunk
            elif not table.schema.equals(writer.schema):
                try:
                    table = table.cast(writer.schema)
                except (pa.ArrowException, ValueError):
                    ctx.log("The chunks' column types differ; applying on the whole data instead.", "WARNING")
                    return None
            writer.write_table(table, row_group_size=CHUNK_ROWS)
            done += batch.num_rows
            ctx.progress(5 + 65 * done / max(1, total), f"{done:,} of {total:,} rows")
            ctx.raise_if_stopped()
        if writer is None:  # no rows at all
            result = flow_run(_frame(parquet.schema_arrow.empty_table()), steps, states=states, resolve=resolve)
            _write(result.frame, output)
    finally:
        if writer is not None:
            writer.close()
    return result


def _arrow(frame: pd.DataFrame) -> pa.Table:
    """The frame in the studio's five column types (categories become text, dates timestamps...), as every
    dataset version holds them."""
    from engine.datasets.errors import DatasetFileError
    from engine.datasets.types import normalize_table

    try:
        return normalize_table(pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None))
    except DatasetFileError as error:
        raise UserError(f"The flow's output cannot be saved: {error.message}") from None
    except (pa.ArrowException, ValueError, TypeError) as error:
        raise UserError(f"The flow's output cannot be saved as Parquet: {error}") from None


def _write(frame: pd.DataFrame, output: Any) -> None:
    from engine.datasets.types import write_parquet

    write_parquet(_arrow(frame), output)


def _apply_save(*, job: Job, ctx: Any, run: FlowRun, result: FlowResult, steps: list[Step], output: Any) -> dict:
    from django.db.models import Max

    from apps.core.artifacts import artifact_put_file
    from apps.core.jobs import LeaseLost
    from apps.datasets.services import MEDIA_TYPES
    from engine.datasets.summary import summarize
    from engine.datasets.types import schema_of

    flow = run.flow
    ctx.progress(80, "Summarising columns")
    table = pq.read_table(str(output))
    summary, schema = summarize(table), schema_of(table)
    fitted_document = _fitted_document(flow, run, steps, result)
    ctx.raise_if_stopped()
    new_name = job.inputs.get("new_dataset_name") or ""
    with transaction.atomic():
        lease = getattr(ctx, "lease", None)
        if lease is not None and not Job.objects.select_for_update().filter(id=job.id, lease=lease).exists():
            raise LeaseLost(f"job {job.id} lost its lease")
        if new_name:
            if Dataset.objects.filter(project=flow.project, name=new_name).exists():
                raise UserError(f"A dataset called '{new_name}' was created meanwhile; apply again with another name.")
            dataset = Dataset.objects.create(
                project=flow.project, name=new_name, created_by=job.owner, status=DatasetStatus.READY,
                description=f"Made by flow {flow.name} from {run.input_version}.", last_job=job,
            )
        else:
            dataset = Dataset.objects.select_for_update().get(id=flow.dataset_id)
        number = (dataset.versions.aggregate(top=Max("number"))["top"] or 0) + 1
        parquet = artifact_put_file(path=output, project=flow.project, name=f"{dataset.name}-v{number}.parquet",
                                    media_type=MEDIA_TYPES["parquet"], kind="dataset", user=job.owner)
        fitted = artifact_put_bytes(
            data=json.dumps(fitted_document, indent=1, sort_keys=True, allow_nan=True).encode(),
            project=flow.project, name=f"{flow.name} run {run.number} fitted.json", media_type="application/json",
            kind="flow", user=job.owner)
        version = DatasetVersion.objects.create(
            dataset=dataset, number=number, parquet=parquet, source=None, schema=schema,
            row_count=table.num_rows, column_count=table.num_columns, summary=summary, parent=run.input_version,
            job=job, note=f"Made by flow {flow.name} run {run.number}"[:500], created_by=job.owner,
            origin=VersionOrigin.FLOW, origin_detail={
                "flow_id": flow.id, "flow": flow.name, "run": run.number, "from_dataset_id": run.input_version.dataset_id,
                "from_version": run.input_version.number,
            },
        )
        dataset.current_version, dataset.status, dataset.error = version, DatasetStatus.READY, ""
        dataset.save(update_fields=["current_version", "status", "error"])
        FlowRun.objects.filter(id=run.id).update(output_version=version, fitted=fitted)
        Flow.objects.filter(id=flow.id).update(fitted=fitted)
        run.output_version, run.fitted = version, fitted
    ctx.log(f"Saved {dataset.name} v{version.number}: {version.row_count:,} rows, {version.column_count} columns.")
    ctx.progress(100, f"Version {version.number} ready")
    return _apply_outputs(run)


def _apply_outputs(run: FlowRun) -> dict[str, Any]:
    version = run.output_version
    assert version is not None
    return {"flow_id": run.flow_id, "run": run.number, "dataset_id": version.dataset_id, "version": version.number,
            "rows": version.row_count, "columns": version.column_count, "parquet": str(version.parquet.uuid),
            "fitted": str(run.fitted.uuid) if run.fitted else ""}


def _fitted_document(flow: Flow, run: FlowRun, steps: list[Step], result: FlowResult) -> dict[str, Any]:
    version = run.input_version
    return {
        "format": 1, "flow": flow.name, "flow_id": flow.id, "run": run.number,
        "input": {"dataset": version.dataset.name if version else "", "version": version.number if version else None},
        "steps": [{"transform": step.transform, "params": params, "enabled": step.enabled, "state": state}
                  for step, params, state in zip(steps, result.params, result.states, strict=True)],
    }


def fitted_json(*, artifact: Artifact) -> dict[str, Any]:
    with artifact_open(artifact) as handle:
        return json.loads(handle.read())


# --- the exported script -----------------------------------------------------------------------------------

def flow_export_script(*, flow: Flow) -> str:
    """The flow as a standalone pandas script. Fitted values come from the latest apply when its steps are
    the current ones; a flow with stateful steps must be applied first, so the script carries values fitted
    on the full data rather than on the preview sample."""
    from engine.wrangler.export import flow_export_script as export

    steps = steps_of(flow)
    states = _stored_states(flow, steps)
    if states is not None:
        fitted = fitted_json(artifact=flow.fitted)  # type: ignore[arg-type]
        result = FlowResult(pd.DataFrame(), states, [], [step["params"] for step in fitted["steps"]])
    else:
        if any(step.enabled and transform_get(step.transform).stateful for step in steps if _known(step)):
            raise Conflict("This flow has steps fitted on the data (imputers, encoders, scalers...): apply it "
                           "first, so the script carries values fitted on the full data.")
        if any(step.enabled and _is_custom(step.to_json()) for step in steps):
            raise Conflict("This flow has a custom code step, which runs only when the flow is applied: apply it "
                           "first, then export the script.")
        version = _input_version(flow)
        sample, _ = version_sample(version=version, rows=flow.sample_rows, method=flow.sample_method)
        result = flow_run(sample, steps, resolve=dataset_resolver(flow.project), stop_at_error=False)
    try:
        return export(result, steps, title=f"Flow {flow.name} (dataset {flow.dataset.name})",
                      filename=script_filename(flow))
    except TransformError as error:
        raise UserError(error.message, field="steps") from None


def _known(step: Step) -> bool:
    try:
        transform_get(step.transform)
    except TransformError:
        return False
    return True


def script_filename(flow: Flow) -> str:
    base = "".join(ch if ch.isascii() and ch.isalnum() else "_" for ch in flow.name.lower()).strip("_")
    return f"{base[:60] or 'flow'}.py"


# --- proposals from other pages ----------------------------------------------------------------------------

def proposal_add(*, project: Project, user, dataset: Dataset, transform: str, params: Any) -> Flow:
    """Add a proposed step (from the insights report, say) to the dataset's most recent flow, or to a new one."""
    flow = Flow.objects.filter(project=project, dataset=dataset).order_by("-updated_at", "-id").first()
    if flow is None:
        flow = flow_create(project=project, user=user, dataset=dataset)
    return flow_step_add(flow=flow, user=user, transform=transform, params=params, strict=False)


# --- schedules ---------------------------------------------------------------------------------------------

def _task_name(flow: Flow) -> str:
    return f"Apply flow {flow.id}"


def flow_schedule_set(*, flow: Flow, user, cron: str, rerun_on_import: bool) -> Flow:
    """Apply the flow on a cron schedule (kept in the database by django-celery-beat) and/or whenever its
    dataset gets a new imported version. An empty cron removes the schedule."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    require(user=user, project=flow.project, activity=Activity.RUN_JOBS)
    require(user=user, project=flow.project, activity=Activity.MANAGE_DATA)
    cron = " ".join(cron.split())
    fields = cron.split(" ") if cron else []
    if cron and len(fields) != 5:
        raise UserError("A schedule has five fields: minute hour day-of-month month day-of-week, "
                        "e.g. '0 3 * * *' for every day at 03:00 UTC.", field="schedule")
    with transaction.atomic():
        flow = Flow.objects.select_for_update().get(id=flow.id)
        flow.schedule, flow.rerun_on_import = cron, rerun_on_import
        flow.save(update_fields=["schedule", "rerun_on_import", "updated_at"])
        if not cron:
            _schedule_remove(flow)
            return flow
        minute, hour, day, month, weekday = fields
        try:
            crontab, _ = CrontabSchedule.objects.get_or_create(
                minute=minute, hour=hour, day_of_month=day, month_of_year=month, day_of_week=weekday,
                timezone="UTC")
            crontab.full_clean()
        except Exception as error:  # noqa: BLE001 - django-celery-beat's validators explain the bad field
            raise UserError(f"That schedule is not valid: {error}", field="schedule") from None
        PeriodicTask.objects.update_or_create(
            name=_task_name(flow),
            defaults={"task": "wrangler.apply_scheduled", "crontab": crontab, "interval": None, "queue": "default",
                      "args": json.dumps([flow.id, user.id]), "enabled": True},
        )
        audit_record(actor=user, action="flow.schedule", project=flow.project,
                     summary=f"Flow '{flow.name}' runs on '{cron}'")
    return flow


def _schedule_remove(flow: Flow) -> None:
    from django_celery_beat.models import PeriodicTask

    PeriodicTask.objects.filter(name=_task_name(flow)).delete()


def flow_apply_scheduled(*, flow_id: int, user_id: int, trigger: str = FlowRunTrigger.SCHEDULE) -> Job | None:
    """Start a scheduled or import-triggered apply as the user who set it up; a flow that cannot run now
    (deleted, broken, its dataset busy, the user no longer allowed) is skipped and logged."""
    import logging

    from django.contrib.auth import get_user_model

    flow = Flow.objects.select_related("project", "dataset").filter(id=flow_id).first()
    user = get_user_model().objects.filter(id=user_id, is_active=True).first()
    if flow is None or user is None:
        return None
    try:
        return flow_apply_start(flow=flow, user=user, trigger=trigger)
    except UserError as error:
        logging.getLogger("studio.wrangler").warning("flow %s not applied (%s): %s", flow_id, trigger, error.message)
        return None
