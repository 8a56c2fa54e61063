"""Editing a flow (every edit undoable, never half-written), the preview on a sample, proposals."""

from __future__ import annotations

import pytest

from apps.core.errors import Conflict, Forbidden, UserError
from apps.wrangler import services
from apps.wrangler.models import Flow

from .conftest import CAST, DROP, RENAME, ROWS


def _add(flow, owner, step, **extra):
    return services.flow_step_add(flow=flow, user=owner, transform=step["transform"], params=step["params"], **extra)


def test_a_new_flow_follows_the_dataset_and_is_named_after_it(flow, dataset):
    assert flow.name == "customers flow"
    assert flow.follow_latest and flow.input_version() == dataset.current_version
    assert flow.steps == [] and flow.undo_stack == []


def test_steps_are_added_moved_toggled_deleted_and_each_edit_can_be_undone(flow, owner):
    flow = _add(flow, owner, RENAME)
    flow = _add(flow, owner, CAST)
    flow = _add(flow, owner, DROP)
    assert [s["transform"] for s in flow.steps] == ["rename_columns", "cast_column", "drop_columns"]
    assert len({s["id"] for s in flow.steps}) == 3
    last = flow.steps[2]["id"]
    flow = services.flow_step_move(flow=flow, user=owner, step_id=last, offset=-1)
    assert [s["transform"] for s in flow.steps] == ["rename_columns", "drop_columns", "cast_column"]
    flow = services.flow_step_toggle(flow=flow, user=owner, step_id=last)
    assert flow.step(last)["enabled"] is False
    flow = services.flow_step_delete(flow=flow, user=owner, step_id=last)
    assert len(flow.steps) == 2
    flow = services.flow_undo(flow=flow, user=owner)
    assert flow.step(last)["enabled"] is False
    flow = services.flow_undo(flow=flow, user=owner)
    flow = services.flow_undo(flow=flow, user=owner)
    assert [s["transform"] for s in flow.steps] == ["rename_columns", "cast_column", "drop_columns"]


def test_the_undo_stack_is_bounded(flow, owner):
    for _ in range(services.UNDO_LIMIT + 5):
        flow = _add(flow, owner, DROP)
    assert len(flow.undo_stack) == services.UNDO_LIMIT
    with pytest.raises(Conflict):
        for _ in range(services.UNDO_LIMIT + 1):
            flow = services.flow_undo(flow=flow, user=owner)


def test_an_unknown_transform_is_refused_and_the_flow_is_unchanged(flow, owner):
    with pytest.raises(UserError, match="no transform called 'explode'") as caught:
        services.flow_step_add(flow=flow, user=owner, transform="explode", params={})
    assert caught.value.field == "transform"
    assert Flow.objects.get(id=flow.id).steps == []


def test_a_param_of_the_wrong_type_is_refused_when_strict_and_kept_with_its_error_otherwise(flow, owner):
    bad = {"column": "visits", "to": "octal"}
    with pytest.raises(UserError, match="'to' must be one of") as caught:
        services.flow_step_add(flow=flow, user=owner, transform="cast_column", params=bad)
    assert caught.value.field == "params.to"
    flow = services.flow_step_add(flow=flow, user=owner, transform="cast_column", params=bad, strict=False)
    report = services.flow_preview(flow=flow).reports[0]
    assert not report["ok"] and report["error_param"] == "to"


def test_a_column_renamed_upstream_fails_its_step_in_the_preview_and_the_flow_stays_editable(flow, owner):
    flow = _add(flow, owner, {"transform": "duplicate_column", "params": {"column": "score", "new_name": "s2"}})
    flow = _add(flow, owner, {"transform": "drop_columns", "params": {"columns": ["score"]}})
    flow = services.flow_step_update(flow=flow, user=owner, step_id=flow.steps[0]["id"],
                                     params={"column": "age", "new_name": "s2"})
    flow = services.flow_step_add(flow=flow, user=owner, transform="rename_columns",
                                  params={"mapping": {"age": "years"}}, position=0)
    preview = services.flow_preview(flow=flow)
    first, second, third = preview.reports
    assert first["ok"]
    assert not second["ok"] and second["error_param"] == "column" and "'age' is not in the data" in second["error"]
    assert third["error"] == "Not run: an earlier step failed."
    assert "years" in [c.name for c in preview.columns]  # the output of the steps before the failing one
    flow = services.flow_undo(flow=flow, user=owner)  # back to the flow before the rename
    assert services.flow_preview(flow=flow).ok


def test_the_preview_reports_counts_highlights_and_timings(flow, owner):
    for step in (RENAME, CAST, DROP, {"transform": "duplicate_column", "params": {"column": "age", "new_name": "a2"}}):
        flow = _add(flow, owner, step)
    preview = services.flow_preview(flow=flow, page_size=50)
    assert preview.ok and preview.sample_rows == ROWS and preview.output_rows == ROWS and preview.pages == 6
    status = {column.name: column.status for column in preview.columns}
    assert status["risk"] == "added" and status["a2"] == "added" and status["visits"] == "changed"
    assert status["age"] == "" and "notes" not in status
    assert len(preview.rows) == 50 and len(preview.rows[0]) == len(preview.columns)
    assert all(report["seconds"] >= 0 for report in preview.reports)
    assert preview.step_columns[1] == ["customer_id", "age", "visits", "risk", "city", "notes"]


