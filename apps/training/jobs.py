"""Job kinds of the training area (registered with apps.core.jobs.job_kind)."""

from __future__ import annotations

from typing import Any

from apps.core.jobs import DatabaseJobContext, job_kind
from apps.core.models import Job


def _finish_run(job: Job) -> None:
    from .services import training_run_finish

    training_run_finish(job=job)


@job_kind("training.fit", title="Training job", queue="training", on_end=_finish_run)
def training_fit_job(job: Job, ctx: DatabaseJobContext) -> dict[str, Any]:
    """Train a built-in algorithm on a dataset version; save the model bundle and the evaluation."""
    from .services import training_job_run

    return training_job_run(job=job, ctx=ctx)


@job_kind("training.script", title="Script training job", queue="training", on_end=_finish_run)
def training_script_job(job: Job, ctx: DatabaseJobContext) -> dict[str, Any]:
    """Run the user's train.py (SageMaker script mode) on a dataset version; keep its model and output folders."""
    from .services import training_script_run

    return training_script_run(job=job, ctx=ctx)
