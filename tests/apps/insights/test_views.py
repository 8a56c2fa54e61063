"""The Quality and insights section of the dataset page and the report page, as members see them."""

from __future__ import annotations

import json
import re

from apps.core.models import JobStatus
from apps.core.roles import Role
from apps.insights.models import InsightsReport


def section(client, dataset):
    return client.get(f"/p/alpha/data/{dataset.id}/insights/")


def test_the_dataset_page_loads_the_insights_section(client, owner, dataset):
    client.force_login(owner)
    page = client.get(f"/p/alpha/data/{dataset.id}/").content.decode()
    assert f'hx-get="/p/alpha/data/{dataset.id}/insights/"' in page and 'hx-trigger="load"' in page


def test_the_section_offers_the_form_with_the_columns_and_lists_reports(client, owner, dataset, done_report):
    client.force_login(owner)
    body = section(client, dataset).content.decode()
    assert f'action="/p/alpha/data/{dataset.id}/insights/start/"' in body
    assert '<option value="diagnosis">diagnosis</option>' in body and "Regression" in body
    assert f"/insights/{done_report.id}/" in body and "Completed" in body


def test_a_labeler_can_read_reports_but_gets_no_form(client, dataset, done_report, member):
    client.force_login(member(Role.LABELER))
    body = section(client, dataset).content.decode()
    assert "does not allow you to run jobs" in body and "insights/start/" not in body
    assert client.get(f"/p/alpha/data/{dataset.id}/insights/{done_report.id}/").status_code == 200
    assert client.post(f"/p/alpha/data/{dataset.id}/insights/start/", {"target": ""}).status_code == 403


def test_starting_a_report_redirects_to_its_page_which_polls_the_job(client, owner, dataset):
    client.force_login(owner)
    response = client.post(f"/p/alpha/data/{dataset.id}/insights/start/", {"target": "diagnosis", "problem_type": ""})
    report = InsightsReport.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/p/alpha/data/{dataset.id}/insights/{report.id}/"
    page = client.get(response["Location"]).content.decode()
    assert f'hx-get="/p/alpha/data/{dataset.id}/insights/{report.id}/live/"' in page and "Waiting for a worker" in page
    live = client.get(f"/p/alpha/data/{dataset.id}/insights/{report.id}/live/")
    assert live.status_code == 200 and "<progress" in live.content.decode()


def test_a_bad_target_shows_the_form_again_with_the_reason(client, owner, dataset):
    client.force_login(owner)
    response = client.post(f"/p/alpha/data/{dataset.id}/insights/start/", {"target": "price"})
    assert response.status_code == 400 and "price is not one of the available choices" in response.content.decode()
    assert not InsightsReport.objects.exists()


def test_once_done_the_live_fragment_stops_polling_and_shows_the_report(client, owner, dataset, done_report):
    client.force_login(owner)
    live = client.get(f"/p/alpha/data/{dataset.id}/insights/{done_report.id}/live/")
    assert live.status_code == 286
    assert 'id="report-warnings"' in live.content.decode()


def test_the_report_page_shows_warnings_with_thresholds_and_proposals(
        client, owner, dataset, done_report):
    client.force_login(owner)
    body = client.get(f"/p/alpha/data/{dataset.id}/insights/{done_report.id}/").content.decode()
    assert "<td>Target leakage</td>" in body and "<td>Constant</td>" in body
    assert "prediction power ≥ 0.95" in body and "1 distinct value or fewer" in body
    proposal = re.search(r'<div class="proposal" data-transform="drop_columns" data-params=\'([^\']+)\'>', body)
    assert proposal and json.loads(proposal.group(1).replace("&quot;", '"'))["columns"]
    assert 'data-plotly="chart-importance"' in body and 'data-plotly="chart-power"' in body
    assert 'id="chart-column-0" type="application/json"' in body and "<dt>ROC AUC</dt>" in body
    assert 'id="report-anomalies"' in body


def test_each_proposal_posts_to_the_flow_builder_which_adds_the_step(client, owner, dataset, done_report):
    from apps.wrangler.models import Flow

    client.force_login(owner)
    body = client.get(f"/p/alpha/data/{dataset.id}/insights/{done_report.id}/").content.decode()
    assert 'action="/p/alpha/flows/proposal/"' in body
    assert f'name="dataset" value="{dataset.id}"' in body and 'name="transform" value="drop_columns"' in body
    proposal = re.search(r'name="params" value="([^"]+)"', body)
    response = client.post("/p/alpha/flows/proposal/", {
        "dataset": dataset.id, "transform": "drop_columns", "params": proposal.group(1).replace("&quot;", '"'),
    })
    flow = Flow.objects.get(dataset=dataset)
    assert response.status_code == 302 and response["Location"].endswith(f"/flows/{flow.id}/")
    assert [step["transform"] for step in flow.steps] == ["drop_columns"]


def test_a_failed_report_shows_the_reason(client, owner, dataset, run_job):
    from apps.insights.services import insights_report_start

    report = insights_report_start(dataset=dataset, user=owner, target="size")
    InsightsReport.objects.filter(id=report.id).update(target="gone")
    assert run_job(report.job).status == JobStatus.FAILED
    client.force_login(owner)
    body = client.get(f"/p/alpha/data/{dataset.id}/insights/{report.id}/").content.decode()
    assert "The report could not be made" in body and "no column called &#x27;gone&#x27;" in body


def test_strangers_get_404_for_the_section_and_the_report(client, stranger, dataset, done_report):
    client.force_login(stranger)
    assert section(client, dataset).status_code == 404
    assert client.get(f"/p/alpha/data/{dataset.id}/insights/{done_report.id}/").status_code == 404


def test_chart_labels_escape_what_plotly_would_read_as_markup():
    from apps.insights.charts import bars_figure, top_values_figure

    top = top_values_figure("x", [{"value": '<a href="https://evil.example">click</a>', "count": 1}])
    assert top["data"][0]["y"] == ['&lt;a href="https://evil.example"&gt;click&lt;/a&gt;']
    bars = bars_figure("<b>t</b>", ["<i>col</i>"], [0.5], x_title="")
    assert bars["data"][0]["y"] == ["&lt;i&gt;col&lt;/i&gt;"] and bars["layout"]["title"]["text"] == "&lt;b&gt;t&lt;/b&gt;"
