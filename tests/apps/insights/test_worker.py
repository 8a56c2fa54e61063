"""A real Celery worker makes a report on the demo breast cancer data, end to end."""

from __future__ import annotations

import pytest

from apps.core.models import Job, JobStatus
from apps.insights.selectors import insights_report_result
from apps.insights.services import insights_report_start
from tests.conftest import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.worker]


def test_a_worker_makes_a_report_on_the_breast_cancer_data(celery_worker, project):
    from apps.core.management.commands.load_demo import breast_cancer_frame
    from apps.datasets.services import dataset_import_dataframe

    owner = project.created_by
    dataset = dataset_import_dataframe(project=project, user=owner, name="breast-cancer", frame=breast_cancer_frame())
    celery_worker()
    report = insights_report_start(dataset=dataset, user=owner, target="diagnosis")

    wait_for(lambda: Job.objects.get(id=report.job_id).is_ended, timeout=120)
    report.refresh_from_db()
    assert report.job.status == JobStatus.COMPLETED, report.job.error
    result = insights_report_result(report=report)
    assert result["rows"] == 569 and result["column_count"] == 31
    target = result["target"]
    assert target["problem_type"] == "binary" and target["model"]["scores"]["roc_auc"] > 0.95
    assert {c["value"] for c in target["distribution"]["classes"]} == {"benign", "malignant"}
    assert "high_correlation" in {w["kind"] for w in result["warnings"]}
    assert not [w for w in result["warnings"] if w["kind"] == "target_leakage"]
    assert report.job.logs.filter(message__startswith="Quick model scores").exists()
