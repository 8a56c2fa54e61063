"""Input AutoML cannot learn from is refused with a message for the user."""

from __future__ import annotations

import pandas as pd
import pytest

from engine.automl import automl_run
from engine.training import TrainingError


def test_a_target_with_one_class_is_refused(cancer) -> None:
    frame = cancer.assign(target=1)
    with pytest.raises(TrainingError, match="single value"):
        automl_run(frame, target="target", budget_seconds=5)


def test_too_few_rows_are_refused(cancer) -> None:
    with pytest.raises(TrainingError, match="at least 20"):
        automl_run(cancer.sample(12, random_state=0), target="target", budget_seconds=5)


def test_an_empty_list_of_algorithms_is_refused(cancer) -> None:
    with pytest.raises(TrainingError, match="at least one algorithm"):
        automl_run(cancer, target="target", budget_seconds=5, algorithms=[])


def test_algorithms_that_do_not_solve_the_problem_are_refused(cancer) -> None:
    with pytest.raises(TrainingError, match="solves binary problems"):
        automl_run(cancer, target="target", budget_seconds=5, algorithms=["kmeans", "pca"])


def test_an_unknown_algorithm_is_named(cancer) -> None:
    with pytest.raises(TrainingError, match="no built-in algorithm called 'catboost'"):
        automl_run(cancer, target="target", budget_seconds=5, algorithms=["catboost"])


def test_a_missing_target_column_and_a_bad_budget_are_refused(cancer) -> None:
    with pytest.raises(TrainingError, match="no column called 'label'"):
        automl_run(cancer, target="label", budget_seconds=5)
    with pytest.raises(TrainingError, match="positive number of seconds"):
        automl_run(cancer, target="target", budget_seconds=0)


def test_a_metric_of_another_problem_type_is_refused(cancer) -> None:
    with pytest.raises(TrainingError, match="not a metric of binary"):
        automl_run(cancer, target="target", budget_seconds=5, metric="rmse")


def test_a_text_target_cannot_be_a_regression(penguins) -> None:
    with pytest.raises(TrainingError, match="not numeric"):
        automl_run(penguins, target="species", problem_type="regression", budget_seconds=5)


def test_dates_are_no_target() -> None:
    frame = pd.DataFrame({"when": pd.date_range("2024-01-01", periods=30), "x": range(30)})
    with pytest.raises(TrainingError, match="dates and times"):
        automl_run(frame, target="when", budget_seconds=5)
