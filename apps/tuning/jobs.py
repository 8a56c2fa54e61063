"""Job kinds of the tuning area (registered with apps.core.jobs.job_kind)."""

from __future__ import annotations

from typing import Any

from apps.core.jobs import DatabaseJobContext, job_kind
from apps.core.models import Job


def _finish(job: Job) -> None:
    from .services import tuning_job_finish

    tuning_job_finish(job=job)


# The coordinator has the time limit of every job (STUDIO_JOB_SOFT_TIME_LIMIT): the broker's visibility timeout
# is set just above it. A search that outlasts it fails; Retry resumes it from the saved state.
@job_kind("tuning.run", title="Tuning job", queue="default", on_end=_finish)
def tuning_run_job(job: Job, ctx: DatabaseJobContext) -> dict[str, Any]:
    """Coordinate a hyperparameter tuning job: start each proposal as a training job (training queue), read
    their outcomes and learning curves, stop weak trials early, until the search is done."""
    from .services import tuning_job_run

    return tuning_job_run(job=job, ctx=ctx)
