"""Writes for datasets: uploads, the import and type-change jobs' work, deletion, and the demo loader's
in-process import. Keyword-only, named <thing>_<verb>. The engine does the parsing; this module moves
files in and out of the artifact store and records versions, so a failure leaves nothing half-saved."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Max

from apps.core.artifacts import artifact_path, artifact_put_file, artifact_put_stream
from apps.core.audit import audit_record
from apps.core.errors import Conflict, NotFound, UserError
from apps.core.jobs import LeaseLost, job_execute
from apps.core.models import Artifact, Job, JobStatus, Project
from apps.core.services import job_create, job_stop
from engine.datasets.errors import DatasetFileError
from engine.datasets.options import FORMATS, ImportOptions, Limits, format_for
from engine.datasets.read import read_table
from engine.datasets.summary import summarize
from engine.datasets.types import STUDIO_TYPES, cast_table, schema_of, studio_type, write_parquet
from engine.runtime import JobContext, JobStopped

from .models import Dataset, DatasetStatus, DatasetVersion, VersionOrigin

MEDIA_TYPES = {
    "csv": "text/csv", "tsv": "text/tab-separated-values", "jsonl": "application/x-ndjson",
    "parquet": "application/vnd.apache.parquet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
IMPORT_KIND, CAST_KIND = "dataset.import", "dataset.cast"


def limits() -> Limits:
    return Limits(max_rows=settings.MAX_DATASET_ROWS, max_columns=settings.MAX_DATASET_COLUMNS,
                  max_cell_chars=settings.MAX_CELL_CHARS, max_decompression_ratio=settings.MAX_DECOMPRESSION_RATIO)


def import_options(raw: dict[str, Any] | None) -> ImportOptions:
    """Options from a form or the API (already typed), as the engine wants them; bad ones raise UserError."""
    raw = {key: value for key, value in (raw or {}).items() if value not in (None, "")}
    try:
        return ImportOptions(
            delimiter="\t" if raw.get("delimiter") in ("\\t", "tab") else str(raw.get("delimiter", "")),
            encoding=str(raw.get("encoding", "utf-8")), header_row=int(raw.get("header_row", 1)),
            sheet=str(raw.get("sheet", "")),
        )
    except DatasetFileError as error:
        raise UserError(error.message) from None


def _clean_name(name: str, upload_name: str) -> str:
    name = (name or Path(upload_name or "").stem or "dataset").strip()[:120]
    if not name:
        raise UserError("Give the dataset a name.", field="name")
    return name


# --- upload and import -----------------------------------------------------------------------------------------

def dataset_upload(
    *, project: Project, user, upload: UploadedFile, name: str = "", description: str = "", file_format: str = "",
    options: dict[str, Any] | None = None,
) -> Dataset:
    """Keep the uploaded file as an artifact and start its import job; the dataset is `importing` until
    the job makes version 1 (or fails, saying why)."""
    try:
        fmt = format_for(upload.name or "", file_format)
    except DatasetFileError as error:
        raise UserError(error.message, field="file") from None
    parsed = import_options(options)
    name = _clean_name(name, upload.name or "")
    if Dataset.objects.filter(project=project, name=name).exists():
        raise Conflict(f"A dataset called '{name}' exists already in {project.name}; choose another name.",
                       field="name")
    source = _store_upload(project=project, user=user, upload=upload, fmt=fmt)
    try:
        with transaction.atomic():
            dataset = Dataset.objects.create(project=project, name=name, description=description.strip(),
                                             created_by=user, status=DatasetStatus.IMPORTING)
            _start_import(dataset=dataset, user=user, source=source, fmt=fmt, options=parsed,
                          origin_detail={"file_name": upload.name or ""})
            audit_record(actor=user, action="dataset.upload", project=project,
                         summary=f"Uploaded {upload.name} as dataset '{name}'")
    except IntegrityError:
        raise Conflict(f"A dataset called '{name}' exists already in {project.name}; choose another name.",
                       field="name") from None
    return dataset


def dataset_reupload(
    *, dataset: Dataset, user, upload: UploadedFile, file_format: str = "", options: dict[str, Any] | None = None,
) -> Dataset:
    """Try again with a corrected file, for a dataset whose import failed."""
    if dataset.shown_status != DatasetStatus.FAILED:
        raise Conflict("Only a dataset whose import failed can take a new file; this one is "
                       f"{dataset.get_status_display().lower()}.")
    try:
        fmt = format_for(upload.name or "", file_format)
    except DatasetFileError as error:
        raise UserError(error.message, field="file") from None
    parsed = import_options(options)
    source = _store_upload(project=dataset.project, user=user, upload=upload, fmt=fmt)
    with transaction.atomic():
        dataset = Dataset.objects.select_for_update().get(id=dataset.id)
        dataset.status, dataset.error = DatasetStatus.IMPORTING, ""
        _start_import(dataset=dataset, user=user, source=source, fmt=fmt, options=parsed,
                      origin_detail={"file_name": upload.name or ""})
        audit_record(actor=user, action="dataset.reupload", project=dataset.project,
                     summary=f"Uploaded {upload.name} again for dataset '{dataset.name}'")
    return dataset


def _store_upload(*, project: Project, user, upload: UploadedFile, fmt: str) -> Artifact:
    upload.seek(0)
    return artifact_put_stream(stream=upload, project=project, name=upload.name or f"upload.{fmt}",
                               media_type=MEDIA_TYPES[fmt], kind="upload", user=user)


def _start_import(*, dataset: Dataset, user, source: Artifact, fmt: str, options: ImportOptions,
                  origin: str = VersionOrigin.UPLOAD, origin_detail: dict[str, Any] | None = None) -> Job:
    """Queue the import job of a file already in the artifact store; `origin` and `origin_detail` say where the
    file came from and are recorded on the version the job makes."""
    job = job_create(
        project=dataset.project, user=user, kind=IMPORT_KIND, title=f"Import dataset {dataset.name}",
        inputs={"dataset_id": dataset.id, "source": str(source.uuid), "format": fmt, "options": options.as_dict(),
                "origin": str(origin), "origin_detail": origin_detail or {}},
    )
    dataset.last_job = job
    dataset.save(update_fields=["status", "error", "last_job"])
    return job


def dataset_import_run(*, job: Job, ctx: JobContext) -> dict[str, Any]:
    """The work of a dataset.import job: parse, write Parquet, summarise, then record version 1 in one
    transaction. A file the user can fix fails the job with the engine's message and marks the dataset."""
    dataset = _job_dataset(job)
    done = dataset.versions.filter(job=job).first()
    if done is not None:  # an earlier attempt of this job finished the work already
        return _outputs(done)
    try:
        source = Artifact.objects.get(project=job.project, uuid=job.inputs["source"])
        options = ImportOptions(**job.inputs.get("options", {}))
        fmt = job.inputs["format"]
        ctx.log(f"Importing {source.name} ({source.size:,} bytes) as {FORMATS[fmt][0]}.")
        ctx.progress(1, "Reading the file")
        table = read_table(artifact_path(source), fmt=fmt, options=options, limits=limits(), ctx=ctx)
        ctx.log(f"Read {table.num_rows:,} rows and {table.num_columns:,} columns: "
                + ", ".join(f"{c['name']} ({c['type']})" for c in schema_of(table)[:20])
                + (" …" if table.num_columns > 20 else ""))
        version = _save_version(job=job, ctx=ctx, dataset=dataset, table=table, source=source, parent=None,
                                note=f"Imported from {source.name}",
                                origin=job.inputs.get("origin") or VersionOrigin.UPLOAD,
                                origin_detail=job.inputs.get("origin_detail") or {"file_name": source.name})
    except DatasetFileError as error:
        _mark_failed(dataset, error.message)
        raise UserError(error.message) from None
    except LeaseLost:
        raise
    except JobStopped:
        _mark_failed(dataset, "The import was stopped before it finished.")
        raise
    except UserError as error:
        _mark_failed(dataset, error.message)
        raise
    # Anything else (memory or time limits, a bug, a database hiccup that will be retried) leaves the dataset
    # `importing`; once the job has ended, Dataset.shown_status/shown_error report the job's own reason.
    return _outputs(version)


