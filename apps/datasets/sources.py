"""Writes for the import sources beyond uploads: saved SQL connections and SQL queries, S3 objects, files under
a server directory an admin allowed, and copies of another dataset's version. Keyword-only, named
<thing>_<verb>, like services.py, whose import job, version writing and failure marking they reuse."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import PurePosixPath
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction

from apps.core.artifacts import artifact_path, artifact_put_stream
from apps.core.audit import audit_record
from apps.core.errors import Conflict, NotFound, UserError
from apps.core.jobs import LeaseLost
from apps.core.models import Job, Project
from apps.core.selectors import AnyUser, project_list
from apps.core.services import job_create
from engine.datasets.errors import DatasetFileError
from engine.datasets.options import format_for
from engine.datasets.paths import resolve_allowed
from engine.datasets.sql import SqlError, SqlTarget, check_read_query, connect, parse_sql_url, read_query
from engine.runtime import JobContext, JobStopped

from .models import Connection, Dataset, DatasetStatus, DatasetVersion, VersionOrigin
from .secrets import password_decrypt, password_encrypt
from .services import (
    MEDIA_TYPES,
    _clean_name,
    _job_dataset,
    _mark_failed,
    _outputs,
    _save_version,
    _start_import,
    import_options,
    limits,
)

SQL_KIND, VERSION_KIND = "dataset.import_sql", "dataset.import_version"


# --- connections -----------------------------------------------------------------------------------------------

def connection_list(*, user: AnyUser, project: Project | None = None):
    connections = Connection.objects.filter(project__in=project_list(user=user)).select_related("project")
    return connections.filter(project=project) if project is not None else connections


def connection_get(*, user: AnyUser, connection_id: int, project: Project | None = None) -> Connection:
    connection = connection_list(user=user, project=project).filter(id=connection_id).first()
    if connection is None:
        raise NotFound("There is no such connection in this project.")
    return connection


def _check_url(url: str, *, saving: bool = False) -> SqlTarget:
    try:
        target = parse_sql_url(url)
        if saving and target.engine == "sqlite":  # said at once on the form; checked again at every connect
            resolve_allowed(target.path, settings.IMPORT_PATHS, what="SQLite file")
    except DatasetFileError as error:
        raise UserError(error.message, field="url") from None
    return target


def connection_create(*, project: Project, user, name: str, url: str, password: str = "") -> Connection:
    name = (name or "").strip()[:120]
    if not name:
        raise UserError("Give the connection a name.", field="name")
    target = _check_url(url, saving=True)
    try:
        with transaction.atomic():
            connection = Connection.objects.create(project=project, name=name, url=url.strip(), created_by=user,
                                                   password_encrypted=password_encrypt(password))
            audit_record(actor=user, action="connection.create", project=project,
                         summary=f"Saved connection '{name}' to {target.display}")
    except IntegrityError:
        raise Conflict(f"A connection called '{name}' exists already in {project.name}.", field="name") from None
    return connection


def connection_update(*, connection: Connection, user, name: str, url: str, password: str | None = None,
                      clear_password: bool = False) -> Connection:
    """Change a connection; an empty or missing password keeps the saved one."""
    name = (name or "").strip()[:120]
    if not name:
        raise UserError("Give the connection a name.", field="name")
    target = _check_url(url, saving=True)
    connection.name, connection.url = name, url.strip()
    if password:
        connection.password_encrypted = password_encrypt(password)
    elif clear_password:
        connection.password_encrypted = ""
    try:
        with transaction.atomic():
            connection.save()
            audit_record(actor=user, action="connection.update", project=connection.project,
                         summary=f"Changed connection '{name}' ({target.display})")
    except IntegrityError:
        raise Conflict(f"A connection called '{name}' exists already in {connection.project.name}.",
                       field="name") from None
    return connection


def connection_delete(*, connection: Connection, user) -> None:
    with transaction.atomic():
        audit_record(actor=user, action="connection.delete", project=connection.project,
                     summary=f"Deleted connection '{connection.name}'")
        connection.delete()


def _open(connection: Connection) -> tuple[SqlTarget, Any]:
    target = _check_url(connection.url)
    try:
        handle = connect(target, password=password_decrypt(connection.password_encrypted),
                         allowed_hosts=settings.SQL_ALLOWED_HOSTS, allowed_dirs=settings.IMPORT_PATHS,
                         timeout_seconds=settings.SQL_TIMEOUT_SECONDS)
    except DatasetFileError as error:
        raise UserError(error.message) from None
    return target, handle


def connection_test(*, connection: Connection) -> str:
    """Connect and run SELECT 1; the answer says what was reached, or UserError says why not."""
    target, handle = _open(connection)
    try:
        handle.execute("SELECT 1")
        if target.engine == "sqlite":
            tables = handle.execute("SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'view')").fetchone()
            return f"Connected: SQLite file {target.path} with {tables[0]} tables and views."
        version = handle.info.server_version
        return (f"Connected: PostgreSQL {version // 10000}.{version % 10000} at {target.host}:{target.port}, "
                f"database {target.database}.")
    except (sqlite3.Error, Exception) as error:  # noqa: BLE001 - any driver error is reported, never raised
        raise UserError(f"Connected, but a test query failed: {str(error).splitlines()[0]}") from None
    finally:
        handle.close()


# --- shared ----------------------------------------------------------------------------------------------------

def _new_dataset(*, project: Project, user, name: str, description: str) -> Dataset:
    if Dataset.objects.filter(project=project, name=name).exists():
        raise Conflict(f"A dataset called '{name}' exists already in {project.name}; choose another name.",
                       field="name")
    try:
        with transaction.atomic():
            return Dataset.objects.create(project=project, name=name, description=(description or "").strip(),
                                          created_by=user, status=DatasetStatus.IMPORTING)
    except IntegrityError:
        raise Conflict(f"A dataset called '{name}' exists already in {project.name}; choose another name.",
                       field="name") from None


def _start_job(*, dataset: Dataset, user, kind: str, title: str, inputs: dict[str, Any], summary: str) -> Job:
    with transaction.atomic():
        job = job_create(project=dataset.project, user=user, kind=kind, title=title,
                         inputs={"dataset_id": dataset.id, **inputs})
        Dataset.objects.filter(id=dataset.id).update(last_job=job)
        audit_record(actor=user, action=kind, project=dataset.project, summary=summary)
    dataset.last_job = job
    return job


@contextmanager
def _marks_failure(dataset: Dataset) -> Iterator[None]:
    """A problem the user can fix fails the job with its message and marks the dataset, as uploads do."""
    try:
        yield
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


def _store_file_import(*, project: Project, user, stream: BinaryIO, file_name: str, file_format: str,
                       options: dict[str, Any] | None, name: str, description: str, origin: str,
                       origin_detail: dict[str, Any], summary: str, field: str) -> Dataset:
    """Keep a file as an upload artifact and start the upload's import job, recording the file's origin."""
    try:
        fmt = format_for(file_name, file_format)
    except DatasetFileError as error:
        raise UserError(error.message, field=field) from None
    parsed = import_options(options)
    name = _clean_name(name, file_name)
    if Dataset.objects.filter(project=project, name=name).exists():
        raise Conflict(f"A dataset called '{name}' exists already in {project.name}; choose another name.",
                       field="name")
    source = artifact_put_stream(stream=stream, project=project, name=file_name, media_type=MEDIA_TYPES[fmt],
                                 kind="upload", user=user)
    dataset = _new_dataset(project=project, user=user, name=name, description=description)
    with transaction.atomic():
        _start_import(dataset=dataset, user=user, source=source, fmt=fmt, options=parsed, origin=origin,
                      origin_detail=origin_detail)
        audit_record(actor=user, action=f"dataset.import_{origin}", project=project, summary=summary)
    return dataset


class _CappedStream:
    """Reads at most `limit` bytes, then refuses with the upload limit's message."""

    def __init__(self, stream: Any, limit: int) -> None:
        self.stream, self.limit, self.read_bytes = stream, limit, 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.read_bytes += len(chunk)
        if self.read_bytes > self.limit:
            raise UserError(f"The file is larger than this studio's import limit of {settings.MAX_UPLOAD_MB:,} MB "
                            "(STUDIO_MAX_UPLOAD_MB).")
        return chunk


