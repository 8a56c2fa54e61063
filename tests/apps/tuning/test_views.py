"""The Tuning pages: the list (and its place in the Training area), the form with its ranges editor, the
job's page with trials and charts, live polling that stops with 286, and Stop."""

from __future__ import annotations

from apps.core.models import Job, JobStatus
from apps.core.roles import Role
from apps.tuning.models import TuningJob
from apps.tuning.services import tuning_job_finish


def _page(client, user, url, **kwargs):
    client.force_login(user)
    return client.get(url, **kwargs)


def test_the_training_list_links_to_the_tuning_jobs(client, owner, project) -> None:
    page = _page(client, owner, f"/p/{project.slug}/training/").content.decode()
    assert f'href="/p/{project.slug}/tuning/"' in page and "Tuning jobs" in page


def test_the_list_shows_each_tuning_job(client, owner, project, start_tuning) -> None:
    tuning = start_tuning(name="Penguin search")
    page = _page(client, owner, f"/p/{project.slug}/tuning/").content.decode()
    assert "Penguin search" in page and f"/p/{project.slug}/tuning/{tuning.id}/" in page
    assert "New tuning job" in page


def test_the_form_prefills_a_row_per_searchable_hyperparameter(client, owner, project, penguins) -> None:
    page = _page(client, owner, f"/p/{project.slug}/tuning/new/").content.decode()
    for name in ("n_estimators", "max_depth", "learning_rate", "subsample"):
        assert f'data-range="{name}"' in page
    assert 'name="range_learning_rate_min" value="0.01"' in page
    assert "Bayesian search (TPE)" in page and "Hyperband" in page
    assert "Balanced accuracy (higher is better)" in page
    assert 'name="hp_n_estimators"' not in page


def test_changing_the_algorithm_redraws_the_ranges(client, owner, project, penguins) -> None:
    page = _page(client, owner, f"/p/{project.slug}/tuning/form/", data={"algorithm": "mlp"}).content.decode()
    assert 'data-range="epochs"' in page and 'data-range="n_estimators"' not in page
    assert 'data-range="hidden_layers"' in page and "64,32" in page


def _post(penguins, **changes):
    data = {"dataset": penguins.id, "algorithm": "xgboost", "target": "species", "validation": "holdout",
            "test_share": 0.2, "folds": 5, "strategy": "random", "max_trials": 4, "max_parallel": 2,
            "early_stopping": "off", "range_n_estimators_on": "on", "range_n_estimators_min": 5,
            "range_n_estimators_max": 20, "range_n_estimators_scale": "linear", "range_max_depth_on": "on",
            "range_max_depth_min": 2, "range_max_depth_max": 5, "range_max_depth_scale": "linear"}
    data.update(changes)
    return data


def test_posting_the_form_starts_a_tuning_job_over_the_ticked_ranges(client, owner, project, penguins) -> None:
    client.force_login(owner)
    response = client.post(f"/p/{project.slug}/tuning/new/", _post(penguins))
    tuning = TuningJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/p/{project.slug}/tuning/{tuning.id}/"
    assert [entry["name"] for entry in tuning.ranges] == ["n_estimators", "max_depth"]
    assert tuning.ranges[0] == {"name": "n_estimators", "type": "integer", "min": 5, "max": 20, "scale": "linear"}


def test_a_refused_form_shows_the_message_and_keeps_the_choices(client, owner, project, penguins) -> None:
    client.force_login(owner)
    response = client.post(f"/p/{project.slug}/tuning/new/", _post(penguins, range_max_depth_min=9))
    assert response.status_code == 400
    page = response.content.decode()
    assert "The max_depth range starts above where it ends" in page
    assert 'value="species" selected' in page
    assert not TuningJob.objects.exists()
    too_many = client.post(f"/p/{project.slug}/tuning/new/", _post(penguins, max_parallel=9))
    assert "no more than 4 can run at a time" in too_many.content.decode()


def test_the_detail_page_shows_trials_best_and_charts_once_done(client, owner, project, start_tuning, drive) -> None:
    tuning = drive(start_tuning(max_trials=4))
    Job.objects.filter(id=tuning.job_id).update(status=JobStatus.COMPLETED)  # as its coordinator would end
    tuning_job_finish(job=Job.objects.get(id=tuning.job_id))
    page = _page(client, owner, f"/p/{project.slug}/tuning/{tuning.id}/").content.decode()
    assert page.count('data-trial="') == 4 and 'class="best"' in page
    for chart in ("objective", "parallel", "importance"):
        assert f'data-plotly="tuning-{chart}"' in page
    assert "Compare the trials&#x27; runs in Experiments" in page or "Compare the trials' runs" in page
    assert f"/p/{project.slug}/runs/compare/?ids=" in page
    assert "hx-get" not in page.split('id="tuning-body"')[1][:40]  # not live: no polling


def test_live_polling_answers_286_once_the_job_has_ended(client, owner, project, start_tuning) -> None:
    tuning = start_tuning()
    url = f"/p/{project.slug}/tuning/{tuning.id}/live/"
    assert _page(client, owner, url).status_code == 200
    detail = _page(client, owner, f"/p/{project.slug}/tuning/{tuning.id}/").content.decode()
    assert 'hx-trigger="every 2s"' in detail and "Stop tuning" in detail
    client.post(f"/p/{project.slug}/tuning/{tuning.id}/stop/")
    tuning.job.refresh_from_db()
    assert tuning.job.status == JobStatus.STOPPED
    assert _page(client, owner, url).status_code == 286


def test_stop_needs_run_jobs(client, member, project, start_tuning) -> None:
    tuning = start_tuning()
    client.force_login(member(Role.LABELER))
    assert client.post(f"/p/{project.slug}/tuning/{tuning.id}/stop/").status_code == 403
    tuning.job.refresh_from_db()
    assert tuning.job.status == JobStatus.PENDING


def test_another_projects_tuning_job_is_404(client, stranger, start_tuning) -> None:
    tuning = start_tuning()
    client.force_login(stranger)
    assert client.get(f"/p/elsewhere/tuning/{tuning.id}/").status_code == 404
