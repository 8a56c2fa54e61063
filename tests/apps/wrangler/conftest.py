from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

ROWS = 300


def customers(rows: int = ROWS, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "customer_id": [f"C{1000 + i}" for i in range(rows)],
        "age": rng.integers(18, 80, rows).astype("float64"),
        "visits": [str(v) for v in rng.poisson(4, rows)],
        "score": rng.normal(0, 1, rows),
        "city": rng.choice(["Paris", "Lyon", "Lille"], rows),
        "notes": ["x"] * rows,
    })


@pytest.fixture
def owner(project):
    return project.memberships.get().user


@pytest.fixture
def dataset(project, owner):
    from apps.datasets.services import dataset_import_dataframe

    return dataset_import_dataframe(project=project, user=owner, name="customers", frame=customers())


@pytest.fixture
def flow(project, owner, dataset):
    from apps.wrangler.services import flow_create

    return flow_create(project=project, user=owner, dataset=dataset)


@pytest.fixture
def stranger(make_user):
    """An Admin of another project, with a dataset and a flow of their own."""
    from apps.core.services import project_create

    user = make_user("stranger")
    project_create(name="Elsewhere", user=user)
    return user


RENAME = {"transform": "rename_columns", "params": {"mapping": {"score": "risk"}}}
CAST = {"transform": "cast_column", "params": {"column": "visits", "to": "integer"}}
DROP = {"transform": "drop_columns", "params": {"columns": ["notes"]}}
