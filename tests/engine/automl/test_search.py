"""AutoML's search: the leaderboard, the time budget, successive halving, progress, stop and resume."""

from __future__ import annotations

import json
import math
import time

import pytest

from engine.automl import automl_run
from engine.runtime import JobStopped, LocalContext


def test_the_leaderboard_is_ranked_best_first(cancer_result) -> None:
    board = cancer_result.leaderboard
    assert [row["rank"] for row in board] == list(range(1, len(board) + 1))
    completed = [row for row in board if row["status"] == "completed"]
    scores = [row["validation_score"] for row in completed]
    assert scores == sorted(scores, reverse=True)  # ROC AUC: higher is better
    assert board[: len(completed)] == completed
    top = board[0]
    assert {"algorithm", "hyperparameters", "preprocessing", "validation_score", "train_seconds",
            "latency_ms_per_row", "status"} <= set(top)
    assert top["latency_ms_per_row"] > 0 and top["train_seconds"] > 0
    assert cancer_result.metric == "roc_auc" and cancer_result.direction == "maximize"
    assert cancer_result.best_score >= scores[0] - 1e-12  # an ensemble is kept only when it is better
    assert cancer_result.trials == 4


def test_every_algorithm_is_first_tried_with_its_defaults(cancer_result) -> None:
    first = sorted(cancer_result.leaderboard, key=lambda row: row["trial"])[:3]
    assert {row["algorithm"] for row in first} == {"linear_learner", "xgboost", "knn"}
    knn = next(row for row in first if row["algorithm"] == "knn")
    assert knn["hyperparameters"] == {"n_neighbors": 5, "weights": "uniform", "metric": "euclidean"}


def test_the_time_budget_is_kept(cancer) -> None:
    started = time.monotonic()
    result = automl_run(cancer, target="target", budget_seconds=4, seed=1)
    wall = time.monotonic() - started
    assert wall <= 4 + 1.5
    assert result.seconds <= 4 + 1.0
    assert result.trials >= 1


def test_progress_and_a_score_per_trial_are_reported(cancer) -> None:
    ctx = LocalContext()
    result = automl_run(cancer, target="target", budget_seconds=30, max_trials=3, ctx=ctx,
                        algorithms=["linear_learner", "knn"])
    scores = [(value, step) for name, value, step in ctx.metrics if name == "trial_score"]
    assert [step for _, step in scores] == [1, 2, 3]
    assert any(message.startswith("Trial 1: linear_learner") and "score 0.9" in message
               for _, message in ctx.progress_updates)
    assert result.trials == 3


def test_successive_halving_tries_candidates_on_fewer_rows_first(wide) -> None:
    result = automl_run(wide, target="label", budget_seconds=60, max_trials=12,
                        algorithms=["linear_learner", "knn"], seed=0)
    assert result.validation.startswith("holdout")
    full = max(row["training_rows"] for row in result.leaderboard)
    assert full == 4800
    pruned = [row for row in result.leaderboard if row["status"] == "pruned"]
    assert pruned and all(row["training_rows"] == 1600 for row in pruned)
    assert all(row["training_rows"] == full for row in result.leaderboard if row["status"] == "completed")


def test_a_regression_search_optimises_the_metric_asked_for(diabetes) -> None:
    result = automl_run(diabetes, target="target", budget_seconds=30, max_trials=3, metric="r2",
                        algorithms=["linear_learner", "hist_gradient_boosting"])
    assert result.problem_type == "regression" and result.direction == "maximize"
    assert 0.3 < result.best_score < 0.7
    prediction = result.best.predict_frame(diabetes.drop(columns="target").head(3))["prediction"]
    assert prediction.notna().all()


def test_a_stopped_search_resumes_where_it_stopped(cancer) -> None:
    # Each trial checks for a stop once before it starts and once per fold (5 folds): check 15 falls in trial 3.
    ctx = LocalContext(stop_after_checks=14)
    options = dict(target="target", budget_seconds=60, max_trials=5, algorithms=["linear_learner", "knn"], seed=3)
    with pytest.raises(JobStopped):
        automl_run(cancer, ctx=ctx, **options)
    saved = json.loads(ctx.checkpoint)
    assert [trial["number"] for trial in saved["trials"]] == [0, 1]
    assert saved["seconds_used"] > 0
    ctx.stop_after_checks = None
    resumed = automl_run(cancer, ctx=ctx, **options)
    assert resumed.resumed_trials == 2 and resumed.trials == 5
    ctx.checkpoint = None
    fresh = automl_run(cancer, ctx=LocalContext(), **options)
    resumed_first = sorted(resumed.leaderboard, key=lambda row: row["trial"])[:2]
    fresh_first = sorted(fresh.leaderboard, key=lambda row: row["trial"])[:2]
    assert [row["hyperparameters"] for row in resumed_first] == [row["hyperparameters"] for row in fresh_first]
    assert [row["validation_score"] for row in resumed_first] == pytest.approx(
        [row["validation_score"] for row in fresh_first])


def test_a_checkpoint_of_other_settings_is_not_resumed(cancer) -> None:
    ctx = LocalContext()
    automl_run(cancer, target="target", budget_seconds=30, max_trials=1, ctx=ctx, algorithms=["linear_learner"])
    again = automl_run(cancer, target="target", budget_seconds=30, max_trials=1, ctx=ctx, algorithms=["knn"])
    assert again.resumed_trials == 0 and again.leaderboard[0]["algorithm"] == "knn"


def test_scores_are_finite_and_failed_trials_say_why(cancer_result) -> None:
    for row in cancer_result.leaderboard:
        if row["status"] in ("completed", "pruned"):
            assert math.isfinite(row["validation_score"])
        else:
            assert row["error"]
