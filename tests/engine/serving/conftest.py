from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from engine.serving.app import EndpointApp
from engine.serving.config import config_parse, token_hash
from engine.training import TrainingSpec, bundle_bytes, train

TOKEN = "s3cret-endpoint-token-0123456789"


@pytest.fixture(scope="session")
def cancer() -> pd.DataFrame:
    return load_breast_cancer(as_frame=True).frame


@pytest.fixture(scope="session")
def penguins() -> pd.DataFrame:
    import palmerpenguins

    return palmerpenguins.load_penguins()


@pytest.fixture(scope="session")
def bundles(tmp_path_factory, cancer, penguins) -> dict[str, Path]:
    """Real bundles trained by the engine: XGBoost on 30 numeric columns, a random forest on penguins
    (categorical, numeric, missing values) and a linear regression."""
    folder = tmp_path_factory.mktemp("models")
    trained = {
        "xgb": train(cancer, TrainingSpec("xgboost", "target", {"n_estimators": 10}, problem_type="binary")).model,
        "forest": train(penguins, TrainingSpec("random_forest", "species", {"n_estimators": 5})).model,
        "linear": train(penguins.dropna(), TrainingSpec("linear_learner", "body_mass_g",
                                                        problem_type="regression")).model,
    }
    paths = {}
    for name, model in trained.items():
        paths[name] = folder / f"{name}.zip"
        paths[name].write_bytes(bundle_bytes(model))
    return paths


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def endpoint_config(bundles: dict[str, Path], **overrides) -> dict:
    config = {"name": "cancer", "token_sha256": token_hash(TOKEN),
              "variants": [{"name": "xgb", "model": str(bundles["xgb"]), "sha256": sha256(bundles["xgb"])}]}
    config.update(overrides)
    return config


def write_config(folder: Path, config: dict) -> Path:
    path = folder / "endpoint.json"
    path.write_text(json.dumps(config))
    return path


def call(app: EndpointApp, method: str, path: str, *, token: str | None = TOKEN, **kwargs) -> httpx.Response:
    """One request to the ASGI app, in-process."""
    import asyncio

    headers = dict(kwargs.pop("headers", {}) or {})
    if token is not None:
        headers.setdefault("Authorization", f"Bearer {token}")

    async def send() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://endpoint") as client:
            return await client.request(method, path, headers=headers, **kwargs)

    return asyncio.run(send())


def app_for(config: dict) -> EndpointApp:
    return EndpointApp(config_parse(config))
