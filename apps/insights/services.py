"""Writes for insights reports: start the job, and the job's work (read the version, run the engine, keep the
report JSON in the artifact store). Keyword-only, named <thing>_<verb>."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from django.db import transaction

from apps.core.artifacts import artifact_put_bytes
from apps.core.audit import audit_record
from apps.core.errors import UserError
from apps.core.jobs import LeaseLost
from apps.core.models import Job
from apps.core.roles import Activity
from apps.core.selectors import require
from apps.core.services import job_create
from apps.datasets.models import Dataset
from apps.datasets.selectors import version_get, version_parquet_path
from engine.insights import PROBLEM_TYPES, InsightsError, insights_report
from engine.runtime import JobContext

from .models import InsightsReport

REPORT_KIND = "insights.report"


def insights_report_start(
    *, dataset: Dataset, user, version_number: int | None = None, target: str = "", problem_type: str = ""
) -> InsightsReport:
    """Check the request against the version's columns, then save the report row and start its job."""
    require(user=user, project=dataset.project, activity=Activity.RUN_JOBS)
    version = version_get(dataset=dataset, number=version_number)
    target, problem_type = (target or "").strip(), (problem_type or "").strip()
    if target and target not in version.column_names:
        shown = ", ".join(version.column_names[:20]) + (" …" if version.column_count > 20 else "")
        raise UserError(f"There is no column called '{target}' in version {version.number} of {dataset.name}. "
                        f"The columns are: {shown}.", field="target")
    if problem_type and problem_type not in PROBLEM_TYPES:
        raise UserError(f"Unknown problem type '{problem_type}'; choose one of: {', '.join(PROBLEM_TYPES)}, or "
                        "leave it empty to infer it.", field="problem_type")
    if problem_type and not target:
        raise UserError("Choose a target column to go with the problem type.", field="target")
    with transaction.atomic():
        report = InsightsReport.objects.create(dataset=dataset, version=version, target=target,
                                               problem_type=problem_type, created_by=user)
        about = f"{dataset.name} v{version.number}" + (f", target {target}" if target else "")
        report.job = job_create(project=dataset.project, user=user, kind=REPORT_KIND,
                                title=f"Insights report on {about}",
                                inputs={"report_id": report.id, "dataset_id": dataset.id, "version": version.number,
                                        "target": target, "problem_type": problem_type})
        report.save(update_fields=["job"])
        audit_record(actor=user, action="insights.report.start", project=dataset.project,
                     summary=f"Started an insights report on {about}")
    return report


def insights_report_run(*, job: Job, ctx: JobContext) -> dict[str, Any]:
    """The work of an insights.report job. A report made by an earlier attempt is kept, not made again."""
    report = (InsightsReport.objects.select_related("dataset", "version__parquet")
              .filter(id=job.inputs.get("report_id"), dataset__project=job.project).first())
    if report is None:
        raise UserError("The report or its dataset was deleted before the report could be made.")
    if report.result_id:
        return _outputs(report)
    version = report.version
    ctx.progress(1, f"Reading version {version.number} of {report.dataset.name}")
    ctx.log(f"Reading {version.row_count:,} rows and {version.column_count} columns.")
    frame = pd.read_parquet(version_parquet_path(version=version))
    try:
        result = insights_report(frame, target=report.target or None, problem_type=report.problem_type or None,
                                 ctx=ctx)
    except InsightsError as error:
        raise UserError(error.message) from None
    data = json.dumps(result, allow_nan=False, separators=(",", ":")).encode()
    with transaction.atomic():
        _hold_lease(job, ctx)
        report.result = artifact_put_bytes(data=data, project=job.project, name=f"insights-report-{report.id}.json",
                                           media_type="application/json", kind="report", user=job.owner)
        report.summary = _summary(result)
        report.save(update_fields=["result", "summary"])
    ctx.log(f"Report saved: {len(result['warnings'])} warnings, {len(data):,} bytes.")
    return _outputs(report)


def _hold_lease(job: Job, ctx: JobContext) -> None:
    """Save only while this attempt still holds the job, so a worker presumed dead leaves no result."""
    lease = getattr(ctx, "lease", None)
    if lease is not None and not Job.objects.select_for_update().filter(id=job.id, lease=lease).exists():
        raise LeaseLost(f"job {job.id} lost its lease")


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    target = result.get("target") or {}
    model = target.get("model") or {}
    return {"rows": result["rows"], "columns": result["column_count"], "warnings": len(result["warnings"]),
            "by_severity": result["summary"]["warnings"], "problem_type": target.get("problem_type"),
            "scores": model.get("scores"), "sampled": result["sample"]["sampled"]}


def _outputs(report: InsightsReport) -> dict[str, Any]:
    return {"report_id": report.id, "report": str(report.result.uuid) if report.result else None,
            "warnings": report.summary.get("warnings")}
