from __future__ import annotations

import pickle

import pytest


@pytest.fixture
def owner(project):
    return project.memberships.order_by("id").first().user


@pytest.fixture
def penguins(project, owner):
    import palmerpenguins

    from apps.datasets.services import dataset_import_dataframe

    return dataset_import_dataframe(project=project, user=owner, name="penguins", frame=palmerpenguins.load_penguins())


@pytest.fixture
def trained(penguins, owner, project, run_job):
    """A completed XGBoost training job on penguins (20 trees: a second or two)."""
    from apps.training.services import training_job_start

    training = training_job_start(project=project, user=owner, dataset=penguins, algorithm="xgboost",
                                  target="species", hyperparameters={"n_estimators": 20})
    run_job(training.job)
    training.refresh_from_db()
    return training


@pytest.fixture
def group(project, owner):
    from apps.registry.services import model_group_create

    return model_group_create(project=project, user=owner, name="penguin-species", description="Which penguin")


@pytest.fixture
def version(group, trained, owner):
    from apps.registry.services import model_version_register_training

    return model_version_register_training(group=group, training=trained, user=owner)


@pytest.fixture
def tamper():
    """Overwrite a version's stored file in place (as a disk error or an intruder would)."""
    from apps.core.artifacts import artifact_path

    def change(version) -> None:
        path = artifact_path(version.artifact, verify=False)
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))

    return change


class _Canary:
    """Unpickling this writes the marker file: proof that something was unpickled."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture
def pickle_canary(tmp_path):
    """(the bytes of a pickle whose loading creates a marker file, the marker's path)."""
    marker = tmp_path / "unpickled.marker"
    return pickle.dumps(_Canary(str(marker))), marker


@pytest.fixture
def xgboost_files(tmp_path):
    """An XGBoost classifier saved as JSON and as UBJ: {suffix: bytes}."""
    import numpy as np
    import xgboost

    rng = np.random.default_rng(0)
    x = rng.random((60, 3))
    model = xgboost.XGBClassifier(n_estimators=3).fit(x, (x[:, 0] > 0.5).astype(int))
    files = {}
    for suffix in ("json", "ubj"):
        path = tmp_path / f"model.{suffix}"
        model.save_model(path)
        files[suffix] = path.read_bytes()
    return files
