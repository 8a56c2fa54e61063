"""ONNX export: every exportable algorithm's ONNX file, run in onnxruntime on the feature matrix the plan
makes, predicts what the studio predicts; models that cannot be exported say why."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from engine.training import ALGORITHMS, TrainingError, TrainingSpec, train
from engine.training.model import EnsembleEstimator, TrainedModel
from engine.training.onnx_export import EXPORTABLE, onnx_export, onnx_run, onnx_supported

FAST = {"mlp": {"epochs": 10}, "random_forest": {"n_estimators": 30}, "extra_trees": {"n_estimators": 30},
        "xgboost": {"n_estimators": 30}, "hist_gradient_boosting": {"max_iter": 30},
        "isolation_forest": {"n_estimators": 50}}
# Probabilities and values are float32 in ONNX and float64 in the studio: 1e-4 relative, plus a small absolute
# margin for probabilities near 0.
RTOL, ATOL = 1e-4, 1e-5
# Histogram gradient boosting splits on float64 thresholds while the ONNX input is float32: a value within float32
# rounding of a threshold may take the other branch, so at most 1% of its rows may differ; other tree learners
# (scikit-learn trees, XGBoost) already split on float32 values.
FLIPS = {"hist_gradient_boosting": 0.01}
SUPERVISED = [name for name, entry in ALGORITHMS.items() if entry.supervised]
UNSUPERVISED = [name for name, entry in ALGORITHMS.items() if not entry.supervised]


def _check(model: TrainedModel, frame: pd.DataFrame) -> dict[str, np.ndarray]:
    ok, reason = onnx_supported(model)
    assert ok, reason
    expected = model.predict_frame(frame)
    got = onnx_run(onnx_export(model), model.features(frame))
    if "probabilities" in got:
        columns = [f"probability_{label}" for label in model.classes]
        np.testing.assert_allclose(got["probabilities"], expected[columns].to_numpy(), rtol=RTOL, atol=ATOL)
        confident = np.sort(expected[columns].to_numpy(), axis=1)
        decided = confident[:, -1] - confident[:, -2] > 1e-4  # rows not tied within float32 precision
        assert decided.mean() > 0.9
        assert list(got["prediction"][decided]) == list(expected["prediction"].astype(str)[decided])
    elif "prediction" in got:
        values = expected["prediction"].to_numpy()
        close = np.isclose(got["prediction"], values, rtol=RTOL, atol=RTOL * float(np.abs(values).mean()))
        assert 1 - close.mean() <= FLIPS.get(model.algorithm, 0.0), (model.algorithm, 1 - close.mean())
    return {"expected": expected, **got}


@pytest.mark.parametrize("name", SUPERVISED)
def test_a_classifier_exports_with_the_same_labels_and_probabilities(name, penguins) -> None:
    model = train(penguins, TrainingSpec(name, "species", FAST.get(name, {}))).model
    rows = penguins.sample(300, random_state=0)
    _check(model, rows)


@pytest.mark.parametrize("name", ["xgboost", "linear_learner", "hist_gradient_boosting", "mlp"])
def test_a_binary_classifier_exports(name, cancer) -> None:
    model = train(cancer, TrainingSpec(name, "target", FAST.get(name, {}))).model
    out = _check(model, cancer.sample(300, random_state=1))
    assert set(out["prediction"]) <= {str(label) for label in model.classes}


@pytest.mark.parametrize("name", SUPERVISED)
def test_a_regressor_exports_with_the_same_values(name, diabetes) -> None:
    model = train(diabetes, TrainingSpec(name, "target", FAST.get(name, {}))).model
    _check(model, diabetes.sample(300, random_state=2))


@pytest.mark.parametrize("name", UNSUPERVISED)
def test_unsupervised_models_export(name, cancer) -> None:
    frame = cancer.drop(columns=["target"])
    model = train(frame, TrainingSpec(name, hyperparameters=FAST.get(name, {}))).model
    rows = frame.sample(300, random_state=3)
    out = _check(model, rows)
    expected = out["expected"]
    if "cluster" in expected:
        assert (out["cluster"] == expected["cluster"].to_numpy()).mean() > 0.99
    if "component_1" in expected:
        columns = [column for column in expected.columns if column.startswith("component_")]
        np.testing.assert_allclose(out["components"], expected[columns].to_numpy(), rtol=RTOL, atol=1e-4)
    if "anomaly" in expected:
        np.testing.assert_allclose(out["anomaly_score"], expected["anomaly_score"].to_numpy(), rtol=RTOL, atol=1e-5)
        assert (out["anomaly"] == expected["anomaly"].to_numpy()).mean() > 0.99


def test_the_onnx_file_carries_the_plan_and_the_classes(penguins) -> None:
    import onnx

    model = train(penguins, TrainingSpec("xgboost", "species", FAST["xgboost"])).model
    graph = onnx.load_from_string(onnx_export(model))
    props = {entry.key: entry.value for entry in graph.metadata_props}
    assert json.loads(props["studio_plan"]) == model.plan
    assert json.loads(props["studio_classes"]) == model.classes
    assert [entry.name for entry in graph.graph.input] == ["features"]
    assert graph.graph.input[0].type.tensor_type.shape.dim[1].dim_value == len(model.plan["features"])


def test_every_algorithm_is_exportable() -> None:
    assert set(ALGORITHMS) <= set(EXPORTABLE)


def test_an_ensemble_is_not_exported_and_says_why(penguins) -> None:
    members = [train(penguins, TrainingSpec(name, "species", FAST.get(name, {}))).model
               for name in ("linear_learner", "xgboost")]
    model = TrainedModel("ensemble", members[0].problem_type, {}, members[0].plan,
                         EnsembleEstimator(members, [0.5, 0.5]), target="species", classes=members[0].classes)
    ok, reason = onnx_supported(model)
    assert not ok and "ensemble of 2 models" in reason
    with pytest.raises(TrainingError, match="ensemble"):
        onnx_export(model)


def test_a_model_with_a_per_row_flow_is_not_exported(penguins) -> None:
    model = train(penguins, TrainingSpec("linear_learner", "species")).model
    import engine.wrangler.transforms  # noqa: F401  (registers the transforms)

    model.flow = {"steps": [{"transform": "rename_columns", "enabled": True, "params": {}}]}
    ok, reason = onnx_supported(model)
    assert not ok and "data flow" in reason


def test_an_unknown_algorithm_is_not_exported(penguins) -> None:
    model = train(penguins, TrainingSpec("linear_learner", "species")).model
    model.algorithm = "something_else"
    ok, reason = onnx_supported(model)
    assert not ok and "something_else" in reason
