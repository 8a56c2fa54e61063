"""Starting and running insights reports: the job, the stored report, and the reasons a report is refused."""

from __future__ import annotations

import json

import pytest

from apps.core.artifacts import artifact_open
from apps.core.errors import Conflict, Forbidden, UserError
from apps.core.models import JobStatus
from apps.insights.models import InsightsReport
from apps.insights.selectors import insights_report_get, insights_report_list, insights_report_result
from apps.insights.services import insights_report_start


def test_starting_saves_the_report_and_a_pending_job_on_the_default_queue(dataset, owner):
    report = insights_report_start(dataset=dataset, user=owner, target="diagnosis", problem_type="binary")
    assert report.version == dataset.current_version and report.result is None
    assert report.job.kind == "insights.report" and report.job.queue == "default"
    assert report.job.status == JobStatus.PENDING
    assert report.job.inputs == {"report_id": report.id, "dataset_id": dataset.id, "version": 1,
                                 "target": "diagnosis", "problem_type": "binary"}


def test_the_job_stores_the_report_json_as_an_artifact_and_a_summary_on_the_row(done_report):
    assert done_report.job.status == JobStatus.COMPLETED
    assert done_report.job.outputs["report_id"] == done_report.id
    assert done_report.result.media_type == "application/json" and done_report.result.kind == "report"
    with artifact_open(done_report.result) as handle:
        stored = json.load(handle)
    assert stored == insights_report_result(report=done_report)
    kinds = {w["kind"] for w in stored["warnings"]}
    assert {"constant", "target_leakage", "missing"} <= kinds
    assert done_report.summary["rows"] == 120 and done_report.summary["problem_type"] == "binary"
    assert done_report.summary["scores"]["accuracy"] > 0.8


def test_running_the_job_again_keeps_the_first_report(done_report, run_job):
    from apps.insights.services import insights_report_run

    first = done_report.result_id
    assert insights_report_run(job=done_report.job, ctx=None)["report_id"] == done_report.id  # type: ignore[arg-type]
    done_report.refresh_from_db()
    assert done_report.result_id == first


def test_a_target_that_is_not_a_column_is_refused_with_the_columns(dataset, owner):
    with pytest.raises(UserError, match="no column called 'price' in version 1 of cells.*size, texture") as raised:
        insights_report_start(dataset=dataset, user=owner, target="price")
    assert raised.value.field == "target" and not InsightsReport.objects.exists()


def test_a_problem_type_needs_a_known_name_and_a_target(dataset, owner):
    with pytest.raises(UserError, match="Unknown problem type 'ranking'"):
        insights_report_start(dataset=dataset, user=owner, target="diagnosis", problem_type="ranking")
    with pytest.raises(UserError, match="Choose a target column"):
        insights_report_start(dataset=dataset, user=owner, problem_type="binary")


def test_a_role_that_may_not_run_jobs_is_refused(dataset, labeler):
    with pytest.raises(Forbidden):
        insights_report_start(dataset=dataset, user=labeler)


def test_a_version_that_does_not_exist_is_refused(dataset, owner):
    with pytest.raises(UserError, match="has no version 4"):
        insights_report_start(dataset=dataset, user=owner, version_number=4)


def test_a_dataset_still_importing_has_no_version_to_report_on(project, owner):
    from apps.datasets.models import Dataset

    importing = Dataset.objects.create(project=project, name="later", created_by=owner)
    with pytest.raises(Conflict, match="no version yet"):
        insights_report_start(dataset=importing, user=owner)


def test_a_target_with_one_class_completes_and_explains_why_there_is_no_model(dataset, owner, run_job):
    report = insights_report_start(dataset=dataset, user=owner, target="lab")
    assert run_job(report.job).status == JobStatus.COMPLETED
    report.refresh_from_db()
    target = insights_report_result(report=report)["target"]
    assert "single value (central)" in target["error"] and target["model"] is None


def test_a_job_whose_report_cannot_be_made_fails_with_the_reason(dataset, owner, run_job):
    report = insights_report_start(dataset=dataset, user=owner, target="size")
    InsightsReport.objects.filter(id=report.id).update(target="gone")  # as if the column vanished meanwhile
    job = run_job(report.job)
    assert job.status == JobStatus.FAILED and "no column called 'gone'" in job.error


def test_reports_are_listed_only_to_members_of_their_project(done_report, owner, stranger):
    assert list(insights_report_list(user=owner)) == [done_report]
    assert not insights_report_list(user=stranger).exists()
    with pytest.raises(UserError):
        insights_report_get(user=stranger, report_id=done_report.id)


def test_a_column_full_of_infinities_is_flagged_and_the_report_completes(project, owner, run_job):
    # (An empty file is refused at import, so a dataset always has rows; the engine's tests cover empty frames.)
    import numpy as np
    import pandas as pd

    from apps.datasets.services import dataset_import_dataframe

    broken = dataset_import_dataframe(project=project, user=owner, name="broken",
                                      frame=pd.DataFrame({"x": np.arange(30.0), "ratio": np.inf}))
    report = insights_report_start(dataset=broken, user=owner, target="x")
    assert run_job(report.job).status == JobStatus.COMPLETED
    report.refresh_from_db()
    result = insights_report_result(report=report)
    assert {"infinite", "constant"} <= {w["kind"] for w in result["warnings"] if w["columns"] == ["ratio"]}
    assert result["target"]["problem_type"] == "regression" and result["target"]["model"] is not None
