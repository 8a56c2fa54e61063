"""The Training pages: list, form (fields follow the algorithm), starting a job, the live page and the
evaluation once done."""

from __future__ import annotations

from django.urls import reverse

from apps.core.roles import Role
from apps.training.models import TrainingJob


def test_the_form_lists_ready_datasets_their_columns_and_the_algorithms_hyperparameters(client, owner, project,
                                                                                      penguins) -> None:
    client.force_login(owner)
    page = client.get(reverse("training:new", kwargs={"project": project.slug}), {"dataset": penguins.id})
    body = page.content.decode()
    assert page.status_code == 200
    assert '<option value="species">species</option>' in body
    assert 'name="hp_n_estimators"' in body and 'name="hp_learning_rate"' in body


def test_changing_the_algorithm_swaps_the_hyperparameter_fields(client, owner, project, penguins) -> None:
    client.force_login(owner)
    fragment = client.get(reverse("training:form", kwargs={"project": project.slug}),
                          {"dataset": penguins.id, "algorithm": "mlp"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'name="hp_epochs"' in fragment and 'name="hp_hidden_layers"' in fragment
    assert 'name="hp_processes"' in fragment
    assert 'name="hp_n_estimators"' not in fragment


def test_posting_the_form_starts_a_job_and_opens_its_page(client, owner, project, penguins) -> None:
    client.force_login(owner)
    response = client.post(reverse("training:new", kwargs={"project": project.slug}), {
        "dataset": penguins.id, "algorithm": "knn", "target": "species", "validation": "holdout",
        "test_share": "0.25", "folds": "5", "hp_n_neighbors": "7", "hp_weights": "distance", "hp_metric": "euclidean"})
    training = TrainingJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("training:detail", kwargs={"project": project.slug,
                                                                      "training_job_id": training.id})
    assert training.hyperparameters == {"n_neighbors": 7, "weights": "distance", "metric": "euclidean"}
    assert training.test_share == 0.25 and training.job.queue == "training"


def test_a_bad_hyperparameter_is_shown_at_its_field_and_nothing_is_saved(client, owner, project, penguins) -> None:
    client.force_login(owner)
    response = client.post(reverse("training:new", kwargs={"project": project.slug}), {
        "dataset": penguins.id, "algorithm": "knn", "target": "species", "validation": "holdout",
        "test_share": "0.2", "folds": "5", "hp_n_neighbors": "0", "hp_weights": "uniform", "hp_metric": "euclidean"})
    body = response.content.decode()
    assert response.status_code == 400
    assert "N neighbors must be at least 1; got 0." in body
    assert not TrainingJob.objects.exists()


def test_the_detail_page_shows_the_evaluation_and_the_bundle_link(client, owner, project, trained) -> None:
    client.force_login(owner)
    body = client.get(reverse("training:detail", kwargs={"project": project.slug,
                                                         "training_job_id": trained.id})).content.decode()
    assert 'data-metric="balanced_accuracy"' in body and "objective" in body
    assert f"/api/v1/artifacts/{trained.model.uuid}/download/" in body
    assert 'data-plotly="figure-confusion"' in body and 'data-plotly="curve-mlogloss"' in body


def test_the_live_fragment_stops_polling_once_the_job_has_ended(client, owner, project, trained) -> None:
    client.force_login(owner)
    response = client.get(reverse("training:live", kwargs={"project": project.slug, "training_job_id": trained.id}),
                          HTTP_HX_REQUEST="true")
    assert response.status_code == 286
    assert 'id="evaluation"' in response.content.decode()


def test_the_list_shows_each_job_with_its_objective(client, owner, project, trained) -> None:
    client.force_login(owner)
    body = client.get(reverse("training:list", kwargs={"project": project.slug})).content.decode()
    assert trained.name in body and "balanced_accuracy" in body


def test_an_analyst_can_train_and_a_labeler_cannot_open_the_form(client, project, member, penguins) -> None:
    client.force_login(member(Role.ANALYST))
    assert client.get(reverse("training:new", kwargs={"project": project.slug})).status_code == 200
    client.force_login(member(Role.LABELER))
    assert client.get(reverse("training:new", kwargs={"project": project.slug})).status_code == 403


def test_train_on_this_hands_the_flows_output_to_the_form(client, owner, project, penguins, run_job) -> None:
    from apps.wrangler.services import flow_apply_start, flow_create, flow_step_add

    flow = flow_create(project=project, user=owner, dataset=penguins, name="prep")
    flow = flow_step_add(flow=flow, user=owner, transform="scale_standard", params={"columns": ["bill_length_mm"]})
    job = flow_apply_start(flow=flow, user=owner)
    run_job(job)
    flow.refresh_from_db()
    run = flow.trainable_run
    client.force_login(owner)
    body = client.get(reverse("wrangler:builder", kwargs={"project": project.slug, "flow_id": flow.id})).content.decode()
    link = (f"{reverse('training:new', kwargs={'project': project.slug})}?dataset={run.output_version.dataset_id}"
            f"&amp;version={run.output_version.number}&amp;flow_run={run.id}")
    assert link in body
    form = client.get(reverse("training:new", kwargs={"project": project.slug}),
                      {"dataset": run.output_version.dataset_id, "version": run.output_version.number,
                       "flow_run": run.id}).content.decode()
    assert f'<option value="{run.id}" selected>' in form


SCRIPT = "import os\nprint('loss=0.25')\nprint('<script>alert(1)</script>')\n"


def test_the_script_form_offers_upload_paste_limits_and_says_why_isolation_is_off(client, owner, project,
                                                                                 penguins, settings,
                                                                                 monkeypatch) -> None:
    monkeypatch.setattr("apps.training.views.network_isolation_problem", lambda: "user namespaces are not allowed")
    settings.SCRIPT_TIMEOUT_SECONDS = 900
    client.force_login(owner)
    body = client.get(reverse("training:new-script", kwargs={"project": project.slug})).content.decode()
    assert 'type="file" name="script_file"' in body and '<textarea name="script"' in body
    assert 'enctype="multipart/form-data"' in body and 'max="900"' in body
    assert 'name="network_isolation"' in body and "disabled" in body
    assert "Not available on this server: user namespaces are not allowed." in body
    assert '<option value="species">species</option>' in body


def test_posting_a_pasted_script_starts_a_script_job(client, owner, project, penguins, settings) -> None:
    client.force_login(owner)
    response = client.post(reverse("training:new-script", kwargs={"project": project.slug}), {
        "dataset": penguins.id, "script": SCRIPT, "hyperparameters": '{"epochs": 2}',
        "metric_definitions": '[{"name": "loss", "regex": "loss=([0-9.]+)"}]', "timeout_seconds": "60",
        "memory_mb": "512"})
    training = TrainingJob.objects.get()
    assert response.status_code == 302, response.content.decode()[:2000]
    assert training.kind == "script" and training.timeout_seconds == 60 and training.memory_mb == 512
    assert training.hyperparameters == {"epochs": 2} and training.job.kind == "training.script"


def test_an_uploaded_script_file_is_used_and_bad_json_is_shown_at_its_field(client, owner, project,
                                                                            penguins) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(owner)
    url = reverse("training:new-script", kwargs={"project": project.slug})
    bad = client.post(url, {"dataset": penguins.id, "script": SCRIPT, "hyperparameters": "{epochs: 2}",
                            "metric_definitions": "[]", "timeout_seconds": "60", "memory_mb": "512"})
    assert bad.status_code == 400 and "Hyperparameters must be JSON" in bad.content.decode()
    regex = client.post(url, {"dataset": penguins.id, "script": SCRIPT, "hyperparameters": "{}",
                              "metric_definitions": '[{"name": "loss", "regex": "loss"}]', "timeout_seconds": "60",
                              "memory_mb": "512"})
    assert regex.status_code == 400 and "capture group" in regex.content.decode()
    assert not TrainingJob.objects.exists()
    uploaded = client.post(url, {"dataset": penguins.id, "script_file": SimpleUploadedFile("train.py", b"print(1)\n"),
                                 "hyperparameters": "{}", "metric_definitions": "[]", "timeout_seconds": "60",
                                 "memory_mb": "512"})
    assert uploaded.status_code == 302
    from apps.training.services import training_script_source

    assert training_script_source(training=TrainingJob.objects.get()) == "print(1)\n"


def test_an_analyst_cannot_open_the_script_form_and_a_data_scientist_can(client, project, member,
                                                                       penguins) -> None:
    url = reverse("training:new-script", kwargs={"project": project.slug})
    client.force_login(member(Role.ANALYST))
    assert client.get(url).status_code == 403
    assert client.post(url, {"dataset": penguins.id, "script": SCRIPT}).status_code == 403
    assert "Train with your own script" not in client.get(
        reverse("training:list", kwargs={"project": project.slug})).content.decode()
    client.force_login(member(Role.DATA_SCIENTIST))
    assert client.get(url).status_code == 200


def test_a_script_jobs_page_shows_the_escaped_script_its_metrics_and_charts(client, owner, project, penguins,
                                                                           run_job, settings, tmp_path) -> None:
    from apps.training.services import training_script_start

    settings.SCRIPT_WORK_ROOT = tmp_path
    script = SCRIPT + "print('loss=0.125')\nopen(__import__('os').environ['SM_MODEL_DIR'] + '/m.txt', 'w').write('1')\n"
    training = training_script_start(project=project, user=owner, dataset=penguins, script=script,
                                     metric_definitions=[{"name": "loss", "regex": r"loss=([0-9.]+)"}],
                                     timeout_seconds=60, memory_mb=1024)
    job = run_job(training.job)
    assert job.status == "Completed", job.error
    client.force_login(owner)
    body = client.get(reverse("training:detail", kwargs={"project": project.slug,
                                                         "training_job_id": training.id})).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert(1)" not in body
    assert '<pre class="code">' in body and "loss: loss=([0-9.]+)" in body
    assert "60 s, 1024 MB, with network access" in body
    assert reverse("jobs:job-detail", kwargs={"job_id": job.id}) in body
    assert 'data-metric="loss"' in body and "0.1250" in body and 'data-plotly="curve-0"' in body
    assert "Download model.tar.gz" in body and 'id="evaluation-charts"' not in body


def test_the_detail_page_offers_onnx_and_the_file_downloads(client, owner, project, trained) -> None:
    import onnx

    client.force_login(owner)
    url = reverse("training:onnx", kwargs={"project": project.slug, "training_job_id": trained.id})
    body = client.get(reverse("training:detail", kwargs={"project": project.slug,
                                                         "training_job_id": trained.id})).content.decode()
    assert "Download ONNX" in body and url in body
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/octet-stream"
    assert f'filename="training-{trained.id}-xgboost.onnx"' in response["Content-Disposition"]
    assert [entry.name for entry in onnx.load_from_string(response.content).graph.output] == ["prediction",
                                                                                              "probabilities"]


def test_the_onnx_download_follows_the_view_role(client, project, member, stranger, trained) -> None:
    url = reverse("training:onnx", kwargs={"project": project.slug, "training_job_id": trained.id})
    detail = reverse("training:detail", kwargs={"project": project.slug, "training_job_id": trained.id})
    client.force_login(member(Role.LABELER))
    assert client.get(url).status_code == client.get(detail).status_code  # the same VIEW role as the page
    client.force_login(stranger)
    assert client.get(url).status_code == 404


def test_a_model_that_cannot_be_exported_says_why(client, owner, project, trained, monkeypatch) -> None:
    import engine.training.onnx_export as onnx_export

    monkeypatch.setattr(onnx_export, "EXPORTABLE", ())
    client.force_login(owner)
    body = client.get(reverse("training:detail", kwargs={"project": project.slug,
                                                         "training_job_id": trained.id})).content.decode()
    assert "ONNX export is not available for this model" in body and "no ONNX converter" in body
    response = client.get(reverse("training:onnx", kwargs={"project": project.slug, "training_job_id": trained.id}))
    assert response.status_code == 409
