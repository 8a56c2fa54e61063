from __future__ import annotations

import pytest


@pytest.fixture
def owner(project):
    return project.memberships.order_by("id").first().user  # the creator, made with the project


@pytest.fixture
def penguins(project, owner):
    import palmerpenguins

    from apps.datasets.services import dataset_import_dataframe

    return dataset_import_dataframe(project=project, user=owner, name="penguins", frame=palmerpenguins.load_penguins())


@pytest.fixture
def built(penguins, owner, project, run_job):
    """A completed AutoML job on penguins: a small budget and two fast algorithms keep it to seconds."""
    from apps.automl.services import automl_job_start

    automl = automl_job_start(project=project, user=owner, dataset=penguins, target="species", budget="custom",
                              budget_seconds=10, algorithms=["linear_learner", "random_forest"], max_trials=3,
                              folds=3)
    run_job(automl.job)
    automl.refresh_from_db()
    return automl
