"""What-if: one row's prediction, with changed values, and each column's impact."""

from __future__ import annotations

import pytest

from engine.automl import what_if
from engine.training import TrainingError, TrainingSpec, train


@pytest.fixture(scope="module")
def penguin_model(penguins):
    return train(penguins, TrainingSpec("random_forest", "species", {"n_estimators": 30})).model


def test_it_explains_a_row_column_by_column(penguin_model, penguins) -> None:
    row = penguins.drop(columns="species").iloc[0].to_dict()
    answer = what_if(penguin_model, row)
    assert answer["prediction"] == "Adelie"
    assert sum(answer["probabilities"].values()) == pytest.approx(1.0)
    impacts = answer["impacts"]
    assert impacts and [abs(entry["impact"]) for entry in impacts] == sorted(
        (abs(entry["impact"]) for entry in impacts), reverse=True)
    bill = next(entry for entry in impacts if entry["column"] == "bill_length_mm")
    assert bill["typical"] == pytest.approx(penguins["bill_length_mm"].median(), abs=1.0)
    assert bill["impact"] > 0  # a short bill is what makes it an Adelie


def test_changed_values_change_the_prediction(penguin_model, penguins) -> None:
    row = penguins.drop(columns="species").iloc[0].to_dict()
    answer = what_if(penguin_model, row, {"bill_length_mm": 50.0, "flipper_length_mm": 225.0,
                                          "body_mass_g": 5500.0, "bill_depth_mm": 15.0, "island": "Biscoe"})
    assert answer["prediction"] == "Gentoo"
    assert answer["changes"]["island"] == "Biscoe"


def test_it_works_for_regression_and_rejects_unknown_columns(diabetes) -> None:
    model = train(diabetes, TrainingSpec("linear_learner", "target")).model
    row = diabetes.drop(columns="target").iloc[0].to_dict()
    answer = what_if(model, row)
    assert isinstance(answer["prediction"], float) and "probabilities" not in answer
    assert answer["compared_by"] == "predicted value"
    with pytest.raises(TrainingError, match="no column called|does not use a column"):
        what_if(model, row, {"height": 3})
