"""A trained model and its bundle: one zip with a JSON manifest (algorithm, problem type, classes, the
feature plan, the fitted flow, the input signature, metrics) and the estimator in a safe format:

- XGBoost: its own UBJ format (`estimator.ubj`);
- scikit-learn: skops (`estimator.skops`), loaded only when every type in it is a scikit-learn, numpy or
  scipy type;
- the torch MLP: a state_dict (`estimator.pt`, loaded with `weights_only=True`) plus its architecture spec;
- an ensemble (AutoML's weighted average of several models): each member's own bundle (`member-<n>.zip`),
  with the members' weights and sha256 in the manifest; members are loaded like any bundle, and may not be
  ensembles themselves.

Nothing in a bundle is unpickled. The manifest keeps the sha256 of the estimator file, checked on load.
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import TrainingError
from .features import plan_transform, signature
from .metrics import ANOMALY, CLASSIFICATION, CLUSTERING, DIMENSIONALITY, REGRESSION

BUNDLE_FORMAT = "studio-model"
ENSEMBLE = "ensemble"
MAX_ENSEMBLE_MEMBERS = 50
BUNDLE_VERSION = 1
SAFE_MODULE_PREFIXES = ("sklearn.", "numpy.", "scipy.")
# Families of flow steps that shape the training rows rather than describe one row; serving skips them.
TRAINING_ONLY_FAMILIES = ("Rows", "Balance", "Split", "Combine", "Reshape", "Time series", "Custom")


@dataclass
class TrainedModel:
    algorithm: str
    problem_type: str
    hyperparameters: dict[str, Any]
    plan: dict[str, Any]
    estimator: Any
    target: str | None = None
    classes: list[str] = field(default_factory=list)
    flow: dict[str, Any] | None = None  # the fitted flow document of the wrangler (steps with their states)
    metrics: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def signature(self) -> list[dict[str, str]]:
        return signature(self.plan)

    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Apply the fitted flow's per-row steps (as trained) to raw input rows."""
        steps = serving_steps(self.flow)
        if not steps:
            return frame
        from engine.wrangler.errors import TransformError
        from engine.wrangler.flow import Step, flow_run

        try:
            result = flow_run(frame, [Step.from_json(step) for step in steps], states=[step.get("state")
                                                                                        for step in steps])
        except TransformError as error:
            raise TrainingError(f"The model's data flow failed on this input: {error.message}") from None
        return result.frame

    def features(self, frame: pd.DataFrame) -> np.ndarray:
        return plan_transform(self.plan, self.prepare(frame))

    def predict_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Predictions for raw input rows, one output row per input row."""
        # An ensemble's members each turn the rows into their own features, so it is handed the rows.
        x: Any = self.prepare(frame) if isinstance(self.estimator, EnsembleEstimator) else self.features(frame)
        out = pd.DataFrame(index=frame.index)
        if self.problem_type in CLASSIFICATION:
            proba = predict_proba(self.estimator, x)
            codes = np.argmax(proba, axis=1) if proba is not None else np.asarray(self.estimator.predict(x), int)
            out["prediction"] = np.asarray(self.classes, dtype=object)[codes]
            if proba is not None:
                for index, label in enumerate(self.classes):
                    out[f"probability_{label}"] = proba[:, index]
        elif self.problem_type == REGRESSION:
            out["prediction"] = np.asarray(self.estimator.predict(x), dtype="float64")
        elif self.problem_type == CLUSTERING:
            out["cluster"] = np.asarray(self.estimator.predict(x), dtype="int64")
        elif self.problem_type == DIMENSIONALITY:
            components = self.estimator.transform(x)
            for index in range(components.shape[1]):
                out[f"component_{index + 1}"] = components[:, index]
        elif self.problem_type == ANOMALY:
            out["anomaly"] = self.estimator.predict(x) == -1
            out["anomaly_score"] = -self.estimator.score_samples(x)
        return out


class EnsembleEstimator:
    """A weighted average of trained models: of their class probabilities for classification, of their
    predictions for regression. It predicts from input rows (a DataFrame), not from a feature matrix."""

    def __init__(self, members: list[TrainedModel], weights: list[float]) -> None:
        if not members or len(members) != len(weights):
            raise TrainingError("An ensemble needs one weight per member.")
        total = float(sum(weights))
        if not all(np.isfinite(weight) and weight >= 0 for weight in weights) or total <= 0:
            raise TrainingError("An ensemble's weights must be non-negative numbers that add up to more than 0.")
        self.members = members
        self.weights = [float(weight) / total for weight in weights]
        self.problem_type = members[0].problem_type

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        total: np.ndarray | None = None
        for member, weight in zip(self.members, self.weights, strict=True):
            proba = predict_proba(member.estimator, member.features(frame))
            if proba is None:
                raise TrainingError(f"The ensemble member {member.algorithm} gives no class probabilities.")
            total = weight * proba if total is None else total + weight * proba
        assert total is not None
        return total

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        if self.problem_type in CLASSIFICATION:
            return np.argmax(self.predict_proba(frame), axis=1)
        return sum((weight * np.asarray(member.estimator.predict(member.features(frame)), dtype="float64")
                    for member, weight in zip(self.members, self.weights, strict=True)),
                   start=np.zeros(len(frame)))


def predict_proba(estimator: Any, x: np.ndarray) -> np.ndarray | None:
    if not hasattr(estimator, "predict_proba"):
        return None
    return np.asarray(estimator.predict_proba(x), dtype="float64")


def serving_steps(flow: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The enabled steps of a fitted flow that describe one row each (encoders, scalers, formulas...);
    steps that filter, resample, balance or split the training rows do not run at prediction time."""
    if not flow:
        return []
    from engine.wrangler.registry import TRANSFORMS

    out = []
    for step in flow.get("steps", []):
        spec = TRANSFORMS.get(step.get("transform", ""))
        if not step.get("enabled", True) or spec is None:
            continue
        if spec.row_local and not spec.marks_split and spec.family not in TRAINING_ONLY_FAMILIES:
            out.append(step)
    return out


