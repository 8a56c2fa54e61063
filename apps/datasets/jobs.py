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
