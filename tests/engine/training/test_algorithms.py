"""Every registered algorithm trains on real data, scores well above chance, and round-trips through its
bundle with identical predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.training import (
    ALGORITHMS,
    TrainingError,
    TrainingSpec,
    algorithm_get,
    bundle_bytes,
    bundle_load,
    train,
)
from engine.training.metrics import SUPERVISED

SUPERVISED_ALGORITHMS = [name for name, entry in ALGORITHMS.items() if entry.supervised]
UNSUPERVISED_ALGORITHMS = [name for name, entry in ALGORITHMS.items() if not entry.supervised]
FAST = {"mlp": {"epochs": 15}, "random_forest": {"n_estimators": 50}, "extra_trees": {"n_estimators": 50},
        "xgboost": {"n_estimators": 50}, "hist_gradient_boosting": {"max_iter": 50}}


def test_the_registry_has_the_promised_algorithms() -> None:
    assert {"xgboost", "linear_learner", "random_forest", "extra_trees", "hist_gradient_boosting", "knn", "svm",
            "kmeans", "pca", "isolation_forest", "mlp"} <= set(ALGORITHMS)


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_each_schema_lists_typed_hyperparameters_with_valid_defaults(name: str) -> None:
    schema = ALGORITHMS[name].schema()
    assert schema["hyperparameters"], name
    for parameter in ALGORITHMS[name].hyperparameters:
        assert parameter.clean(parameter.default) == parameter.default


@pytest.mark.parametrize("name", SUPERVISED_ALGORITHMS)
def test_each_classifier_learns_the_penguins_and_its_bundle_predicts_the_same(name: str, penguins) -> None:
    result = train(penguins, TrainingSpec(name, "species", FAST.get(name, {})))
    assert result.problem_type == "multiclass"
    assert result.metrics["balanced_accuracy"] > 0.6, result.metrics  # three classes: chance is 0.33
    assert result.charts["confusion_matrix"]["labels"] == ["Adelie", "Chinstrap", "Gentoo"]
    loaded = bundle_load(bundle_bytes(result.model))
    rows = penguins.drop(columns=["species"]).head(30)
    before, after = result.model.predict_frame(rows), loaded.predict_frame(rows)
    pd.testing.assert_frame_equal(before, after)
    assert set(after["prediction"]) <= {"Adelie", "Chinstrap", "Gentoo"}


@pytest.mark.parametrize("name", SUPERVISED_ALGORITHMS)
def test_each_regressor_beats_predicting_the_mean(name: str, diabetes) -> None:
    result = train(diabetes, TrainingSpec(name, "target", FAST.get(name, {})))
    assert result.problem_type == "regression"
    assert result.metrics["r2"] > 0.0, result.metrics
    assert len(result.charts["residuals"]["predicted"]) == result.rows["validation"]


@pytest.mark.parametrize("name", UNSUPERVISED_ALGORITHMS)
def test_each_unsupervised_algorithm_trains_without_a_target(name: str, cancer) -> None:
    result = train(cancer.drop(columns=["target"]), TrainingSpec(name))
    assert result.metrics
    output = bundle_load(bundle_bytes(result.model)).predict_frame(cancer.head(10))
    assert len(output) == 10


def test_an_unknown_algorithm_names_the_ones_there_are() -> None:
    with pytest.raises(TrainingError, match="xgboost"):
        algorithm_get("lightgbm")


def test_an_unknown_or_out_of_range_hyperparameter_is_refused(penguins) -> None:
    with pytest.raises(TrainingError, match="no hyperparameter called 'max_dept'") as error:
        train(penguins, TrainingSpec("xgboost", "species", {"max_dept": 3}))
    assert error.value.field == "max_dept"
    with pytest.raises(TrainingError, match="at most 1"):
        train(penguins, TrainingSpec("xgboost", "species", {"subsample": 2}))
    with pytest.raises(TrainingError, match="whole number"):
        train(penguins, TrainingSpec("xgboost", "species", {"n_estimators": "2.5"}))
    with pytest.raises(TrainingError, match="Hidden layers"):
        train(penguins, TrainingSpec("mlp", "species", {"hidden_layers": "64,x"}))


def test_an_algorithm_refuses_a_problem_type_it_does_not_solve(penguins) -> None:
    with pytest.raises(TrainingError, match="solves clustering problems, not binary"):
        train(penguins, TrainingSpec("kmeans", "species", problem_type="binary"))
    with pytest.raises(TrainingError, match="XGBoost does not solve clustering"):
        train(penguins, TrainingSpec("xgboost", "body_mass_g", problem_type="clustering"))


def test_supervised_problem_types_are_the_three(penguins) -> None:
    assert SUPERVISED == ("binary", "multiclass", "regression")
    assert np.isfinite(train(penguins, TrainingSpec("linear_learner", "body_mass_g")).metrics["rmse"])