# --- the bundle ------------------------------------------------------------------------------------------

def _estimator_bytes(model: TrainedModel) -> tuple[str, str, bytes, dict[str, Any]]:
    """(format, file name, bytes, extra manifest fields) of the estimator."""
    estimator = model.estimator
    if model.algorithm == "xgboost":
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "estimator.ubj"
            estimator.save_model(path)
            return "xgboost-ubj", "estimator.ubj", path.read_bytes(), {
                "class": type(estimator).__name__}
    if model.algorithm == "mlp":
        import torch

        buffer = io.BytesIO()
        torch.save(estimator.state_dict(), buffer)
        return "torch-state-dict", "estimator.pt", buffer.getvalue(), {"spec": estimator.spec()}
    import skops.io

    return "skops", "estimator.skops", skops.io.dumps(estimator), {}


def bundle_bytes(model: TrainedModel) -> bytes:
    files: dict[str, bytes] = {}
    if isinstance(model.estimator, EnsembleEstimator):
        members = []
        for number, (member, weight) in enumerate(zip(model.estimator.members, model.estimator.weights,
                                                      strict=True)):
            member_bytes = bundle_bytes(member)
            files[f"member-{number}.zip"] = member_bytes
            members.append({"file": f"member-{number}.zip", "algorithm": member.algorithm, "weight": weight,
                            "sha256": hashlib.sha256(member_bytes).hexdigest()})
        described: dict[str, Any] = {"format": ENSEMBLE, "members": members}
    else:
        kind, name, payload, extra = _estimator_bytes(model)
        files[name] = payload
        described = {"format": kind, "file": name, "sha256": hashlib.sha256(payload).hexdigest(), **extra}
    manifest = {
        "format": BUNDLE_FORMAT, "version": BUNDLE_VERSION, "algorithm": model.algorithm,
        "problem_type": model.problem_type, "hyperparameters": model.hyperparameters, "target": model.target,
        "classes": model.classes, "plan": model.plan, "flow": model.flow, "signature": model.signature,
        "metrics": model.metrics, "info": model.info, "estimator": described, "libraries": _library_versions(),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=1, allow_nan=False, default=_json_default))
        for name, payload in files.items():
            archive.writestr(name, payload)
    return buffer.getvalue()


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON: {type(value).__name__}")


def _library_versions() -> dict[str, str]:
    import sklearn
    import xgboost

    versions = {"scikit-learn": sklearn.__version__, "xgboost": xgboost.__version__, "numpy": np.__version__,
                "pandas": pd.__version__}
    try:
        import torch

        versions["torch"] = torch.__version__
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    return versions


