"""Job kinds of the Data Wrangler (registered with apps.core.jobs.job_kind)."""

from __future__ import annotations

from typing import Any

from apps.core.jobs import DatabaseJobContext, job_kind
from apps.core.models import Job


@job_kind("flow.apply", title="Apply data flow", queue="batch")
def apply_flow(job: Job, ctx: DatabaseJobContext) -> dict[str, Any]:
    """Run a flow's steps over a full dataset version and save the output as a new version."""
    from .services import flow_apply_run

    return flow_apply_run(job=job, ctx=ctx)
