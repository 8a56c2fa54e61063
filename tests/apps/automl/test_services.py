"""AutoML jobs end to end in the process: start, search, keep the best model, its evaluation, importance and
code, and record experiment runs; the what-if and batch predictions of the best model."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from apps.automl.services import (
    _job_title,
    automl_job_start,
    automl_predict_frame,
    automl_what_if,
    budget_resolve,
    live_leaderboard,
)
from apps.core.artifacts import artifact_open
from apps.core.errors import UserError
from apps.experiments.models import Run
from engine.training import bundle_load


def test_a_job_completes_with_a_sorted_leaderboard_and_a_bundle_that_predicts(built):
    assert built.job.status == "Completed", built.job.error
    ranked = [row for row in built.leaderboard if row["status"] == "completed"]
    assert ranked, built.leaderboard
    scores = [row["validation_score"] for row in ranked]
    assert scores == sorted(scores, reverse=True)  # balanced accuracy: higher first
    assert [row["rank"] for row in built.leaderboard] == list(range(1, len(built.leaderboard) + 1))
    with artifact_open(built.model) as handle:
        model = bundle_load(handle.read())
    frame = pd.DataFrame([built.summary["typical_row"]])
    assert model.predict_frame(frame)["prediction"].iloc[0] in {"Adelie", "Chinstrap", "Gentoo"}


def test_a_job_keeps_the_evaluation_importance_and_generated_code(built):
    assert built.summary["problem_type"] == "multiclass"
    assert built.summary["test_rows"] > 0
    assert "balanced_accuracy" in built.summary["test_metrics"]
    assert built.importance and abs(sum(row["importance"] for row in built.importance) - 1) < 1e-6
    assert built.summary["importance_method"]
    with artifact_open(built.evaluation) as handle:
        document = json.load(handle)
    assert "confusion_matrix" in document["test"]["charts"]
    with artifact_open(built.script) as handle:
        script = handle.read().decode()
    compile(script, "automl.py", "exec")
    with artifact_open(built.notebook) as handle:
        assert json.load(handle)["nbformat"] == 4


def test_a_job_records_its_run_and_a_run_per_best_candidate(built):
    built.run.refresh_from_db()
    assert built.run.status == "FINISHED"
    assert built.run.source == "automl"
    assert "validation_balanced_accuracy" in built.run.metrics
    candidates = Run.objects.filter(tags__automl_job=str(built.id)).exclude(id=built.run_id)
    completed = [row for row in built.leaderboard if row["status"] == "completed"]
    assert candidates.count() == min(10, len(completed))
    assert {run.params["algorithm"] for run in candidates} <= {"linear_learner", "random_forest"}


def test_what_if_shows_the_prediction_probabilities_and_impacts(built):
    row = dict(built.summary["typical_row"])
    first = automl_what_if(automl=built, row=row)
    assert set(first["probabilities"]) == {"Adelie", "Chinstrap", "Gentoo"}
    changed = automl_what_if(automl=built, row={**row, "bill_length_mm": 55.0, "flipper_length_mm": 230,
                                                "island": "Biscoe"})
    assert changed["impacts"]
    assert changed["prediction"] == "Gentoo"


@pytest.mark.parametrize(("change", "column"), [({"bill_length_mm": "long"}, "bill_length_mm"),
                                                 ({"island": None, "body_mass_g": [1]}, "body_mass_g")])
def test_what_if_refuses_a_wrong_type_naming_the_column(built, change, column):
    with pytest.raises(UserError, match=column):
        automl_what_if(automl=built, row={**built.summary["typical_row"], **change})


def test_what_if_refuses_a_missing_column_naming_it(built):
    row = dict(built.summary["typical_row"])
    row.pop("island")
    with pytest.raises(UserError, match="island"):
        automl_what_if(automl=built, row=row)


def test_batch_prediction_adds_predictions_and_names_missing_columns(built):
    import palmerpenguins

    frame = palmerpenguins.load_penguins().head(7)
    out = automl_predict_frame(automl=built, frame=frame.drop(columns=["species"]))
    assert len(out) == 7 and "prediction" in out and "probability_Gentoo" in out and "island" in out
    with pytest.raises(UserError, match="island, sex"):
        automl_predict_frame(automl=built, frame=frame.drop(columns=["island", "sex"]))


def test_a_target_with_one_class_is_refused(owner, project):
    with pytest.raises(UserError, match="single class") as caught:
        _one_class(project, owner)
    assert caught.value.field == "target"


def _one_class(project, owner):
    import palmerpenguins

    from apps.datasets.services import dataset_import_dataframe

    frame = palmerpenguins.load_penguins().assign(kind="penguin")
    dataset = dataset_import_dataframe(project=project, user=owner, name="one class", frame=frame)
    return automl_job_start(project=project, user=owner, dataset=dataset, target="kind", problem_type="binary")


def test_an_unknown_target_and_a_short_budget_are_refused(penguins, owner, project):
    with pytest.raises(UserError, match="no column called 'wings'"):
        automl_job_start(project=project, user=owner, dataset=penguins, target="wings")
    with pytest.raises(UserError, match="between 10 seconds") as caught:
        automl_job_start(project=project, user=owner, dataset=penguins, target="species", budget="custom",
                         budget_seconds=3)
    assert caught.value.field == "budget_seconds"


def test_budgets_are_quick_standard_or_custom_seconds():
    assert budget_resolve(budget="quick", budget_seconds=None) == 120
    assert budget_resolve(budget="standard", budget_seconds=None) == 900
    assert budget_resolve(budget="custom", budget_seconds=45) == 45


def test_the_job_title_names_automl_once():
    assert _job_title("AutoML: income on adult v1") == "AutoML: income on adult v1"
    assert _job_title("Churn model") == "AutoML: Churn model"


def test_the_live_leaderboard_reads_the_saved_study_best_first():
    state = {"trials": [
        {"number": 0, "algorithm": "knn", "rung_losses": [-0.8], "status": "completed", "seconds": 1.0},
        {"number": 1, "algorithm": "xgboost", "rung_losses": [-0.9], "status": "completed", "seconds": 2.0},
        {"number": 2, "algorithm": "svm", "rung_losses": [], "status": "failed", "seconds": 0.1}]}
    rows = live_leaderboard(json.dumps(state).encode(), greater_is_better=True)
    assert [(row["rank"], row["algorithm"], row["validation_score"]) for row in rows] == [
        (1, "xgboost", 0.9), (2, "knn", 0.8), (3, "svm", None)]
    assert live_leaderboard(b"not json", greater_is_better=True) is None