def _job_dataset(job: Job) -> Dataset:
    dataset = Dataset.objects.filter(id=job.inputs.get("dataset_id"), project=job.project).first()
    if dataset is None:
        raise UserError("The dataset was deleted before this job could finish.")
    return dataset


def dataset_import_ended(*, job: Job) -> None:
    if job.status == JobStatus.COMPLETED:
        return
    dataset = Dataset.objects.filter(id=job.inputs.get("dataset_id"), project=job.project).first()
    if dataset is not None and dataset.last_job_id == job.id:
        reason = job.error or ("The import was stopped before it finished." if job.status == JobStatus.STOPPED
                               else f"The import job ended as {job.get_status_display()}.")
        _mark_failed(dataset, reason)


def _mark_failed(dataset: Dataset, message: str) -> None:
    Dataset.objects.filter(id=dataset.id, status=DatasetStatus.IMPORTING).update(
        status=DatasetStatus.FAILED, error=message[:5000]
    )


def _outputs(version: DatasetVersion) -> dict[str, Any]:
    return {"dataset_id": version.dataset_id, "version": version.number, "rows": version.row_count,
            "columns": version.column_count, "parquet": str(version.parquet.uuid)}


def _default_origin(job: Job, parent: DatasetVersion | None) -> str:
    if job.kind == CAST_KIND:
        return VersionOrigin.CAST
    if parent is not None:  # a version made from another one by a job of another area: a data flow
        return VersionOrigin.FLOW
    return VersionOrigin.UPLOAD


