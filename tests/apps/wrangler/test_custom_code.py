"""Custom pandas code steps in flows: off unless the administrator's setting is on; then only roles that may run
code add or apply them; the preview stops before them; the apply job runs them in a worker's child process."""

from __future__ import annotations

import pytest

from apps.core.errors import Forbidden, UserError
from apps.core.models import JobStatus
from apps.wrangler import services

CODE = "df['score_x2'] = df['score'] * 2\ndf = df[df['age'] >= 30]"


def test_custom_code_steps_are_refused_while_the_setting_is_off(flow, owner, settings):
    settings.CUSTOM_CODE_STEPS = False
    with pytest.raises(UserError, match="turned off on this studio"):
        services.flow_step_add(flow=flow, user=owner, transform="custom_pandas", params={"code": CODE})
    flow.refresh_from_db()
    assert flow.steps == []


def test_the_picker_says_custom_code_is_off_and_does_not_list_it(client, flow, owner, settings, project):
    settings.CUSTOM_CODE_STEPS = False
    client.force_login(owner)
    body = client.get(f"/p/{project.slug}/flows/{flow.id}/picker/").content.decode()
    assert "custom_pandas" not in body and "STUDIO_CUSTOM_CODE_STEPS" in body
    settings.CUSTOM_CODE_STEPS = True
    body = client.get(f"/p/{project.slug}/flows/{flow.id}/picker/").content.decode()
    assert 'data-transform="custom_pandas"' in body and "turned off" not in body


def test_an_analyst_may_not_add_custom_code_even_when_it_is_on(flow, member, settings):
    settings.CUSTOM_CODE_STEPS = True
    analyst = member("analyst", "ann")
    with pytest.raises(Forbidden):
        services.flow_step_add(flow=flow, user=analyst, transform="custom_pandas", params={"code": CODE})
    # Other edits of a flow that holds custom code stay open to the analyst.
    services.flow_step_add(flow=flow, user=member("data_scientist", "dan"), transform="custom_pandas",
                           params={"code": CODE})
    services.flow_step_add(flow=flow, user=analyst, transform="drop_columns", params={"columns": ["notes"]})


def test_the_preview_stops_before_custom_code_and_the_apply_job_runs_it(flow, owner, settings, run_job):
    settings.CUSTOM_CODE_STEPS = True
    services.flow_step_add(flow=flow, user=owner, transform="custom_pandas", params={"code": CODE})
    flow = services.flow_step_add(flow=flow, user=owner, transform="drop_columns", params={"columns": ["notes"]})
    preview = services.flow_preview(flow=flow)
    assert preview.ok and "only when the flow is applied" in preview.reports[0]["note"]
    assert "score_x2" not in [column.name for column in preview.columns]

    job = run_job(services.flow_apply_start(flow=flow, user=owner))
    assert job.status == JobStatus.COMPLETED, job.error
    flow.dataset.refresh_from_db()
    version = flow.dataset.current_version
    assert "score_x2" in version.column_names and "notes" not in version.column_names
    assert version.row_count < 300


def test_an_apply_fails_with_the_reason_when_the_setting_was_turned_off_since(flow, owner, settings, run_job):
    settings.CUSTOM_CODE_STEPS = True
    flow = services.flow_step_add(flow=flow, user=owner, transform="custom_pandas", params={"code": CODE})
    job = services.flow_apply_start(flow=flow, user=owner)
    settings.CUSTOM_CODE_STEPS = False
    job = run_job(job)
    assert job.status == JobStatus.FAILED and "turned off on this studio" in job.error
    flow.dataset.refresh_from_db()
    assert flow.dataset.current_version.number == 1  # nothing half-written


def test_a_failing_custom_step_fails_the_job_with_the_codes_error(flow, owner, settings, run_job):
    settings.CUSTOM_CODE_STEPS = True
    flow = services.flow_step_add(flow=flow, user=owner, transform="custom_pandas", params={"code": "df = df['nope']"})
    job = run_job(services.flow_apply_start(flow=flow, user=owner))
    assert job.status == JobStatus.FAILED and "KeyError: 'nope'" in job.error


def test_the_step_form_edits_code_in_a_text_area_and_the_builder_shows_the_preview_note(
        client, flow, owner, settings, project):
    settings.CUSTOM_CODE_STEPS = True
    client.force_login(owner)
    form = client.get(f"/p/{project.slug}/flows/{flow.id}/form/?transform=custom_pandas").content.decode()
    assert '<textarea name="param-code"' in form or ('<textarea name="' in form and 'class="code"' in form)
    services.flow_step_add(flow=flow, user=owner, transform="custom_pandas", params={"code": CODE})
    page = client.get(f"/p/{project.slug}/flows/{flow.id}/").content.decode()
    assert 'class="step-note muted small">Custom code runs only when the flow is applied' in page