# --- SQL -------------------------------------------------------------------------------------------------------

def dataset_import_sql(*, project: Project, user, connection: Connection, query: str, name: str,
                       description: str = "") -> Dataset:
    """Start a dataset.import_sql job reading the query's rows into version 1 of a new dataset."""
    if connection.project_id != project.id:
        raise NotFound("There is no such connection in this project.")
    try:
        query = check_read_query(query)
    except SqlError as error:
        raise UserError(error.message, field="query") from None
    name = _clean_name(name, connection.name)
    dataset = _new_dataset(project=project, user=user, name=name, description=description)
    _start_job(dataset=dataset, user=user, kind=SQL_KIND, title=f"Import dataset {name} from {connection.name}",
               inputs={"connection_id": connection.id, "query": query},
               summary=f"Importing a query of connection '{connection.name}' as dataset '{name}'")
    return dataset


def dataset_import_sql_run(*, job: Job, ctx: JobContext) -> dict[str, Any]:
    dataset = _job_dataset(job)
    done = dataset.versions.filter(job=job).first()
    if done is not None:
        return _outputs(done)
    with _marks_failure(dataset):
        connection = Connection.objects.filter(id=job.inputs.get("connection_id"), project=job.project).first()
        if connection is None:
            raise UserError("The connection was deleted before this import could run.")
        query = job.inputs["query"]
        ctx.progress(1, f"Connecting to {connection.name}")
        target, handle = _open(connection)
        ctx.log(f"Connected to {target.display}; running the query in a read-only transaction.")
        try:
            table = read_query(handle, query, engine=target.engine, limits=limits(), ctx=ctx)
        finally:
            handle.close()
        version = _save_version(
            job=job, ctx=ctx, dataset=dataset, table=table, source=None, parent=None,
            note=f"Imported from {connection.name}: {query[:300]}", origin=VersionOrigin.SQL,
            origin_detail={"connection": connection.name, "connection_id": connection.id, "url": target.display,
                           "query": query},
        )
    return _outputs(version)


