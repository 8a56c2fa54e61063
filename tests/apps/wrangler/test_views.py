"""The flow builder pages: every edit re-renders the builder fragment (htmx), errors show at their step."""

from __future__ import annotations

from html import escape

import numpy as np
import pandas as pd
import pytest
from django.urls import reverse

from apps.wrangler import services
from apps.wrangler.models import Flow
from engine.datasets import table_view

from .conftest import RENAME

HX = {"HTTP_HX_REQUEST": "true"}


def url(name, flow, **kwargs):
    return reverse(f"wrangler:{name}", kwargs={"project": flow.project.slug, "flow_id": flow.id, **kwargs})


@pytest.fixture
def signed_in(client, owner):
    client.force_login(owner)
    return client


def test_the_list_shows_flows_and_creates_one_for_a_dataset(signed_in, project, dataset):
    page = signed_in.get(reverse("wrangler:list", kwargs={"project": project.slug}))
    assert page.status_code == 200 and b"Prepare a dataset" in page.content
    response = signed_in.post(reverse("wrangler:create", kwargs={"project": project.slug}),
                              {"dataset": dataset.id, "name": "clean"})
    flow = Flow.objects.get(name="clean")
    assert response.status_code == 302 and response["Location"] == url("builder", flow)


def test_the_builder_shows_steps_preview_counts_and_train_on_this_waits_for_an_apply(signed_in, flow, owner):
    services.flow_step_add(flow=flow, user=owner, transform="rename_columns", params={"mapping": {"score": "risk"}})
    page = signed_in.get(url("builder", flow)).content.decode()
    assert "1. rename_columns" in page and "300 rows × 6 columns (sample of 300 rows, first)" in page
    assert 'class="col-added" data-column="risk"' in page
    assert 'id="train-on-this" disabled title="Apply the flow first' in page


def test_adding_a_step_from_the_form_re_renders_the_builder_with_the_new_preview(signed_in, flow):
    form = signed_in.get(url("step-form", flow) + "?transform=cast_column", **HX).content.decode()
    assert '<option value="visits">visits</option>' in form and 'name="p_to"' in form
    response = signed_in.post(url("step-add", flow), {"transform": "cast_column", "p_column": "visits",
                                                      "p_to": "integer"}, **HX)
    page = response.content.decode()
    assert response.status_code == 200 and page.startswith("{# ") is False and 'id="builder"' in page
    assert "<html" not in page and 'class="col-changed" data-column="visits"' in page
    flow.refresh_from_db()
    assert flow.steps[0]["params"] == {"column": "visits", "to": "integer"}


def test_a_mapping_is_typed_as_old_equals_new_lines(signed_in, flow):
    signed_in.post(url("step-add", flow), {"transform": "rename_columns", "p_mapping": "score=risk\nage = years"}, **HX)
    flow.refresh_from_db()
    assert flow.steps[0]["params"] == {"mapping": {"score": "risk", "age": "years"}}


def test_a_bad_edit_is_saved_and_shown_in_red_at_its_parameter_then_fixed(signed_in, flow, owner):
    flow = services.flow_step_add(flow=flow, user=owner, transform="drop_columns", params={"columns": ["notes"]})
    services.flow_step_add(flow=flow, user=owner, transform="rename_columns", params={"mapping": {"age": "years"}},
                           position=0)
    flow.refresh_from_db()
    step = flow.steps[0]
    page = signed_in.post(url("step-update", flow, step_id=step["id"]), {"p_mapping": "notes=remarks"},
                          **HX).content.decode()
    assert 'class="step-error" role="alert"><span class="param-at-fault">columns</span>' in page
    assert "&#x27;notes&#x27; is not in the data at this step" in page
    assert 'class="param param-error" data-param="columns"' in page  # the failing step's form is open
    assert "remarks (" not in page and '<option value="notes" selected>notes (not in the data here)' in page
    page = signed_in.post(url("undo", flow), **HX).content.decode()
    assert "step-error" not in page


