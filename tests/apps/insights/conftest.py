from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from apps.core.jobs import job_execute
from apps.core.roles import Role

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
def run_job():
    from apps.core.models import Job

    def run(job_or_id):
        job_id = getattr(job_or_id, "id", job_or_id)
        job_execute(job_id=job_id)
        return Job.objects.get(id=job_id)

    return run


@pytest.fixture
def done_report(dataset, owner, run_job):
    from apps.insights.services import insights_report_start

    report = insights_report_start(dataset=dataset, user=owner, target="diagnosis")
    run_job(report.job)
    report.refresh_from_db()
    return report


@pytest.fixture
def stranger(make_user):
    from apps.core.services import project_create

    user = make_user("stranger")
    project_create(name="Elsewhere", user=user)
    return user


@pytest.fixture
def labeler(member):
    return member(Role.LABELER)