# --- a server path ---------------------------------------------------------------------------------------------

def dataset_import_path(*, project: Project, user, path: str, name: str = "", description: str = "",
                        file_format: str = "", options: dict[str, Any] | None = None) -> Dataset:
    """Import a file under a directory in STUDIO_IMPORT_PATHS, like an upload."""
    try:
        real = resolve_allowed(path, settings.IMPORT_PATHS)
    except DatasetFileError as error:
        raise UserError(error.message, field="path") from None
    if real.stat().st_size > settings.MAX_UPLOAD_BYTES:
        raise UserError(f"The file is larger than this studio's import limit of {settings.MAX_UPLOAD_MB:,} MB "
                        "(STUDIO_MAX_UPLOAD_MB).", field="path")
    with open(real, "rb") as handle:  # resolve_allowed is this route's containment check
        return _store_file_import(
            project=project, user=user, stream=_CappedStream(handle, settings.MAX_UPLOAD_BYTES),
            file_name=real.name, file_format=file_format, options=options, name=name, description=description,
            origin=VersionOrigin.SERVER_PATH, origin_detail={"path": str(real)},
            summary=f"Importing server file {real} as a dataset", field="path")


# --- S3 --------------------------------------------------------------------------------------------------------

def parse_s3_uri(uri: str) -> tuple[str, str]:
    uri = (uri or "").strip()
    parts = urlsplit(uri)
    if parts.scheme != "s3" or not parts.netloc or not parts.path.strip("/"):
        raise UserError("Give an S3 URI such as s3://bucket/path/to/file.csv.", field="uri")
    if any(ord(ch) < 32 for ch in uri) or parts.query or parts.fragment:
        raise UserError("The S3 URI may not contain control characters, '?' or '#'.", field="uri")
    return parts.netloc, parts.path.lstrip("/")


def s3_client():
    import boto3

    return boto3.client(
        "s3", endpoint_url=settings.IMPORT_S3_ENDPOINT_URL, region_name=settings.IMPORT_S3_REGION,
        aws_access_key_id=settings.IMPORT_S3_ACCESS_KEY_ID or None,
        aws_secret_access_key=settings.IMPORT_S3_SECRET_ACCESS_KEY or None,
    )