def _save_version(
    *, job: Job, ctx: JobContext, dataset: Dataset, table: pa.Table, source: Artifact | None,
    parent: DatasetVersion | None, note: str, origin: str | None = None, origin_detail: dict[str, Any] | None = None,
) -> DatasetVersion:
    """Write `table` as the dataset's next version, recording where it came from (origin, origin_detail;
    by default the job's kind decides: a type change, a data flow, or an upload)."""
    origin = origin or _default_origin(job, parent)
    if origin_detail is None:
        origin_detail = {"job_id": job.id}
        if parent is not None:
            origin_detail["from_version"] = parent.number
    ctx.progress(70, "Writing Parquet")
    ctx.raise_if_stopped()
    tmp_dir = Path(settings.ARTIFACT_ROOT) / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tmp_dir, prefix="dataset-") as workdir:
        parquet_file = Path(workdir) / "data.parquet"
        write_parquet(table, parquet_file)
        ctx.progress(80, "Summarising columns")
        summary = summarize(table)
        ctx.raise_if_stopped()
        with transaction.atomic():
            _hold_lease(job, ctx)
            dataset = Dataset.objects.select_for_update().get(id=dataset.id)
            number = (dataset.versions.aggregate(top=Max("number"))["top"] or 0) + 1
            parquet = artifact_put_file(path=parquet_file, project=dataset.project,
                                        name=f"{dataset.name}-v{number}.parquet", media_type=MEDIA_TYPES["parquet"],
                                        kind="dataset", user=job.owner)
            version = DatasetVersion.objects.create(
                dataset=dataset, number=number, parquet=parquet, source=source, schema=schema_of(table),
                row_count=table.num_rows, column_count=table.num_columns, summary=summary, parent=parent, job=job,
                note=note[:500], created_by=job.owner, origin=origin, origin_detail=origin_detail,
            )
            dataset.current_version, dataset.status, dataset.error = version, DatasetStatus.READY, ""
            dataset.save(update_fields=["current_version", "status", "error"])
    ctx.log(f"Saved version {version.number}: {version.row_count:,} rows, {version.column_count} columns.")
    ctx.progress(100, f"Version {version.number} ready")
    return version


def _hold_lease(job: Job, ctx: JobContext) -> None:
    """Commit only while this attempt still holds the job (a worker presumed dead must not add a version)."""
    lease = getattr(ctx, "lease", None)
    if lease is not None and not Job.objects.select_for_update().filter(id=job.id, lease=lease).exists():
        raise LeaseLost(f"job {job.id} lost its lease")


# --- the editable schema -------------------------------------------------------------------------------------

def dataset_cast_start(*, dataset: Dataset, user, types: dict[str, str]) -> Job:
    """Start a dataset.cast job making version N+1 with the given column types."""
    version = dataset.current_version
    if version is None or dataset.status != DatasetStatus.READY:
        raise Conflict("This dataset has no ready version to change yet.")
    if dataset.last_job is not None and dataset.last_job.is_active:
        raise Conflict("A job is still working on this dataset; wait for it to end before changing types.")
    current = {column["name"]: column["type"] for column in version.schema}
    for name, kind in types.items():
        if name not in current:
            raise UserError(f"There is no column called '{name}' in version {version.number}.", field="types")
        if kind not in STUDIO_TYPES:
            raise UserError(f"Unknown type '{kind}'; choose one of: {', '.join(STUDIO_TYPES)}.", field="types")
    changes = {name: kind for name, kind in types.items() if current[name] != kind}
    if not changes:
        raise UserError("No column type was changed, so there is nothing to do.", field="types")
    with transaction.atomic():
        job = job_create(
            project=dataset.project, user=user, kind=CAST_KIND, title=f"Change column types of {dataset.name}",
            inputs={"dataset_id": dataset.id, "version": version.number, "types": changes},
        )
        Dataset.objects.filter(id=dataset.id).update(last_job=job)
        audit_record(actor=user, action="dataset.cast", project=dataset.project,
                     summary=f"Changing types in '{dataset.name}': "
                             + ", ".join(f"{n} → {k}" for n, k in changes.items()))
    dataset.last_job = job
    return job


