from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

ROWS = 120


def cells_frame(rows: int = ROWS) -> pd.DataFrame:
    """A small labelled table with a constant column, a copy of the target (leakage) and a missing-heavy column."""
    rng = np.random.default_rng(7)
    size = rng.normal(10, 2, rows)
    label = np.where(size > 10, "malignant", "benign")
    return pd.DataFrame({
        "size": size, "texture": rng.normal(5, 1, rows), "site": rng.choice(["left", "right"], rows),
        "lab": "central", "diagnosis": label, "diagnosis_code": np.where(label == "malignant", 1, 0),
        "note": np.where(np.arange(rows) % 3 == 0, None, np.where(np.arange(rows) % 2 == 0, "ok", "check")),
    })


@pytest.fixture
def owner(project):
    return project.memberships.get().user


@pytest.fixture
def dataset(project, owner):
    from apps.datasets.services import dataset_import_dataframe

    return dataset_import_dataframe(project=project, user=owner, name="cells", frame=cells_frame())


@pytest.fixture
def done_report(dataset, owner, run_job):
    from apps.insights.services import insights_report_start

    report = insights_report_start(dataset=dataset, user=owner, target="diagnosis")
    run_job(report.job)
    report.refresh_from_db()
    return report
