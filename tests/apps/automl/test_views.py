"""The AutoML pages: reached from Training, the form with the inferred problem type, the live page that stops
polling (286) once the job has ended, the report, what-if and batch prediction."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from apps.automl.models import AutoMLJob
from apps.core.roles import Role


def test_the_training_list_links_to_automl_and_no_longer_calls_it_unbuilt(client, owner, project):
    client.force_login(owner)
    page = client.get(f"/p/{project.slug}/training/").content.decode()
    assert f"/p/{project.slug}/training/automl/" in page
    assert f"/p/{project.slug}/tuning/" in page
    assert "Not built yet" not in page


def test_the_form_shows_the_problem_type_inferred_from_the_target(client, owner, project, penguins):
    client.force_login(owner)
    fields = client.get(f"/p/{project.slug}/training/automl/form/",
                        {"dataset": penguins.id, "target": "species"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Problem type inferred from the target: <strong>Multiclass classification</strong>" in fields
    fields = client.get(f"/p/{project.slug}/training/automl/form/",
                        {"dataset": penguins.id, "target": "body_mass_g"}).content.decode()
    assert "<strong>Regression</strong>" in fields
    assert "Advanced (Autopilot)" in fields


def test_an_analyst_starts_a_build_from_the_form_and_a_short_budget_is_refused(client, member, project, penguins):
    analyst = member(Role.ANALYST)
    client.force_login(analyst)
    url = f"/p/{project.slug}/training/automl/new/"
    refused = client.post(url, {"dataset": penguins.id, "target": "species", "budget": "custom",
                                "budget_seconds": 3, "folds": 5, "test_share": 0.2})
    assert refused.status_code == 400
    started = client.post(url, {"dataset": penguins.id, "target": "species", "budget": "custom",
                                "budget_seconds": 20, "folds": 5, "test_share": 0.2})
    automl = AutoMLJob.objects.get()
    assert started.status_code == 302 and started["Location"].endswith(f"/training/automl/{automl.id}/")
    live = client.get(f"/p/{project.slug}/training/automl/{automl.id}/live/")
    assert live.status_code == 200 and b"The first candidates appear here" in live.content


def test_a_completed_build_shows_its_report_and_answers_what_if_and_batch(client, owner, project, built):
    client.force_login(owner)
    base = f"/p/{project.slug}/training/automl/{built.id}/"
    live = client.get(base + "live/")
    assert live.status_code == 286
    page = client.get(base).content.decode()
    for part in ('id="leaderboard"', 'id="best-model"', "figure-confusion", "automl-importance", "Python script",
                 "Jupyter notebook", 'id="onnx"', 'id="what-if-form"', "Global importance by"):
        assert part in page, part
    row = {f"col_{key}": "" if value is None else value for key, value in built.summary["typical_row"].items()}
    answer = client.post(base + "what-if/", {**row, "col_flipper_length_mm": 230, "col_bill_length_mm": 55,
                                             "col_island": "Biscoe"}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200 and b"Gentoo" in answer.content and b"Impact" in answer.content
    wrong = client.post(base + "what-if/", {**row, "col_body_mass_g": "heavy"}, HTTP_HX_REQUEST="true")
    assert wrong.status_code == 400 and b"body_mass_g" in wrong.content
    csv = b"island,bill_length_mm\nBiscoe,40\n"
    refused = client.post(base + "predict/", {"file": SimpleUploadedFile("rows.csv", csv, "text/csv")})
    assert refused.status_code == 400 and b"bill_depth_mm" in refused.content
    import palmerpenguins

    good = palmerpenguins.load_penguins().head(3).to_csv(index=False).encode()
    predicted = client.post(base + "predict/", {"file": SimpleUploadedFile("rows.csv", good, "text/csv")})
    assert predicted.status_code == 200 and predicted["Content-Disposition"].startswith("attachment")
    assert len(predicted.content.decode().strip().splitlines()) == 4


def test_labelers_cannot_open_automl_pages(client, labeler, project):
    client.force_login(labeler)
    assert client.get(f"/p/{project.slug}/training/automl/").status_code == 403


def test_the_best_model_downloads_as_onnx_or_the_page_says_why_not(client, owner, project, built):
    import onnx

    from apps.automl.services import automl_onnx_status

    client.force_login(owner)
    base = f"/p/{project.slug}/training/automl/{built.id}/"
    ok, reason = automl_onnx_status(automl=built)
    page = client.get(base).content.decode()
    download = client.get(base + "onnx/")
    if ok:  # a single model: the file loads and takes one feature per column of the bundle's plan
        assert download.status_code == 200 and "Download ONNX" in page
        graph = onnx.load_from_string(download.content).graph
        assert graph.input[0].type.tensor_type.shape.dim[1].dim_value > 0
    else:  # an ensemble: the reason, on the page and in the refusal
        assert download.status_code == 409 and reason in page
        assert "ONNX export is not available for this model" in page
