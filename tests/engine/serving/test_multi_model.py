"""A multi-model variant: models chosen per request by TargetModel, loaded on demand into an LRU cache."""

from __future__ import annotations

import shutil

import pytest

from engine.serving.errors import ServingError
from engine.serving.models import ModelCache

from .conftest import app_for, call, endpoint_config, sha256


@pytest.fixture()
def directory(bundles, tmp_path):
    for number in range(3):
        shutil.copy(bundles["xgb"], tmp_path / f"model-{number}.zip")
    shutil.copy(bundles["forest"], tmp_path / "penguins.zip")
    return tmp_path


def test_the_cache_keeps_the_most_recently_used_models(directory) -> None:
    cache = ModelCache(directory, size=2)
    first = cache.get("model-0.zip")
    cache.get("model-1.zip")
    assert cache.get("model-0.zip") is first  # a hit: not loaded again, and now the most recent
    cache.get("model-2.zip")  # evicts model-1, the least recently used
    assert cache.names() == ["model-0.zip", "model-2.zip"]
    assert (cache.loads, cache.evictions) == (3, 1)
    assert cache.get("model-1.zip") is not None
    assert cache.names() == ["model-2.zip", "model-1.zip"] and cache.evictions == 2


@pytest.mark.parametrize("target", ["../xgb.zip", "/etc/passwd", "..", "a/b.zip", "nothing.zip", "x\x00.zip"])
def test_it_refuses_names_outside_the_directory_or_unknown(directory, target) -> None:
    with pytest.raises(ServingError) as caught:
        ModelCache(directory, size=2).get(target)
    assert caught.value.status in (400, 404)


def test_a_listed_checksum_is_checked(directory) -> None:
    cache = ModelCache(directory, size=2, checksums={"model-0.zip": "0" * 64, "model-1.zip":
                                                     sha256(directory / "model-1.zip")})
    with pytest.raises(ServingError, match="checksum") as caught:
        cache.get("model-0.zip")
    assert caught.value.status == 422
    assert cache.get("model-1.zip") is not None
    with pytest.raises(ServingError) as unlisted:
        cache.get("model-2.zip")
    assert unlisted.value.status == 404


def test_the_endpoint_routes_by_the_target_model_header(bundles, directory, cancer, penguins) -> None:
    import numpy as np

    app = app_for(endpoint_config(bundles, variants=[{"name": "many", "model_directory": str(directory),
                                                      "cache_size": 2}]))
    cancer_row = cancer.drop(columns="target").iloc[0].to_dict()
    penguin_row = penguins.drop(columns="species").iloc[0].replace({np.nan: None}).to_dict()
    first = call(app, "POST", "/invocations", json=cancer_row, headers={"TargetModel": "model-0.zip"})
    second = call(app, "POST", "/invocations", json=penguin_row,
                  headers={"X-Amzn-SageMaker-Target-Model": "penguins.zip"})
    assert first.status_code == second.status_code == 200, first.text + second.text
    assert second.json()["predictions"][0] in {"Adelie", "Chinstrap", "Gentoo"}
    missing = call(app, "POST", "/invocations", json=cancer_row)
    assert missing.status_code == 400 and missing.json()["field"] == "TargetModel"
    unknown = call(app, "POST", "/invocations", json=cancer_row, headers={"TargetModel": "none.zip"})
    assert unknown.status_code == 404
