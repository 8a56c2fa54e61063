from __future__ import annotations

import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes


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
