"""ONNX export of a trained model, where the model allows.

The ONNX graph holds the estimator only, not the feature plan: its one input, `features`, is the FEATURE
MATRIX (float32, one column per name in `model.plan["features"]`, in that order) exactly as
`engine.training.features.plan_transform` produces it from raw rows: numbers with missing values filled by
the training median (or left as NaN for algorithms that handle missing values), "is missing" indicators,
one-hot/ordinal/frequency codes for categories, standardisation for scaled algorithms. The plan is the
studio's own code, so the plan (JSON) ships in the model bundle's manifest and in the ONNX file's metadata
(`studio_plan`), for whoever rebuilds the features outside the studio.

Outputs, by problem type (names fixed, so a consumer need not know the converter):

- classification: `prediction` (string, the class label) and `probabilities` (float, [rows, classes] in
  the order of the `studio_classes` metadata); the label is the class of highest probability, as in the
  studio;
- regression: `prediction` (float, [rows]);
- clustering: `cluster` (int64, [rows]);
- dimensionality reduction: `components` (float, [rows, components]);
- anomaly detection: `anomaly` (bool, [rows]) and `anomaly_score` (float, [rows], higher is more anomalous).

Converters: skl2onnx for scikit-learn estimators, onnxmltools for XGBoost, and a graph written directly
with `onnx.helper` for the torch MLP (a chain of Gemm and Relu, no torch exporter needed). Not exported:
ensembles (several models, each with its own feature plan) and models whose data flow has per-row steps (the
flow runs in the studio's wrangler, which ONNX cannot express).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from .errors import TrainingError
from .metrics import ANOMALY, CLASSIFICATION, CLUSTERING, DIMENSIONALITY, REGRESSION
from .model import EnsembleEstimator, TrainedModel, serving_steps

INPUT = "features"
OPSET = 17
XGBOOST_OPSET = 15  # the highest onnxmltools' XGBoost converter supports
ML_OPSET = 3
SKLEARN_ALGORITHMS = ("random_forest", "extra_trees", "hist_gradient_boosting", "linear_learner", "knn", "svm",
                      "kmeans", "pca", "isolation_forest")
EXPORTABLE = ("xgboost", "mlp", *SKLEARN_ALGORITHMS)


def onnx_supported(model: TrainedModel) -> tuple[bool, str]:
    """(True, "") when `onnx_export(model)` can convert the model, else (False, why not in plain words)."""
    if isinstance(model.estimator, EnsembleEstimator):
        return False, (f"This model is an ensemble of {len(model.estimator.members)} models, each with its own "
                       "features; ONNX export covers single models. Use the model bundle.")
    if model.algorithm not in EXPORTABLE:
        return False, f"The studio has no ONNX converter for the algorithm '{model.algorithm}'."
    steps = serving_steps(model.flow)
    if steps:
        return False, (f"This model's data flow has {len(steps)} per-row step(s) that run in the studio's own "
                       "code before the features are made; ONNX cannot express them. Use the model bundle.")
    if not model.plan.get("features"):
        return False, "This model has no features to export."
    return True, ""


def onnx_export(model: TrainedModel) -> bytes:
    """The model as an ONNX file (bytes). Its input `features` is the feature matrix as the studio's feature
    plan makes it (float32, columns in `model.plan["features"]` order), NOT the raw input columns: apply
    the plan (shipped in the bundle's manifest and in this file's `studio_plan` metadata) first. Raises
    TrainingError with the reason when the model cannot be exported (see `onnx_supported`)."""
    ok, reason = onnx_supported(model)
    if not ok:
        raise TrainingError(reason)
    width = len(model.plan["features"])
    try:
        if model.algorithm == "mlp":
            graph = _mlp_onnx(model, width)
        else:
            graph = _converted(model, width)
            _route_missing_values(model, graph)
            graph = _with_studio_outputs(model, graph)
    except TrainingError:
        raise
    except Exception as error:  # a converter's refusal: say so rather than fail with a traceback
        raise TrainingError(f"The ONNX converter could not convert this {model.algorithm} model: {error}") from None
    import onnx

    onnx.helper.set_model_props(graph, {
        "studio_algorithm": model.algorithm, "studio_problem_type": model.problem_type,
        "studio_target": model.target or "", "studio_classes": json.dumps(model.classes),
        "studio_features": json.dumps(model.plan["features"]), "studio_plan": json.dumps(model.plan),
        "studio_input": "the feature matrix made by the studio's feature plan (studio_plan), float32",
    })
    graph.producer_name = "ml-studio"
    onnx.checker.check_model(graph)
    return bytes(graph.SerializeToString())


# --- converters -------------------------------------------------------------------------------------------

def _converted(model: TrainedModel, width: int) -> Any:
    opsets = {"": OPSET, "ai.onnx.ml": ML_OPSET}
    if model.algorithm == "xgboost":
        from onnxmltools import convert_xgboost
        from onnxmltools.convert.common.data_types import FloatTensorType as XgbFloat

        return convert_xgboost(model.estimator, initial_types=[(INPUT, XgbFloat([None, width]))],
                               target_opset=XGBOOST_OPSET)
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    options: dict[Any, Any] = {}
    if model.problem_type in CLASSIFICATION:
        options = {id(model.estimator): {"zipmap": False}}
    return to_onnx(model.estimator, initial_types=[(INPUT, FloatTensorType([None, width]))], target_opset=opsets,
                   options=options)


def _route_missing_values(model: TrainedModel, graph: Any) -> None:
    """scikit-learn forests trained on rows with missing values send a missing value to the side each split
    learnt (`tree_.missing_go_to_left`); skl2onnx leaves that out, so it is written into the tree ensemble
    node here (`nodes_missing_value_tracks_true`: the true branch of `x <= threshold` is the left child)."""
    trees = getattr(model.estimator, "estimators_", None)
    if model.algorithm not in ("random_forest", "extra_trees") or not trees:
        return
    from onnx import helper

    for node in graph.graph.node:
        if not node.op_type.startswith("TreeEnsemble"):
            continue
        attributes = {attribute.name: attribute for attribute in node.attribute}
        tree_ids, node_ids = attributes["nodes_treeids"].ints, attributes["nodes_nodeids"].ints
        tracks = [int(bool(trees[tree].tree_.missing_go_to_left[number]))
                  for tree, number in zip(tree_ids, node_ids, strict=True)]
        if "nodes_missing_value_tracks_true" in attributes:
            node.attribute.remove(attributes["nodes_missing_value_tracks_true"])
        node.attribute.append(helper.make_attribute("nodes_missing_value_tracks_true", tracks))


def _with_studio_outputs(model: TrainedModel, graph: Any) -> Any:
    """Rename or derive the converter's outputs into the studio's (see the module docstring)."""
    from onnx import TensorProto, helper, numpy_helper

    body = graph.graph
    produced = [output.name for output in body.output]
    nodes: list[Any] = []
    outputs: list[Any] = []
    rows = "N"
    if model.problem_type in CLASSIFICATION:
        proba = produced[1]
        if proba != "probabilities":
            nodes.append(helper.make_node("Identity", [proba], ["probabilities"]))
        nodes += [helper.make_node("ArgMax", [proba], ["studio_code"], axis=1, keepdims=0),
                  helper.make_node("LabelEncoder", ["studio_code"], ["prediction"], domain="ai.onnx.ml",
                                   keys_int64s=list(range(len(model.classes))),
                                   values_strings=[str(label) for label in model.classes], default_string="")]
        outputs += [helper.make_tensor_value_info("prediction", TensorProto.STRING, [rows]),
                    helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [rows, len(model.classes)])]
    elif model.problem_type == REGRESSION:
        nodes.append(helper.make_node("Flatten", [produced[0]], ["studio_flat"], axis=1))
        body.initializer.append(numpy_helper.from_array(np.asarray([-1], dtype="int64"), "studio_rows"))
        nodes.append(helper.make_node("Reshape", ["studio_flat", "studio_rows"], ["prediction"]))
        outputs.append(helper.make_tensor_value_info("prediction", TensorProto.FLOAT, [rows]))
    elif model.problem_type == CLUSTERING:
        nodes.append(helper.make_node("Identity", [produced[0]], ["cluster"]))
        outputs.append(helper.make_tensor_value_info("cluster", TensorProto.INT64, [rows]))
    elif model.problem_type == DIMENSIONALITY:
        nodes.append(helper.make_node("Identity", [produced[0]], ["components"]))
        outputs.append(helper.make_tensor_value_info("components", TensorProto.FLOAT, [rows, None]))
    elif model.problem_type == ANOMALY:
        # skl2onnx gives the decision function (score_samples - offset_); the studio's score is -score_samples.
        offset = float(model.estimator.offset_)
        body.initializer.append(numpy_helper.from_array(np.asarray([-offset], dtype="float32"), "studio_offset"))
        body.initializer.append(numpy_helper.from_array(np.asarray([-1], dtype="int64"), "studio_rows"))
        body.initializer.append(numpy_helper.from_array(np.asarray([-1], dtype="int64"), "studio_minus_one"))
        nodes += [helper.make_node("Reshape", [produced[1], "studio_rows"], ["studio_scores"]),
                  helper.make_node("Neg", ["studio_scores"], ["studio_negated"]),
                  helper.make_node("Add", ["studio_negated", "studio_offset"], ["anomaly_score"]),
                  helper.make_node("Reshape", [produced[0], "studio_rows"], ["studio_labels"]),
                  helper.make_node("Equal", ["studio_labels", "studio_minus_one"], ["anomaly"])]
        outputs += [helper.make_tensor_value_info("anomaly", TensorProto.BOOL, [rows]),
                    helper.make_tensor_value_info("anomaly_score", TensorProto.FLOAT, [rows])]
    else:
        raise TrainingError(f"ONNX export does not handle the problem type '{model.problem_type}'.")
    for entry in graph.opset_import:  # LabelEncoder with typed keys and values needs ai.onnx.ml 2 or later
        if entry.domain == "ai.onnx.ml" and entry.version < 2:
            entry.version = 2
    if model.problem_type in CLASSIFICATION and not any(entry.domain == "ai.onnx.ml" for entry in graph.opset_import):
        graph.opset_import.append(helper.make_opsetid("ai.onnx.ml", ML_OPSET))
    if not any(entry.domain in ("", "ai.onnx") for entry in graph.opset_import):
        graph.opset_import.append(helper.make_opsetid("", XGBOOST_OPSET))
    body.node.extend(nodes)
    del body.output[:]
    body.output.extend(outputs)
    return graph


def _mlp_onnx(model: TrainedModel, width: int) -> Any:
    """The torch MLP written as ONNX: Gemm (weights transposed, as nn.Linear stores them) and Relu per hidden
    layer; dropout does nothing at prediction time."""
    from onnx import TensorProto, helper, numpy_helper

    network = model.estimator.network
    linears = [module for module in network if type(module).__name__ == "Linear"]
    initializers: list[Any] = []
    nodes: list[Any] = []
    current = INPUT
    for number, linear in enumerate(linears):
        weight = linear.weight.detach().cpu().numpy().astype("float32")
        bias = linear.bias.detach().cpu().numpy().astype("float32")
        initializers += [numpy_helper.from_array(weight, f"W{number}"), numpy_helper.from_array(bias, f"B{number}")]
        output = f"layer{number}"
        nodes.append(helper.make_node("Gemm", [current, f"W{number}", f"B{number}"], [output], transB=1))
        current = output
        if number < len(linears) - 1:
            nodes.append(helper.make_node("Relu", [current], [f"relu{number}"]))
            current = f"relu{number}"
    rows = "N"
    if model.problem_type in CLASSIFICATION:
        nodes += [helper.make_node("Softmax", [current], ["probabilities"], axis=1),
                  helper.make_node("ArgMax", ["probabilities"], ["studio_code"], axis=1, keepdims=0),
                  helper.make_node("LabelEncoder", ["studio_code"], ["prediction"], domain="ai.onnx.ml",
                                   keys_int64s=list(range(len(model.classes))),
                                   values_strings=[str(label) for label in model.classes], default_string="")]
        outputs = [helper.make_tensor_value_info("prediction", TensorProto.STRING, [rows]),
                   helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [rows, len(model.classes)])]
    else:
        estimator = model.estimator
        initializers += [numpy_helper.from_array(np.asarray([estimator.target_std], dtype="float32"), "std"),
                         numpy_helper.from_array(np.asarray([estimator.target_mean], dtype="float32"), "mean"),
                         numpy_helper.from_array(np.asarray([-1], dtype="int64"), "rows")]
        nodes += [helper.make_node("Reshape", [current, "rows"], ["flat"]),
                  helper.make_node("Mul", ["flat", "std"], ["scaled"]),
                  helper.make_node("Add", ["scaled", "mean"], ["prediction"])]
        outputs = [helper.make_tensor_value_info("prediction", TensorProto.FLOAT, [rows])]
    graph = helper.make_graph(nodes, "studio_mlp", [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT,
                                                                                  [rows, width])],
                              outputs, initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET),
                                                   helper.make_opsetid("ai.onnx.ml", ML_OPSET)])


def onnx_run(data: bytes, features: np.ndarray) -> dict[str, np.ndarray]:
    """Run an exported model in onnxruntime on a feature matrix: {output name: values}."""
    import onnxruntime

    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    values = session.run(names, {INPUT: np.asarray(features, dtype="float32")})
    return dict(zip(names, values, strict=True))


__all__ = ["onnx_export", "onnx_run", "onnx_supported"]