def test_move_toggle_delete_and_undo_answer_the_builder(signed_in, flow, owner):
    flow = services.flow_step_add(flow=flow, user=owner, transform="drop_columns", params={"columns": ["notes"]})
    flow = services.flow_step_add(flow=flow, user=owner, **RENAME)
    first, second = (step["id"] for step in flow.steps)
    assert signed_in.post(url("step-move", flow, step_id=second), {"direction": "up"}, **HX).status_code == 200
    assert signed_in.post(url("step-toggle", flow, step_id=first), **HX).status_code == 200
    flow.refresh_from_db()
    assert [s["id"] for s in flow.steps] == [second, first] and flow.steps[1]["enabled"] is False
    assert signed_in.post(url("step-delete", flow, step_id=first), **HX).status_code == 200
    flow.refresh_from_db()
    assert len(flow.steps) == 1 and len(flow.undo_stack) == 5
    page = signed_in.post(url("step-move", flow, step_id=second), {"direction": "sideways"}, **HX).content.decode()
    assert "Move a step &#x27;up&#x27; or &#x27;down&#x27;." in page


def test_the_picker_searches_names_and_descriptions_grouped_by_family(signed_in, flow):
    page = signed_in.get(url("picker", flow) + "?q=type", **HX).content.decode()
    assert "<h4>Columns</h4>" in page and "cast_column" in page and "rename_columns" not in page
    assert "No transform matches" in signed_in.get(url("picker", flow) + "?q=zzzz", **HX).content.decode()


def test_the_preview_pages_through_the_sample(signed_in, flow):
    page = signed_in.get(url("preview", flow) + "?page=3", **HX).content.decode()
    assert "Page 3 of 3 · rows 201–300" in page


