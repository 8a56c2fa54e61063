"""Reads for insights reports, scoped to the user's projects."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import QuerySet

from apps.core.artifacts import ArtifactCorrupted, artifact_open
from apps.core.errors import Conflict, NotFound
from apps.core.models import Project
from apps.core.selectors import AnyUser, project_list
from apps.datasets.models import Dataset

from .models import InsightsReport


def insights_report_list(*, user: AnyUser, project: Project | None = None,
                         dataset: Dataset | None = None) -> QuerySet[InsightsReport]:
    reports = InsightsReport.objects.filter(dataset__project__in=project_list(user=user)).select_related(
        "dataset__project", "version", "job", "result", "created_by")
    if project is not None:
        reports = reports.filter(dataset__project=project)
    if dataset is not None:
        reports = reports.filter(dataset=dataset)
    return reports


def insights_report_get(*, user: AnyUser, report_id: int, dataset: Dataset | None = None) -> InsightsReport:
    report = insights_report_list(user=user, dataset=dataset).filter(id=report_id).first()
    if report is None:
        raise NotFound("There is no such report, or it belongs to a project you are not a member of.")
    return report


def insights_report_result(*, report: InsightsReport) -> dict[str, Any] | None:
    """The report's JSON, checked against its sha256; None until the job has made it."""
    if report.result is None:
        return None
    try:
        with artifact_open(report.result) as handle:
            return json.load(handle)
    except ArtifactCorrupted:
        raise Conflict("This report's file no longer matches its checksum, so it is not shown; start a new "
                       "report.") from None
