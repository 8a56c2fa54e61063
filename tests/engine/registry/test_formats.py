"""Which model files the registry accepts, without a database: recognised by content, loaded safely."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from engine.registry.formats import ModelFormatError, describe_model


class Canary:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
@pytest.mark.parametrize("filename", ["m.pkl", "m.json", "m.ubj", "m.skops", "m.zip", "m.onnx", "m"])
def test_pickles_of_every_protocol_are_refused_unopened(tmp_path, protocol, filename):
    marker = tmp_path / "marker"
    with pytest.raises(ModelFormatError):
        describe_model(pickle.dumps(Canary(str(marker)), protocol=protocol), filename=filename)
    assert not marker.exists()


def test_a_compressed_pickle_renamed_as_a_bundle_is_refused(tmp_path):
    import gzip

    marker = tmp_path / "marker"
    with pytest.raises(ModelFormatError, match="not a zip archive"):
        describe_model(gzip.compress(pickle.dumps(Canary(str(marker)))), filename="model.zip")
    assert not marker.exists()


def test_an_xgboost_regressor_in_json_is_described():
    import xgboost

    x = np.random.default_rng(1).random((30, 2))
    booster = xgboost.XGBRegressor(n_estimators=2).fit(x, x[:, 0]).get_booster()
    described = describe_model(bytes(booster.save_raw("json")), filename="reg.json")
    assert described.format == "xgboost-json" and described.problem_type == "regression"
    assert [column["name"] for column in described.signature] == ["f0", "f1"]


def test_json_that_is_not_an_xgboost_model_is_refused():
    with pytest.raises(ModelFormatError, match="not an XGBoost model"):
        describe_model(b'{"hello": "world"}', filename="m.json")


def test_a_skops_file_may_not_name_its_own_trusted_types():
    import skops.io
    from sklearn.preprocessing import FunctionTransformer

    with pytest.raises(ModelFormatError, match="does not load"):
        describe_model(skops.io.dumps(FunctionTransformer(func=print)), filename="m.skops")
