"""Model bundles load only what is safe and intact."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from engine.training import TrainingError, TrainingSpec, bundle_bytes, bundle_load, train


def _rewrite(data: bytes, name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.namelist():
            target.writestr(item, content if item == name else source.read(item))
    return out.getvalue()


@pytest.fixture(scope="module")
def forest_bundle(penguins) -> bytes:
    return bundle_bytes(train(penguins, TrainingSpec("random_forest", "species", {"n_estimators": 5})).model)


def test_a_bundle_carries_its_signature_and_metrics(forest_bundle) -> None:
    with zipfile.ZipFile(io.BytesIO(forest_bundle)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert set(archive.namelist()) == {"manifest.json", "estimator.skops"}
    assert manifest["estimator"]["format"] == "skops"
    assert {"name": "island", "type": "categorical", "dtype": "str"} in manifest["signature"] or \
        any(entry["name"] == "island" for entry in manifest["signature"])
    assert manifest["metrics"]["balanced_accuracy"] > 0.5


def test_a_tampered_estimator_is_refused(forest_bundle) -> None:
    with zipfile.ZipFile(io.BytesIO(forest_bundle)) as archive:
        payload = bytearray(archive.read("estimator.skops"))
    payload[len(payload) // 2] ^= 0xFF
    with pytest.raises(TrainingError, match="does not match its checksum"):
        bundle_load(_rewrite(forest_bundle, "estimator.skops", bytes(payload)))


def test_a_skops_file_with_a_foreign_type_is_refused(forest_bundle) -> None:
    import hashlib

    import skops.io

    class Sneaky:
        pass

    payload = skops.io.dumps({"model": Sneaky()})
    with zipfile.ZipFile(io.BytesIO(forest_bundle)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    manifest["estimator"]["sha256"] = hashlib.sha256(payload).hexdigest()
    data = _rewrite(_rewrite(forest_bundle, "estimator.skops", payload), "manifest.json",
                    json.dumps(manifest).encode())
    with pytest.raises(TrainingError, match="type this studio does not load"):
        bundle_load(data)


def test_something_else_is_not_a_bundle() -> None:
    with pytest.raises(TrainingError, match="not a model bundle"):
        bundle_load(b"\x80\x04pickle")
    empty = io.BytesIO()
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("readme.txt", "hi")
    with pytest.raises(TrainingError, match="no manifest.json"):
        bundle_load(empty.getvalue())
