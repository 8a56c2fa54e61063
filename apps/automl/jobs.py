"""Job kinds of the AutoML area (registered with apps.core.jobs.job_kind)."""

from __future__ import annotations

from typing import Any

from apps.core.jobs import DatabaseJobContext, job_kind
from apps.core.models import Job


def _finish_run(job: Job) -> None:
    from .services import automl_run_finish

    automl_run_finish(job=job)


@job_kind("automl.run", title="AutoML job", queue="training", on_end=_finish_run)
def automl_run_job(job: Job, ctx: DatabaseJobContext) -> dict[str, Any]:
    """Search algorithms and hyperparameters within the time budget; save the leaderboard, the best model,
    its evaluation and importance, and the code that rebuilds it."""
    from .services import automl_job_run

    return automl_job_run(job=job, ctx=ctx)
