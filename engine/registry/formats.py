"""Model files the registry accepts, recognised by their content (never by their name alone), and loaded
only in formats that cannot run code:

- the studio's own model bundle (a zip with manifest.json; its estimator's sha256 is checked on load);
- an XGBoost model saved as JSON or UBJ;
- a scikit-learn estimator saved with skops, loaded only when every type in it is on the server's trust list
  (scikit-learn, numpy and scipy types). The list is fixed here; it is never read from the file;
- an ONNX model (a protobuf graph, checked by onnx's checker), with its weights inside the file: references to
  external data files are refused, so a model cannot point the studio at a path on the server.

Pickle files, joblib dumps and anything else are refused without being opened as models.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

from engine.training.errors import TrainingError
from engine.training.model import SAFE_MODULE_PREFIXES, bundle_load

BUNDLE = "studio-bundle"
XGBOOST_JSON = "xgboost-json"
XGBOOST_UBJ = "xgboost-ubj"
SKOPS = "skops"
ONNX = "onnx"
FORMAT_LABELS = {
    BUNDLE: "Studio model bundle (.zip)",
    XGBOOST_JSON: "XGBoost model (.json)",
    XGBOOST_UBJ: "XGBoost model (.ubj)",
    SKOPS: "scikit-learn model saved with skops (.skops)",
    ONNX: "ONNX model (.onnx)",
}
ACCEPTED_EXTENSIONS = {".zip": BUNDLE, ".json": XGBOOST_JSON, ".ubj": XGBOOST_UBJ, ".skops": SKOPS, ".onnx": ONNX}
SUFFIXES = {kind: extension.lstrip(".") for extension, kind in ACCEPTED_EXTENSIONS.items()}
PICKLE_EXTENSIONS = (".pkl", ".pickle", ".joblib", ".sav", ".dill", ".pt", ".pth", ".bin")
# Pickle streams start with the PROTO opcode (0x80) followed by a protocol number from 2 to 5.
PICKLE_MAGIC = tuple(bytes([0x80, protocol]) for protocol in range(2, 6))
MAX_MODEL_BYTES = 2 * 1024 * 1024 * 1024


class ModelFormatError(TrainingError):
    """A file the registry will not load, with the reason written for the person who uploaded it."""


@dataclass
class ModelDescription:
    """What a model file says about itself; empty where the format does not record it."""

    format: str
    algorithm: str = ""
    problem_type: str = ""
    signature: list[dict[str, str]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    target: str = ""
    classes: list[str] = field(default_factory=list)


def accepted_formats_text() -> str:
    return ", ".join(FORMAT_LABELS.values())


def describe_model(data: bytes, *, filename: str) -> ModelDescription:
    """Check that `data` is a model in an accepted format by loading it safely; return what it records.
    Raises ModelFormatError with a reason otherwise."""
    name = filename.lower()
    extension = name[name.rfind("."):] if "." in name else ""
    if data.startswith(PICKLE_MAGIC) or extension in PICKLE_EXTENSIONS:
        raise ModelFormatError(
            "This file is a pickle (or a format built on pickle, such as joblib or torch.save). Pickle files can "
            f"run code when opened, so the studio never loads them. Accepted formats: {accepted_formats_text()}.")
    if extension not in ACCEPTED_EXTENSIONS:
        raise ModelFormatError(f"Files ending in '{extension or '(no extension)'}' are not accepted. "
                               f"Accepted formats: {accepted_formats_text()}.")
    expected = ACCEPTED_EXTENSIONS[extension]
    if expected in (BUNDLE, SKOPS):
        if not zipfile.is_zipfile(io.BytesIO(data)):
            raise ModelFormatError(f"This file is not a {FORMAT_LABELS[expected]}: it is not a zip archive.")
        return _describe_bundle(data) if expected == BUNDLE else _describe_skops(data)
    if expected == ONNX:
        return _describe_onnx(data)
    return _describe_xgboost(data, expected)


def _describe_bundle(data: bytes) -> ModelDescription:
    try:
        model = bundle_load(data)
    except TrainingError as error:
        raise ModelFormatError(error.message) from None
    return ModelDescription(format=BUNDLE, algorithm=model.algorithm, problem_type=model.problem_type,
                            signature=model.signature, metrics=dict(model.metrics), target=model.target or "",
                            classes=[str(label) for label in model.classes])


def _describe_skops(data: bytes) -> ModelDescription:
    import skops.io

    try:
        untrusted = skops.io.get_untrusted_types(data=data)
    except Exception:  # noqa: BLE001 - skops raises several types for a file that is not its format
        raise ModelFormatError("This file is not a skops model file.") from None
    unsafe = [name for name in untrusted if not name.startswith(SAFE_MODULE_PREFIXES)]
    if unsafe:
        raise ModelFormatError(f"The skops file holds a type this studio does not load ({unsafe[0]}); only "
                               "scikit-learn, numpy and scipy types are trusted.")
    try:
        estimator = skops.io.loads(data, trusted=untrusted)
    except Exception:  # noqa: BLE001 - a damaged file
        raise ModelFormatError("The skops file could not be read; it may be damaged.") from None
    if not hasattr(estimator, "predict") and not hasattr(estimator, "transform"):
        raise ModelFormatError("The skops file does not hold a model (it has no predict or transform).")
    features = [str(name) for name in getattr(estimator, "feature_names_in_", [])]
    classes = [str(label) for label in getattr(estimator, "classes_", [])]
    problem_type = ("binary" if len(classes) == 2 else "multiclass") if classes else ""
    return ModelDescription(format=SKOPS, algorithm=type(estimator).__name__, problem_type=problem_type,
                            signature=[{"name": name, "type": "number"} for name in features], classes=classes)


def _describe_xgboost(data: bytes, expected: str) -> ModelDescription:
    import xgboost

    if expected == XGBOOST_JSON:
        try:
            document = json.loads(data)
        except ValueError:
            raise ModelFormatError("This .json file is not valid JSON, so it is not an XGBoost model.") from None
        if not isinstance(document, dict) or "learner" not in document:
            raise ModelFormatError("This JSON file is not an XGBoost model (it has no 'learner').")
    elif not data.startswith(b"{"):
        raise ModelFormatError("This .ubj file is not an XGBoost UBJ model.")
    booster = xgboost.Booster()
    try:
        booster.load_model(bytearray(data))
    except xgboost.core.XGBoostError:
        raise ModelFormatError("XGBoost could not read this file; it is not a model it saved, or it is damaged.") \
            from None
    objective = json.loads(booster.save_config())["learner"]["objective"]["name"]
    problem_type = ("binary" if objective.startswith("binary:") else "multiclass" if objective.startswith("multi:")
                    else "regression" if objective.startswith("reg:") else "")
    names = booster.feature_names or [f"f{index}" for index in range(booster.num_features())]
    types = booster.feature_types or ["float"] * len(names)
    signature = [{"name": str(name), "type": "number" if kind in ("float", "int", "q", "i") else str(kind)}
                 for name, kind in zip(names, types, strict=False)]
    return ModelDescription(format=expected, algorithm="xgboost", problem_type=problem_type, signature=signature)


def _describe_onnx(data: bytes) -> ModelDescription:
    import onnx
    from google.protobuf.message import DecodeError

    try:
        model = onnx.load_model_from_string(data)
    except (DecodeError, ValueError, RuntimeError):
        raise ModelFormatError("This .onnx file is not an ONNX model (it could not be parsed).") from None
    graph = model.graph
    tensors = list(graph.initializer) + [node_attribute.t for node in graph.node for node_attribute in node.attribute
                                         if node_attribute.HasField("t")]
    if any(tensor.data_location == onnx.TensorProto.EXTERNAL for tensor in tensors):
        raise ModelFormatError("This ONNX model keeps its weights in external files; upload a model whose weights "
                               "are inside the .onnx file.")
    if not graph.node:
        raise ModelFormatError("This ONNX file has no graph nodes, so it is not a model.")
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else "it is not valid"
        raise ModelFormatError(f"The ONNX checker refused this model: {first_line[:300]}") from None
    weights = {tensor.name for tensor in graph.initializer}
    signature = []
    for graph_input in graph.input:
        if graph_input.name in weights:
            continue
        element = graph_input.type.tensor_type.elem_type
        kind = onnx.TensorProto.DataType.Name(element).lower() if element else "unknown"
        signature.append({"name": graph_input.name, "type": kind})
    producer = " ".join(part for part in (model.producer_name, model.producer_version) if part)
    return ModelDescription(format=ONNX, algorithm=(graph.name or producer or "onnx")[:100], signature=signature)
