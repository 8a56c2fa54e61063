"""The model registry in a real browser: register a trained model from its training job's page, approve the
version, edit its model card, export the card as PDF, and open the model dashboard."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_register_approve_document_and_export_a_model(member, project, run_job, sign_in, page_problems, tmp_path):
    from apps.core.management.commands.load_demo import penguins_frame
    from apps.datasets.services import dataset_import_dataframe
    from apps.training.services import training_job_start

    user = member("ml_engineer", "mia")
    dataset = dataset_import_dataframe(project=project, user=user, name="penguins", frame=penguins_frame())
    training = training_job_start(project=project, user=user, dataset=dataset, algorithm="xgboost",
                                  target="species", hyperparameters={"n_estimators": 30}, name="penguins-xgb")
    run_job(training.job)

    page = sign_in("mia")
    page.goto(f"/p/{project.slug}/training/{training.id}/")
    with page.expect_navigation():
        page.get_by_role("link", name="Register model").click()
    expect(page.locator("#register-source")).to_contain_text("penguins-xgb")
    page.get_by_label("or a new group named").fill("penguin-species")
    page.get_by_label("Description").fill("Tells Adelie, Chinstrap and Gentoo apart.")
    with page.expect_navigation():
        page.get_by_role("button", name="Register").click()
    expect(page).to_have_url(re.compile(rf"/p/{project.slug}/models/versions/\d+/$"))
    expect(page.get_by_role("heading", name="penguin-species version 1")).to_be_visible()
    expect(page.locator("#checksum-ok")).to_have_text("checksum verified")
    expect(page.locator("#approval-status")).to_have_text("Pending manual approval")

    page.get_by_label("Status").select_option("Approved")
    page.get_by_label("Comment").fill("Balanced accuracy holds on the holdout rows.")
    with page.expect_navigation():
        page.get_by_role("button", name="Change approval").click()
    expect(page.locator("#approval-status")).to_have_text("Approved")
    expect(page.locator(".approval-history")).to_contain_text("Balanced accuracy holds on the holdout rows.")

    with page.expect_navigation():
        page.get_by_role("link", name="Model card", exact=True).click()
    expect(page.locator(".card-section").filter(has_text="Training details")).to_contain_text("penguins")
    with page.expect_navigation():
        page.get_by_role("link", name="Edit card").click()
    page.get_by_label("Overview").fill("Predicts a penguin's species from its measurements and island.")
    page.get_by_label("Intended uses").fill("Field surveys in the Palmer archipelago; not for other species.")
    page.get_by_label("Risk rating", exact=True).select_option("low")
    page.get_by_label("Why this risk rating").fill("Wrong answers cost a second look, nothing more.")
    page.get_by_label("Custom fields").fill("owner: seabird team\nreview: yearly")
    with page.expect_navigation():
        page.get_by_role("button", name="Save card").click()
    expect(page.locator("#risk-rating")).to_have_text("Low")
    expect(page.locator("#custom-fields")).to_contain_text("seabird team")
    expect(page.locator('#card-charts [data-plotly] svg.main-svg').first).to_be_visible()
    screenshot(page, "registry")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export PDF").click()
    pdf = tmp_path / "card.pdf"
    download_info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert download_info.value.suggested_filename == "model-card-penguin-species-v1.pdf"

    with page.expect_navigation():
        page.get_by_role("link", name="Card history").click()
    expect(page.locator("#diff")).to_contain_text("+Predicts a penguin's species")

    page.goto(f"/p/{project.slug}/models/dashboard/")
    row = page.locator(".model-dashboard tbody tr").first
    expect(row).to_contain_text("penguin-species v1")
    expect(row).to_contain_text("Low")
    expect(row).to_contain_text("Approved")
    expect(row).to_contain_text("no monitor")
    screenshot(page, "model-dashboard", full_page=False)
    page_problems.assert_none()
