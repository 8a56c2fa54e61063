"""Training's checks, splits, metrics and warnings on bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.runtime import JobStopped, LocalContext
from engine.training import TrainingError, TrainingSpec, infer_problem_type, train


def test_the_problem_type_is_inferred_from_the_target(cancer, diabetes, penguins) -> None:
    assert infer_problem_type(cancer["target"]) == "binary"
    assert infer_problem_type(diabetes["target"]) == "regression"
    assert infer_problem_type(penguins["species"]) == "multiclass"
    assert infer_problem_type(pd.Series([1, 2, 3, 1, 2, 3])) == "multiclass"


def test_binary_metrics_and_curves(cancer) -> None:
    result = train(cancer, TrainingSpec("linear_learner", "target"))
    assert {"accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"} <= set(result.metrics)
    assert result.metrics["roc_auc"] > 0.95
    assert result.charts["roc"]["fpr"][0] == 0.0 and result.charts["roc"]["tpr"][-1] == 1.0
    assert len(result.charts["pr"]["recall"]) <= 200
    matrix = np.array(result.charts["confusion_matrix"]["matrix"])
    assert matrix.sum() == result.rows["validation"] == round(len(cancer) * 0.2)
    assert result.feature_importance[0]["importance"] >= result.feature_importance[-1]["importance"]
    assert abs(sum(entry["importance"] for entry in result.feature_importance) - 1) < 1e-9


def test_kfold_reports_each_fold_and_their_mean(cancer) -> None:
    ctx = LocalContext()
    result = train(cancer, TrainingSpec("linear_learner", "target", validation="kfold", folds=4), ctx)
    assert len(result.fold_metrics) == 4
    assert result.metrics["accuracy"] == pytest.approx(np.mean([fold["accuracy"] for fold in result.fold_metrics]))
    assert sum(1 for name, _, _ in ctx.metrics if name == "fold_accuracy") == 4


def test_too_few_rows_of_a_class_for_kfold_says_how_many_folds_fit(penguins) -> None:
    few = pd.concat([penguins[penguins.species != "Chinstrap"], penguins[penguins.species == "Chinstrap"].head(3)])
    with pytest.raises(TrainingError, match="smallest class has 3. Choose at most 3 folds") as error:
        train(few, TrainingSpec("linear_learner", "species", validation="kfold", folds=5))
    assert error.value.field == "folds"


def test_a_flow_split_column_decides_the_rows(cancer) -> None:
    marks = np.array(["train"] * 400 + ["validation"] * 100 + ["test"] * (len(cancer) - 500))
    result = train(cancer.assign(split=marks), TrainingSpec("linear_learner", "target"))
    assert result.rows == {"total": len(cancer), "train": 400, "validation": 100, "test": len(cancer) - 500}
    assert "split" not in result.model.plan["features"]
    assert result.test_metrics["accuracy"] > 0.8


def test_a_target_with_one_class_is_refused(cancer) -> None:
    with pytest.raises(TrainingError, match="single value"):
        train(cancer.assign(target=1), TrainingSpec("xgboost", "target", problem_type="binary"))


def test_a_target_missing_everywhere_is_refused(cancer) -> None:
    with pytest.raises(TrainingError, match="missing .* in every row"):
        train(cancer.assign(target=np.nan), TrainingSpec("xgboost", "target", problem_type="regression"))


def test_nan_and_infinite_targets_are_left_out_with_a_warning(diabetes) -> None:
    target = diabetes["target"].to_numpy().copy()
    target[:5], target[5:8] = np.nan, np.inf
    result = train(diabetes.assign(target=target), TrainingSpec("linear_learner", "target"))
    assert result.rows["total"] == len(diabetes) - 8
    assert any("5 rows have no target" in warning for warning in result.warnings)
    assert any("3 rows have an infinite target" in warning for warning in result.warnings)


def test_a_text_target_cannot_be_regression(penguins) -> None:
    with pytest.raises(TrainingError, match="not numeric") as error:
        train(penguins, TrainingSpec("xgboost", "species", problem_type="regression"))
    assert error.value.field == "problem_type"


def test_a_column_with_100000_categories_is_capped_not_exploded() -> None:
    rng = np.random.default_rng(0)
    rows = 120_000
    codes = rng.integers(0, 100_000, rows)
    frame = pd.DataFrame({"code": [f"c{value}" for value in codes], "x": rng.normal(size=rows)})
    frame["y"] = (frame["x"] > 0).astype(int)
    result = train(frame, TrainingSpec("linear_learner", "y"))
    assert any("distinct values; the 1,000 most frequent are kept" in warning for warning in result.warnings)
    assert len(result.model.plan["features"]) == 2  # code as a frequency, x
    assert result.metrics["accuracy"] > 0.95


def test_an_identifier_column_is_dropped_with_a_warning(cancer) -> None:
    frame = cancer.assign(patient=[f"p{index}" for index in range(len(cancer))])
    result = train(frame, TrainingSpec("linear_learner", "target"))
    assert any("patient" in warning and "identifier" in warning for warning in result.warnings)


def test_a_leaking_feature_is_flagged(cancer) -> None:
    frame = cancer[["mean radius", "target"]].assign(diagnosis_code=cancer["target"] * 7)
    result = train(frame, TrainingSpec("random_forest", "target", {"n_estimators": 20}))
    assert any("target leakage" in warning and "diagnosis_code" in warning for warning in result.warnings)


def test_unseen_categories_and_missing_values_predict_without_error(penguins) -> None:
    result = train(penguins, TrainingSpec("linear_learner", "species"))
    odd = penguins.drop(columns=["species"]).head(3).copy()
    odd["island"] = ["Atlantis", None, "Biscoe"]
    odd.loc[odd.index[0], "bill_length_mm"] = np.nan
    assert len(result.model.predict_frame(odd)) == 3


def test_a_missing_input_column_is_named(penguins) -> None:
    result = train(penguins, TrainingSpec("linear_learner", "species"))
    with pytest.raises(TrainingError, match="no column called 'island'"):
        result.model.predict_frame(penguins.drop(columns=["species", "island"]))


def test_a_stop_request_stops_training(cancer) -> None:
    with pytest.raises(JobStopped):
        train(cancer, TrainingSpec("xgboost", "target", {"n_estimators": 200}), LocalContext(stop_after_checks=5))
