from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.registry.models import ApprovalStatus, ModelGroup, ModelVersion
from apps.registry.services import model_card_update, model_version_register_training


def url(name: str, project, **kwargs) -> str:
    return reverse(f"registry:{name}", kwargs={"project": project.slug, **kwargs})


def test_the_models_area_is_built_and_opens_the_registry(client, project, owner):
    client.force_login(owner)
    response = client.get(reverse("core:area", kwargs={"project": project.slug, "area": "models"}))
    assert response.status_code == 200  # /p/<project>/models/ is the registry itself
    assert "Model groups in Alpha" in response.content.decode()


@pytest.mark.parametrize(("role", "shown"), [("ml_engineer", True), ("data_scientist", True), ("analyst", False)])
def test_the_training_job_page_offers_register_model_to_roles_that_manage_models(client, trained, member, role,
                                                                                 shown):
    client.force_login(member(role))
    page = client.get(reverse("training:detail", kwargs={"project": trained.project.slug,
                                                         "training_job_id": trained.id})).content.decode()
    assert ('id="register-model"' in page) is shown


def test_registering_from_a_training_job_into_a_new_group(client, trained, owner, project):
    client.force_login(owner)
    form_url = url("register", project) + f"?training_job={trained.id}"
    assert trained.name in client.get(form_url).content.decode()
    response = client.post(form_url, {"new_group": "penguins-model", "description": "first try"})
    version = ModelVersion.objects.get()
    assert response.status_code == 302 and response["Location"] == url("version", project, version_id=version.id)
    page = client.get(response["Location"]).content.decode()
    assert "penguins-model version 1" in page and "checksum verified" in page
    assert "none: endpoints are not built yet" in page


def test_registering_a_failed_job_shows_the_reason_on_the_form(client, trained, owner, project):
    trained.job.status = "Failed"
    trained.job.save()
    client.force_login(owner)
    response = client.post(url("register", project) + f"?training_job={trained.id}", {"new_group": "g"})
    assert response.status_code == 400
    assert "Only a completed training job can be registered" in response.content.decode()
    assert not ModelGroup.objects.filter(name="g").exists()  # the new group went with the refused version


def test_a_duplicate_group_name_is_shown_at_its_field(client, group, owner, project):
    client.force_login(owner)
    response = client.post(url("group-create", project), {"name": group.name})
    assert response.status_code == 400 and "already" in response.content.decode()


def test_an_uploaded_pickle_is_refused_on_the_form_and_never_unpickled(client, group, owner, project, pickle_canary):
    data, marker = pickle_canary
    client.force_login(owner)
    response = client.post(url("register", project), {
        "group": str(group.id), "file": SimpleUploadedFile("model.skops", data)})
    assert response.status_code == 400
    assert "never loads them" in response.content.decode()
    assert not marker.exists() and not ModelVersion.objects.exists()


def test_an_uploaded_xgboost_model_is_registered_from_the_form(client, group, owner, project, xgboost_files):
    client.force_login(owner)
    response = client.post(url("register", project), {
        "group": str(group.id), "file": SimpleUploadedFile("booster.ubj", xgboost_files["ubj"])})
    assert response.status_code == 302
    assert ModelVersion.objects.get().format == "xgboost-ubj"


def test_an_approver_changes_the_status_and_the_history_shows_it(client, version, member, project):
    engineer = member("ml_engineer")
    client.force_login(engineer)
    page = client.get(url("version", project, version_id=version.id)).content.decode()
    assert "Change approval" in page
    response = client.post(url("approval", project, version_id=version.id),
                           {"status": ApprovalStatus.APPROVED, "comment": "holdout looks good"})
    assert response.status_code == 302
    page = client.get(url("version", project, version_id=version.id)).content.decode()
    assert "holdout looks good" in page and engineer.username in page
    version.refresh_from_db()
    assert version.approval_status == ApprovalStatus.APPROVED


def test_a_role_that_cannot_approve_sees_no_button_and_gets_403(client, version, member, project):
    client.force_login(member("data_scientist"))
    page = client.get(url("version", project, version_id=version.id)).content.decode()
    assert "Change approval" not in page
    response = client.post(url("approval", project, version_id=version.id), {"status": ApprovalStatus.APPROVED})
    assert response.status_code == 403
    version.refresh_from_db()
    assert version.approval_status == ApprovalStatus.PENDING


def test_a_tampered_version_says_so_and_its_download_is_refused(client, version, owner, project, tamper):
    tamper(version)
    client.force_login(owner)
    page = client.get(url("version", project, version_id=version.id)).content.decode()
    assert "no longer matches the sha256" in page and "checksum verified" not in page
    response = client.get(url("download", project, version_id=version.id))
    assert response.status_code == 409 and "changed or damaged" in response.content.decode()


