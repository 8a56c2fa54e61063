"""An ensemble is a model like any other: it predicts from raw rows, and its bundle round-trips safely."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from engine.automl.ensemble import ensemble_select
from engine.training import (
    EnsembleEstimator,
    TrainedModel,
    TrainingError,
    TrainingSpec,
    bundle_bytes,
    bundle_load,
    train,
)


def _rewrite(data: bytes, name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.namelist():
            target.writestr(item, content if item == name else source.read(item))
    return out.getvalue()


@pytest.fixture(scope="module")
def ensemble(penguins) -> TrainedModel:
    members = [train(penguins, TrainingSpec(name, "species", hps)).model
               for name, hps in (("random_forest", {"n_estimators": 10}), ("linear_learner", {}),
                                 ("xgboost", {"n_estimators": 10}))]
    first = members[0]
    return TrainedModel("ensemble", first.problem_type, {}, first.plan, EnsembleEstimator(members, [2, 1, 1]),
                        target="species", classes=first.classes)


def test_an_ensemble_averages_its_members_probabilities(ensemble, penguins) -> None:
    rows = penguins.drop(columns="species").head(20)
    out = ensemble.predict_frame(rows)
    members = [member.predict_frame(rows) for member in ensemble.estimator.members]
    columns = [f"probability_{label}" for label in ensemble.classes]
    expected = 0.5 * members[0][columns] + 0.25 * members[1][columns] + 0.25 * members[2][columns]
    np.testing.assert_allclose(out[columns].to_numpy(), expected.to_numpy())
    assert set(out["prediction"]) <= set(ensemble.classes)


def test_an_ensemble_bundle_round_trips_with_identical_predictions(ensemble, penguins) -> None:
    data = bundle_bytes(ensemble)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert set(archive.namelist()) == {"manifest.json", "member-0.zip", "member-1.zip", "member-2.zip"}
    assert manifest["estimator"]["format"] == "ensemble"
    assert [member["weight"] for member in manifest["estimator"]["members"]] == [0.5, 0.25, 0.25]
    loaded = bundle_load(data)
    rows = penguins.drop(columns="species")
    pd.testing.assert_frame_equal(loaded.predict_frame(rows), ensemble.predict_frame(rows))


def test_a_tampered_member_is_refused(ensemble) -> None:
    data = bundle_bytes(ensemble)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        member = bytearray(archive.read("member-1.zip"))
    member[len(member) // 2] ^= 0xFF
    with pytest.raises(TrainingError, match="does not match its checksum"):
        bundle_load(_rewrite(data, "member-1.zip", bytes(member)))


def test_a_member_with_a_tampered_weight_list_is_refused(ensemble) -> None:
    data = bundle_bytes(ensemble)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    manifest["estimator"]["members"][0]["weight"] = "0.5; import os"
    with pytest.raises(TrainingError, match="weight must be a number"):
        bundle_load(_rewrite(data, "manifest.json", json.dumps(manifest).encode()))


def test_a_nested_ensemble_is_refused(ensemble) -> None:
    import hashlib

    inner = bundle_bytes(ensemble)
    data = bundle_bytes(ensemble)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    manifest["estimator"]["members"][0]["sha256"] = hashlib.sha256(inner).hexdigest()
    tampered = _rewrite(_rewrite(data, "member-0.zip", inner), "manifest.json", json.dumps(manifest).encode())
    with pytest.raises(TrainingError, match="nested ensembles"):
        bundle_load(tampered)


def test_greedy_selection_weighs_complementary_candidates() -> None:
    truth = np.array([0.0, 1.0, 0.0, 1.0])
    high = np.array([0.0, 2.0, 0.0, 2.0])  # too large by the truth
    low = np.array([0.0, 0.0, 0.0, 0.0])  # too small by the truth
    poor = np.array([5.0, 5.0, 5.0, 5.0])
    weights, loss = ensemble_select([high, low, poor], lambda prediction: float(np.mean((prediction - truth) ** 2)))
    assert weights[0] == pytest.approx(0.5) and weights[1] == pytest.approx(0.5) and weights[2] == 0
    assert loss == pytest.approx(0.0)