MAX_MANIFEST_BYTES = 64 * 1024 * 1024


def bundle_load(data: bytes | Path, *, _member: bool = False) -> TrainedModel:
    """Load a bundle, refusing anything that is not one or whose estimator is not in a safe format."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data)
    except (zipfile.BadZipFile, OSError):
        raise TrainingError("This file is not a model bundle (not a zip archive).") from None
    with archive:
        try:
            info = archive.getinfo("manifest.json")
        except KeyError:
            raise TrainingError("This archive has no manifest.json, so it is not a model bundle.") from None
        if info.file_size > MAX_MANIFEST_BYTES:
            raise TrainingError("The bundle's manifest is too large.")
        try:
            manifest = json.loads(archive.read(info))
        except ValueError:
            raise TrainingError("The bundle's manifest is not valid JSON.") from None
        if manifest.get("format") != BUNDLE_FORMAT or manifest.get("version") != BUNDLE_VERSION:
            raise TrainingError("This archive is not a model bundle of a version this studio reads.")
        described = manifest["estimator"]
        if described.get("format") == ENSEMBLE:
            estimator: Any = _ensemble_load(archive, described, nested=_member)
        else:
            payload = archive.read(described["file"])
            if hashlib.sha256(payload).hexdigest() != described["sha256"]:
                raise TrainingError("The model file does not match its checksum: it was changed after it was "
                                    "saved. It was not loaded.")
            estimator = _estimator_load(described, payload)
    return TrainedModel(
        algorithm=manifest["algorithm"], problem_type=manifest["problem_type"],
        hyperparameters=manifest["hyperparameters"], plan=manifest["plan"], estimator=estimator,
        target=manifest.get("target"), classes=list(manifest.get("classes") or []), flow=manifest.get("flow"),
        metrics=manifest.get("metrics") or {}, info=manifest.get("info") or {},
    )


def _ensemble_load(archive: zipfile.ZipFile, described: dict[str, Any], nested: bool) -> EnsembleEstimator:
    if nested:
        raise TrainingError("An ensemble's member is itself an ensemble; this studio does not load nested ensembles.")
    entries = described.get("members")
    if not isinstance(entries, list) or not 0 < len(entries) <= MAX_ENSEMBLE_MEMBERS:
        raise TrainingError(f"An ensemble bundle must list 1 to {MAX_ENSEMBLE_MEMBERS} members.")
    members: list[TrainedModel] = []
    weights: list[float] = []
    for entry in entries:
        try:
            payload = archive.read(str(entry["file"]))
        except KeyError:
            raise TrainingError("The ensemble bundle lacks one of its members' files.") from None
        if hashlib.sha256(payload).hexdigest() != entry.get("sha256"):
            raise TrainingError("An ensemble member does not match its checksum: it was changed after it was "
                                "saved. It was not loaded.")
        weight = entry.get("weight")
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise TrainingError("An ensemble member's weight must be a number.")
        members.append(bundle_load(payload, _member=True))
        weights.append(float(weight))
    return EnsembleEstimator(members, weights)


def _estimator_load(described: dict[str, Any], payload: bytes) -> Any:
    kind = described["format"]
    if kind == "xgboost-ubj":
        import xgboost

        cls = getattr(xgboost, described.get("class", ""), None)
        if cls not in (xgboost.XGBClassifier, xgboost.XGBRegressor):
            raise TrainingError("The bundle names an XGBoost model class this studio does not load.")
        estimator = cls()
        estimator.load_model(bytearray(payload))
        return estimator
    if kind == "torch-state-dict":
        import torch

        from .mlp import TorchMLP

        state = torch.load(io.BytesIO(payload), weights_only=True)
        return TorchMLP.from_spec(described["spec"], state)
    if kind == "skops":
        import skops.io

        untrusted = skops.io.get_untrusted_types(data=payload)
        unsafe = [name for name in untrusted if not name.startswith(SAFE_MODULE_PREFIXES)]
        if unsafe:
            raise TrainingError(f"The model file holds a type this studio does not load ({unsafe[0]}).")
        return skops.io.loads(payload, trusted=untrusted)
    raise TrainingError(f"Unknown model format '{kind}'.")
