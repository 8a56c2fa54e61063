from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes

from engine.automl import automl_run


@pytest.fixture(scope="session")
def cancer() -> pd.DataFrame:
    return load_breast_cancer(as_frame=True).frame


@pytest.fixture(scope="session")
def diabetes() -> pd.DataFrame:
    return load_diabetes(as_frame=True).frame


@pytest.fixture(scope="session")
def penguins() -> pd.DataFrame:
    import palmerpenguins

    return palmerpenguins.load_penguins()


@pytest.fixture(scope="session")
def wide() -> pd.DataFrame:
    """6,000 rows: enough for a holdout and two rungs of successive halving."""
    rng = np.random.default_rng(0)
    rows = 6000
    frame = pd.DataFrame({f"x{index}": rng.normal(size=rows) for index in range(6)})
    frame["group"] = rng.choice(["a", "b", "c"], rows)
    signal = frame["x0"] - 0.5 * frame["x1"] + (frame["group"] == "a") + rng.normal(scale=0.8, size=rows)
    frame["label"] = np.where(signal > 0.3, "yes", "no")
    return frame


@pytest.fixture(scope="session")
def cancer_result(cancer):
    """A small search shared by the tests that only read its result."""
    return automl_run(cancer, target="target", budget_seconds=30, max_trials=4,
                      algorithms=["linear_learner", "xgboost", "knn"], seed=0)
