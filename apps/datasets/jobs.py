"""Job kinds of the datasets area (registered with apps.core.jobs.job_kind)."""

from __future__ import annotations

from typing import Any

from apps.core.jobs import DatabaseJobContext, job_kind
from apps.core.models import Job


def import_ended(job: Job) -> None:
    """However an import ended short of completing (a worker that died every attempt, a time or memory limit,
    a stop), the dataset says failed with the job's reason."""
    from .services import dataset_import_ended

    dataset_import_ended(job=job)


@job_kind("dataset.import", title="Import dataset", queue="default", on_end=import_ended)
def import_dataset(job: Job, ctx: DatabaseJobContext) -> dict[str, Any]:
    """Parse an uploaded file into version 1 of a dataset (Parquet, schema, column summaries)."""
    from .services import dataset_import_run

    return dataset_import_run(job=job, ctx=ctx)


@job_kind("dataset.cast", title="Change column types", queue="default")
def cast_dataset(job: Job, ctx: DatabaseJobContext) -> dict[str, Any]:
    """Make a new version of a dataset with some columns cast to other types."""
    from .services import dataset_cast_run

    return dataset_cast_run(job=job, ctx=ctx)


@job_kind("dataset.import_sql", title="Import dataset from SQL", queue="default", on_end=import_ended)
def import_sql(job: Job, ctx: DatabaseJobContext) -> dict[str, Any]:
    """Run a read-only query on a saved connection and keep its rows as version 1 of a dataset."""
    from .sources import dataset_import_sql_run

    return dataset_import_sql_run(job=job, ctx=ctx)


@job_kind("dataset.import_version", title="Copy a dataset version", queue="default", on_end=import_ended)
def import_version(job: Job, ctx: DatabaseJobContext) -> dict[str, Any]:
    """Copy a version of a dataset (or some of its columns) into version 1 of a new dataset."""
    from .sources import dataset_import_version_run

    return dataset_import_version_run(job=job, ctx=ctx)
