from __future__ import annotations

import pytest


@pytest.fixture
def owner(project):
    return project.memberships.get().user


@pytest.fixture
def penguins(project, owner):
    import palmerpenguins

    from apps.datasets.services import dataset_import_dataframe

    return dataset_import_dataframe(project=project, user=owner, name="penguins", frame=palmerpenguins.load_penguins())


@pytest.fixture
def trained(penguins, owner, project, run_job):
    from apps.training.services import training_job_start

    training = training_job_start(project=project, user=owner, dataset=penguins, algorithm="xgboost",
                                  target="species", hyperparameters={"n_estimators": 20})
    run_job(training.job)
    training.refresh_from_db()
    return training