def test_the_sample_reads_only_the_first_rows_or_a_random_draw(flow, owner):
    services.flow_update(flow=flow, user=owner, sample_rows=40)
    flow.refresh_from_db()
    first = services.flow_preview(flow=flow)
    assert first.sample_rows == 40 and first.source_rows == ROWS and first.rows[0][0] == "C1000"
    services.flow_update(flow=flow, user=owner, sample_method="random")
    flow.refresh_from_db()
    drawn = services.flow_preview(flow=flow)
    assert drawn.sample_rows == 40 and [row[0] for row in drawn.rows] != [row[0] for row in first.rows]


def test_the_sample_is_cached_per_version(flow, monkeypatch):
    services.flow_preview(flow=flow)
    monkeypatch.setattr(services.pq, "ParquetFile", lambda *a, **k: pytest.fail("read the file again"))
    services.flow_preview(flow=flow)


def test_a_cached_preview_reads_the_flow_and_its_input_version_only(flow):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    services.flow_preview(flow=flow)
    flow = Flow.objects.select_related("project").get(id=flow.id)  # as the builder's views load it
    with CaptureQueriesContext(connection) as queries:
        services.flow_preview(flow=flow)
    assert len(queries) == 1 and "datasets_datasetversion" in queries[0]["sql"]  # its file joined, not re-read


def test_a_new_version_is_previewed_from_its_own_file_not_from_the_cached_sample(flow, owner, dataset, run_job):
    from apps.datasets.services import dataset_cast_start

    first = services.flow_preview(flow=flow)
    assert first.version.number == 1 and first.rows[0][2] == str(first.rows[0][2])  # visits as text
    run_job(dataset_cast_start(dataset=dataset, user=owner, types={"visits": "integer"}))
    flow = Flow.objects.get(id=flow.id)
    second = services.flow_preview(flow=flow)
    visits = {column.name: column for column in second.columns}["visits"]
    assert second.version.number == 2 and visits.dtype == "int64" and visits.kind == "number"
    assert [row[2] for row in second.rows] == [int(row[2]) for row in first.rows]
    services.flow_update(flow=flow, user=owner, sample_rows=50)  # other settings: another sample
    flow.refresh_from_db()
    assert services.flow_preview(flow=flow).sample_rows == 50


def test_a_role_without_manage_data_cannot_edit(flow, labeler):
    with pytest.raises(Forbidden):
        _add(flow, labeler, DROP)
    with pytest.raises(Forbidden):
        services.flow_apply_start(flow=flow, user=labeler)


def test_applying_a_flow_with_a_failing_step_is_refused(flow, owner):
    flow = _add(flow, owner, {"transform": "drop_columns", "params": {"columns": ["nope"]}}, strict=True)
    with pytest.raises(UserError, match="Fix step 1"):
        services.flow_apply_start(flow=flow, user=owner)


def test_a_proposal_goes_to_the_latest_flow_or_a_new_one(project, owner, dataset):
    first = services.proposal_add(project=project, user=owner, dataset=dataset, transform="drop_columns",
                                  params={"columns": ["notes"]})
    assert first.name == "customers flow" and len(first.steps) == 1
    again = services.proposal_add(project=project, user=owner, dataset=dataset, transform="rename_columns",
                                  params={"mapping": {"age": "years"}})
    assert again.id == first.id and len(again.steps) == 2


def test_dataset_parameters_resolve_to_a_dataset_of_the_same_project_only(project, dataset, stranger):
    from apps.core.models import Project
    from engine.wrangler import TransformError

    resolve = services.dataset_resolver(project)
    assert len(resolve(dataset.id)) == ROWS and len(resolve(f"{dataset.id}:1")) == ROWS
    for bad in ("nope", f"{dataset.id}:9", "999999"):
        with pytest.raises(TransformError):
            resolve(bad)
    with pytest.raises(TransformError):
        services.dataset_resolver(Project.objects.get(slug="elsewhere"))(dataset.id)


def test_a_flow_is_found_only_in_a_project_the_user_is_a_member_of(flow, owner, stranger):
    from apps.core.errors import NotFound
    from apps.wrangler.selectors import flow_get, flow_list

    assert flow_get(user=owner, project=flow.project, flow_id=flow.id, related=()) == flow
    assert flow_get(user=owner, flow_id=flow.id).project == flow.project
    with pytest.raises(NotFound):
        flow_get(user=stranger, project=flow.project, flow_id=flow.id)
    with pytest.raises(NotFound):
        flow_get(user=stranger, flow_id=flow.id)
    assert not flow_list(user=stranger, project=flow.project).exists()
