"""Job kinds of the insights area (registered with apps.core.jobs.job_kind)."""

from __future__ import annotations

from typing import Any

from apps.core.jobs import DatabaseJobContext, job_kind
from apps.core.models import Job


@job_kind("insights.report", title="Data quality and insights report", queue="default")
def insights_report_job(job: Job, ctx: DatabaseJobContext) -> dict[str, Any]:
    """Profile a dataset version, list its quality warnings and, with a target, train a quick model."""
    from .services import insights_report_run

    return insights_report_run(job=job, ctx=ctx)