def dataset_cast_run(*, job: Job, ctx: JobContext) -> dict[str, Any]:
    from engine.datasets.read import check_limits

    dataset = _job_dataset(job)
    done = dataset.versions.filter(job=job).first()
    if done is not None:
        return _outputs(done)
    parent = dataset.versions.filter(number=job.inputs["version"]).first()
    if parent is None:
        raise UserError(f"Version {job.inputs['version']} of this dataset no longer exists.")
    changes: dict[str, str] = job.inputs["types"]
    ctx.log("Changing types: " + ", ".join(f"{name} → {kind}" for name, kind in changes.items()))
    ctx.progress(5, f"Reading version {parent.number}")
    import pyarrow.parquet as pq

    table = pq.read_table(artifact_path(parent.parquet))
    ctx.progress(30, "Casting")
    try:
        cast = cast_table(table, changes)
        check_limits(cast, limits())
    except DatasetFileError as error:
        raise UserError(error.message) from None
    note = "Changed types: " + ", ".join(
        f"{name} {studio_type(table.schema.field(name).type)} → {kind}" for name, kind in changes.items()
    )
    version = _save_version(job=job, ctx=ctx, dataset=dataset, table=cast, source=parent.source, parent=parent,
                            note=note, origin=VersionOrigin.CAST,
                            origin_detail={"from_version": parent.number, "types": changes})
    return _outputs(version)


# --- deletion ---------------------------------------------------------------------------------------------------

def dataset_delete(*, dataset: Dataset, user) -> None:
    """Delete a dataset, its versions and their registered files. A running import is stopped first."""
    job = dataset.last_job
    if job is not None and job.is_active:
        job_stop(job=job, user=user)
    with transaction.atomic():
        versions = list(dataset.versions.all())
        artifact_ids = {v.parquet_id for v in versions} | {v.source_id for v in versions if v.source_id}
        if job is not None and job.kind == IMPORT_KIND and job.inputs.get("source"):
            artifact_ids |= set(Artifact.objects.filter(project=dataset.project, uuid=job.inputs["source"])
                                .values_list("id", flat=True))
        name = dataset.name
        Dataset.objects.filter(id=dataset.id).update(current_version=None)
        dataset.delete()
        # The blobs stay in the content-addressed store (another artifact may share them); the rows go.
        Artifact.objects.filter(id__in=artifact_ids, project=dataset.project).delete()
        audit_record(actor=user, action="dataset.delete", project=dataset.project,
                     summary=f"Deleted dataset '{name}'")


# --- the demo loader's in-process import --------------------------------------------------------------------

def dataset_import_dataframe(
    *, project: Project, user, name: str, frame: pd.DataFrame, description: str = "",
    origin: str = VersionOrigin.DEMO, origin_detail: dict[str, Any] | None = None,
) -> Dataset:
    """Import a DataFrame through the same job as an upload, run here and now: when this returns, the
    Job row exists, Completed, with its logs, and the dataset is ready (or UserError says why not)."""
    name = _clean_name(name, "")
    if Dataset.objects.filter(project=project, name=name).exists():
        raise Conflict(f"A dataset called '{name}' exists already in {project.name}.", field="name")
    tmp_dir = Path(settings.ARTIFACT_ROOT) / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tmp_dir, prefix="frame-") as workdir:
        path = Path(workdir) / f"{name}.parquet"
        write_parquet(pa.Table.from_pandas(frame, preserve_index=False), path)
        source = artifact_put_file(path=path, project=project, name=f"{name}.parquet",
                                   media_type=MEDIA_TYPES["parquet"], kind="upload", user=user)
    outer = connection.in_atomic_block
    job_ids: list[int] = []
    with transaction.atomic():
        dataset = Dataset.objects.create(project=project, name=name, description=description.strip(),
                                         created_by=user, status=DatasetStatus.IMPORTING)
        if not outer:
            # Registered before job_create's enqueue callback, so the job has ended (and the broker's copy
            # of the message is skipped by job_execute) before any worker can claim it.
            transaction.on_commit(lambda: job_execute(job_id=job_ids[0]))
        job = _start_import(dataset=dataset, user=user, source=source, fmt="parquet", options=ImportOptions(),
                            origin=origin, origin_detail=origin_detail or {"frame": name})
        job_ids.append(job.id)
        audit_record(actor=user, action="dataset.upload", project=project,
                     summary=f"Imported a data frame as dataset '{name}'")
    if outer:  # inside a caller's transaction (tests) on_commit waits for it, so run the job right here
        job_execute(job_id=job.id)
    dataset.refresh_from_db()
    job.refresh_from_db()
    if job.status != JobStatus.COMPLETED or dataset.status != DatasetStatus.READY:
        raise UserError(f"Importing '{name}' failed: {dataset.shown_error or job.error or job.status}")
    return dataset


def dataset_not_found() -> NotFound:
    return NotFound("There is no such dataset in this project.")