def dataset_import_s3(*, project: Project, user, uri: str, name: str = "", description: str = "",
                      file_format: str = "", options: dict[str, Any] | None = None, client: Any = None) -> Dataset:
    """Stream s3://bucket/key from the admin-configured storage into the artifact store, then import it like
    an upload. Only the bucket and key come from the user; the endpoint and credentials are the admin's."""
    if not settings.IMPORT_S3_ENABLED:
        raise UserError("Importing from S3 is not set up on this studio: an admin sets STUDIO_IMPORT_S3_ENDPOINT_URL "
                        "and the STUDIO_IMPORT_S3_* keys.", field="uri")
    bucket, key = parse_s3_uri(uri)
    if settings.IMPORT_S3_BUCKETS and bucket not in settings.IMPORT_S3_BUCKETS:
        raise UserError(f"The bucket {bucket!r} is not one this studio may import from: "
                        f"{', '.join(settings.IMPORT_S3_BUCKETS)}.", field="uri")
    file_name = PurePosixPath(key).name or "object"
    try:
        format_for(file_name, file_format)
    except DatasetFileError as error:
        raise UserError(error.message, field="uri") from None
    from botocore.exceptions import BotoCoreError, ClientError

    client = client or s3_client()
    try:
        head = client.head_object(Bucket=bucket, Key=key)
        if int(head.get("ContentLength", 0)) > settings.MAX_UPLOAD_BYTES:
            raise UserError(f"s3://{bucket}/{key} is larger than this studio's import limit of "
                            f"{settings.MAX_UPLOAD_MB:,} MB (STUDIO_MAX_UPLOAD_MB).", field="uri")
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchKey", "NotFound"):
            raise UserError(f"There is no object s3://{bucket}/{key}.", field="uri") from None
        if code in ("NoSuchBucket",):
            raise UserError(f"There is no bucket {bucket!r}.", field="uri") from None
        if code in ("403", "AccessDenied", "Forbidden"):
            raise UserError(f"The studio's S3 keys may not read s3://{bucket}/{key}.", field="uri") from None
        raise UserError(f"S3 refused the request: {code or error}.", field="uri") from None
    except BotoCoreError as error:
        raise UserError(f"The S3 storage cannot be reached: {error}.", field="uri") from None
    try:
        return _store_file_import(
            project=project, user=user, stream=_CappedStream(body, settings.MAX_UPLOAD_BYTES), file_name=file_name,
            file_format=file_format, options=options, name=name, description=description, origin=VersionOrigin.S3,
            origin_detail={"uri": f"s3://{bucket}/{key}", "etag": str(head.get("ETag", "")).strip('"')},
            summary=f"Importing s3://{bucket}/{key} as a dataset", field="uri")
    finally:
        close = getattr(body, "close", None)
        if close:
            close()


# --- another dataset's version ---------------------------------------------------------------------------------

def dataset_import_version(*, project: Project, user, source: DatasetVersion, columns: list[str] | None = None,
                           name: str = "", description: str = "") -> Dataset:
    """Start a job copying a version (or some of its columns, in the order given) into a new dataset."""
    columns = list(columns or [])
    known = set(source.column_names)
    missing = [column for column in columns if column not in known]
    if missing:
        raise UserError(f"Version {source.number} of '{source.dataset.name}' has no column "
                        f"{', '.join(repr(c) for c in missing[:5])}.", field="columns")
    if len(set(columns)) != len(columns):
        raise UserError("A column is listed twice.", field="columns")
    name = _clean_name(name, f"{source.dataset.name}-v{source.number}-copy")
    dataset = _new_dataset(project=project, user=user, name=name, description=description)
    _start_job(dataset=dataset, user=user, kind=VERSION_KIND,
               title=f"Copy {source.dataset.name} v{source.number} to {name}",
               inputs={"source_version_id": source.id, "columns": columns},
               summary=f"Copying '{source.dataset.name}' v{source.number} to dataset '{name}'")
    return dataset


def dataset_import_version_run(*, job: Job, ctx: JobContext) -> dict[str, Any]:
    import pyarrow.parquet as pq

    dataset = _job_dataset(job)
    done = dataset.versions.filter(job=job).first()
    if done is not None:
        return _outputs(done)
    with _marks_failure(dataset):
        source = (DatasetVersion.objects.select_related("dataset", "parquet")
                  .filter(id=job.inputs.get("source_version_id")).first())
        if source is None:
            raise UserError("The version to copy was deleted before this job could run.")
        columns = job.inputs.get("columns") or None
        ctx.progress(5, f"Reading {source.dataset.name} v{source.number}")
        table = pq.read_table(artifact_path(source.parquet), columns=columns)
        ctx.log(f"Copying {table.num_rows:,} rows and {table.num_columns} of {source.column_count} columns.")
        version = _save_version(
            job=job, ctx=ctx, dataset=dataset, table=table, source=None, parent=None,
            note=f"Copied from {source.dataset.name} v{source.number}"
                 + (f" ({len(columns)} columns)" if columns else ""),
            origin=VersionOrigin.DATASET_VERSION,
            origin_detail={"dataset_id": source.dataset_id, "dataset": source.dataset.name,
                           "project": source.dataset.project.slug if source.dataset.project_id else "",
                           "version": source.number, "version_id": source.id, "columns": columns or []},
        )
    return _outputs(version)