def test_aliases_from_the_group_page(client, version, group, owner, project):
    client.force_login(owner)
    client.post(url("alias-set", project, group_id=group.id), {"name": "champion", "version": str(version.id)})
    assert "champion" in client.get(url("group", project, group_id=group.id)).content.decode()
    response = client.post(url("alias-set", project, group_id=group.id), {"name": "Not A Slug",
                                                                          "version": str(version.id)})
    assert response.status_code == 400 and "lower-case" in response.content.decode()
    client.post(url("alias-remove", project, group_id=group.id), {"name": "champion"})
    assert not group.aliases.exists()


def test_compare_marks_the_best_value_of_each_metric(client, version, group, trained, owner, project):
    second = model_version_register_training(group=group, training=trained, user=owner)
    second.metrics = {**second.metrics, "accuracy": 0.1}
    second.save()
    client.force_login(owner)
    page = client.get(url("compare", project, group_id=group.id)).content.decode()
    row = page[page.index('data-metric="accuracy"'):]
    row = row[:row.index("</tr>")]
    assert row.count("★ best") == 1
    assert row.index("★ best") < row.index("0.1000")  # v1 (better accuracy) is the first column


def test_lineage_names_every_step_and_says_endpoints_are_not_built(client, version, trained, owner, project):
    client.force_login(owner)
    page = client.get(url("lineage", project, version_id=version.id)).content.decode()
    assert "penguins v1" in page and trained.name in page and trained.run.name in page
    assert "no endpoints yet: endpoints are not built yet" in page


def test_card_edit_saves_a_revision_and_history_shows_the_diff(client, version, owner, project):
    client.force_login(owner)
    response = client.post(url("card-edit", project, version_id=version.id), {
        "status": "PendingReview", "risk_rating": "high", "overview": "Sorts penguins",
        "risk_explanation": "Used for <script>alert(1)</script> field work", "custom_fields": "team: birds"})
    assert response.status_code == 302
    card_page = client.get(url("card", project, version_id=version.id)).content.decode()
    assert "Sorts penguins" in card_page and "High" in card_page and "birds" in card_page
    assert "<script>alert(1)</script>" not in card_page and "&lt;script&gt;" in card_page
    history = client.get(url("card-history", project, version_id=version.id)).content.decode()
    assert "+Sorts penguins" in history and "Revision 1 → revision 2" in history


def test_card_edit_rejects_a_bad_custom_field_line(client, version, owner, project):
    client.force_login(owner)
    response = client.post(url("card-edit", project, version_id=version.id), {
        "status": "Draft", "risk_rating": "low", "custom_fields": "no separator here"})
    assert response.status_code == 400 and "is not &#x27;key: value&#x27;" in response.content.decode()


def test_the_card_exports_as_pdf_html_and_json(client, version, owner, project):
    model_card_update(card=version.card, user=owner, changes={"overview": "Exported overview"})
    client.force_login(owner)
    pdf = client.get(url("card-export-pdf", project, version_id=version.id))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    assert "attachment" in pdf["Content-Disposition"]
    html = client.get(url("card-export-html", project, version_id=version.id))
    assert "Exported overview" in html.content.decode()
    assert client.get(url("card-export-json", project, version_id=version.id)).json()["card"]["overview"] == \
        "Exported overview"


def test_the_dashboard_lists_every_version_and_says_what_is_not_built(client, version, owner, project):
    model_card_update(card=version.card, user=owner, changes={"risk_rating": "medium"})
    client.force_login(owner)
    page = client.get(url("dashboard", project)).content.decode()
    assert "penguin-species v1" in page and "Medium" in page and "Pending manual approval" in page
    assert "no monitor" in page and "endpoints are not built yet" in page and "batch jobs are not built yet" in page


def test_a_labeler_cannot_see_models_and_a_stranger_gets_404(client, version, member, make_user, project):
    client.force_login(member("labeler"))
    assert client.get(url("version", project, version_id=version.id)).status_code == 403
    client.force_login(make_user("stranger"))
    assert client.get(url("version", project, version_id=version.id)).status_code == 404


def test_the_automl_job_page_registers_its_best_model(client, project, owner, penguins, run_job):
    from apps.automl.services import automl_job_start

    automl = automl_job_start(project=project, user=owner, dataset=penguins, target="species", budget="custom",
                              budget_seconds=10, algorithms=["linear_learner"], max_trials=2, folds=3)
    run_job(automl.job)
    client.force_login(owner)
    page = client.get(reverse("automl:detail", kwargs={"project": project.slug, "automl_job_id": automl.id}))
    assert 'id="register-model"' in page.content.decode()
    response = client.post(url("register", project) + f"?automl_job={automl.id}", {"new_group": "auto"})
    assert response.status_code == 302
    version = ModelVersion.objects.get()
    assert version.source == "automl" and version.automl_job_id == automl.id and version.group.name == "auto"
    card = client.get(url("card", project, version_id=version.id)).content.decode()
    assert "Best model of AutoML job" in card and 'id="card-charts"' in card and "data-plotly" in card