def _shown_as_display_cell_shows_them(preview) -> str:
    """The table body as each JSON-ready value of each row shown through table_view.display_cell (the rule the
    column-at-a-time renderer must follow)."""
    classes = [f' class="col-{column.status}"' if column.status else "" for column in preview.columns]
    rows = []
    for offset, values in enumerate(preview.rows):
        cells = [f'<td class="num muted">{preview.first_row + offset}</td>']
        for value, css in zip(values, classes, strict=True):
            cell = table_view.display_cell(value)
            if cell["null"]:
                cells.append(f'<td{css}><span class="null">null</span></td>')
            else:
                title = f' title="{escape(cell["title"])}"' if cell["title"] else ""
                cells.append(f"<td{css}{title}>{escape(cell['text'])}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return "".join(rows)


def test_preview_cells_show_nulls_escaped_text_titles_and_highlights_as_each_value_would(signed_in, flow, owner,
                                                                                      monkeypatch):
    rows = 130
    frame = pd.DataFrame({
        "number": np.where(np.arange(rows) % 4 == 1, np.nan, np.arange(rows) / 7),
        "count": pd.array([None if i % 5 == 0 else i for i in range(rows)], dtype="Int64"),
        "flag": pd.array([None if i % 6 == 0 else i % 2 == 0 for i in range(rows)], dtype="boolean"),
        "text": pd.Series(["<b>&\"'" if i % 3 else None for i in range(rows)], dtype="str"),
        "long": ["y" * 250 if i % 2 else "2024-01-01T10:00:00" for i in range(rows)],
        "when": pd.date_range("2024-03-30 22:00", periods=rows, freq="37min", tz="Europe/Paris"),
        "things": pd.Series([{"a": [1, "<"]} if i % 2 else None for i in range(rows)], dtype=object),
        "odd <name> & \"quotes'": np.arange(rows) % 2 == 0,
    })
    frame.loc[3, "number"] = np.inf
    monkeypatch.setattr(services, "version_sample", lambda **kwargs: (frame, rows))
    services.flow_step_add(flow=flow, user=owner, transform="formula_column",
                           params={"new_column": "twice", "expression": "number * 2"})
    services.flow_step_add(flow=flow, user=owner, transform="fill_constant", params={"columns": ["count"], "value": "0"})
    flow.refresh_from_db()
    for page in (1, 2):
        preview = services.flow_preview(flow=flow, page=page)
        html = signed_in.get(url("preview", flow) + f"?page={page}", **HX).content.decode()
        assert html.split("<tbody>")[1].split("</tbody>")[0] == _shown_as_display_cell_shows_them(preview)
    html = signed_in.get(url("preview", flow), **HX).content.decode()
    assert '<td><span class="null">null</span></td>' in html and "<td>inf</td>" in html
    assert "<td>&lt;b&gt;&amp;&quot;&#x27;</td>" in html and f'<td title="{"y" * 250}">{"y" * 200}…</td>' in html
    assert '<td class="col-added">0.0</td>' in html and '<td class="col-changed">0</td>' in html
    assert "<td>2024-03-30 22:00:00+01:00</td>" in html and "<td>true</td>" in html
    assert ('<th class="" data-column="odd &lt;name&gt; &amp; &quot;quotes&#x27;" title="unchanged">odd &lt;name&gt; '
            '&amp; &quot;quotes&#x27;<div class="muted small">bool</div></th>') in html
    assert '<th class="col-added" data-column="twice" title="added">twice<div class="muted small">float64</div>' in html


def test_apply_starts_a_job_and_lists_the_run(signed_in, flow, owner):
    services.flow_step_add(flow=flow, user=owner, **RENAME)
    page = signed_in.post(url("apply", flow), **HX).content.decode()
    assert "Started job" in page and "job " in page and "<progress" in page
    assert 'hx-trigger="every 1s"' in page
    from apps.core.models import Job

    job = Job.objects.get(kind="flow.apply")
    job_page = signed_in.get(reverse("jobs:job-detail", kwargs={"job_id": job.id}))
    assert job_page.status_code == 200 and b"Apply flow customers flow (run 1)" in job_page.content


def test_the_script_downloads_as_a_python_attachment(signed_in, flow, owner):
    services.flow_step_add(flow=flow, user=owner, **RENAME)
    response = signed_in.get(url("export", flow))
    assert response.status_code == 200 and response["Content-Disposition"] == 'attachment; filename="customers_flow.py"'
    assert b"def rename_columns" in response.content
    assert signed_in.get(url("fitted", flow)).status_code == 409  # not applied yet


def test_the_schedule_is_kept_as_a_database_periodic_task(signed_in, flow):
    from django_celery_beat.models import PeriodicTask

    signed_in.post(url("schedule", flow), {"schedule": "0 3 * * *", "rerun_on_import": "on"}, **HX)
    task = PeriodicTask.objects.get(name=f"Apply flow {flow.id}")
    assert task.task == "wrangler.apply_scheduled" and str(task.crontab.hour) == "3"
    flow.refresh_from_db()
    assert flow.rerun_on_import
    page = signed_in.post(url("schedule", flow), {"schedule": "every day"}, **HX).content.decode()
    assert "five fields" in page
    signed_in.post(url("schedule", flow), {"schedule": ""}, **HX)
    assert not PeriodicTask.objects.filter(name=f"Apply flow {flow.id}").exists()


def test_a_proposal_adds_a_step_and_redirects_to_the_builder(signed_in, project, dataset):
    response = signed_in.post(reverse("wrangler:proposal_add", kwargs={"project": project.slug}),
                              {"dataset": dataset.id, "transform": "drop_columns", "params": '{"columns": ["notes"]}'})
    flow = Flow.objects.get(dataset=dataset)
    assert response.status_code == 302 and response["Location"] == url("builder", flow)
    assert flow.steps[0]["params"] == {"columns": ["notes"]}
    bad = signed_in.post(reverse("wrangler:proposal_add", kwargs={"project": project.slug}),
                         {"dataset": dataset.id, "transform": "explode", "params": "{}"})
    assert bad.status_code == 400


def test_another_projects_flow_is_not_found_and_a_labeler_cannot_edit(client, flow, stranger, labeler):
    client.force_login(stranger)
    assert client.get(url("builder", flow)).status_code == 404
    assert client.post(url("step-add", flow), {"transform": "drop_columns"}).status_code == 404
    client.force_login(labeler)
    assert client.get(url("builder", flow)).status_code == 200
    assert client.post(url("step-add", flow), {"transform": "drop_columns"}).status_code == 403
    assert client.post(url("apply", flow)).status_code == 403


def test_the_dataset_page_links_to_the_flow_builder(signed_in, dataset):
    page = signed_in.get(reverse("datasets:detail", kwargs={"project": dataset.project.slug, "dataset_id": dataset.id}))
    assert b"Prepare data (flow)" in page.content


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_hostile_names_and_values_render_escaped(signed_in, flow, owner):
    services.flow_update(flow=flow, user=owner, name=XSS)
    services.flow_step_add(flow=flow, user=owner, transform="rename_columns", params={"mapping": {"city": XSS}})
    services.flow_step_add(flow=flow, user=owner, transform="drop_columns", params={"columns": [XSS + "2"]},
                           strict=False)
    for page in (signed_in.get(url("builder", flow)), signed_in.get(url("preview", flow), **HX),
                 signed_in.get(reverse("wrangler:list", kwargs={"project": flow.project.slug}))):
        text = page.content.decode()
        assert "<script>alert" not in text and "<img src=x" not in text
