from __future__ import annotations

import pytest


@pytest.fixture
def owner(project):
    return project.memberships.get(role="admin").user


@pytest.fixture
def penguins(project, owner):
    import palmerpenguins

    from apps.datasets.services import dataset_import_dataframe

    return dataset_import_dataframe(project=project, user=owner, name="penguins", frame=palmerpenguins.load_penguins())


SMALL_RANGES = {"n_estimators": {"min": 5, "max": 15}, "max_depth": {"min": 2, "max": 4},
                "learning_rate": {"min": 0.05, "max": 0.5, "scale": "log"}}


@pytest.fixture
def start_tuning(project, owner, penguins):
    """Start a small XGBoost tuning job on penguins (species); keyword arguments override the defaults."""
    from apps.tuning.services import tuning_job_start

    def start(**overrides):
        kwargs = {"project": project, "user": owner, "dataset": penguins, "algorithm": "xgboost",
                  "target": "species", "strategy": "random", "ranges": SMALL_RANGES, "max_trials": 3,
                  "max_parallel": 2, "exclude": ["year"]}
        kwargs.update(overrides)
        return tuning_job_start(**kwargs)

    return start


@pytest.fixture
def run_pending_trials(run_job):
    """Run every trial job of a tuning job that waits for a worker, as the training queue's worker would."""
    from apps.core.models import JobStatus
    from apps.tuning.models import TuningTrial

    def run(tuning) -> int:
        pending = TuningTrial.objects.filter(tuning_job=tuning, training_job__job__status=JobStatus.PENDING)
        jobs = [trial.training_job.job for trial in pending.select_related("training_job__job")]
        for job in jobs:
            run_job(job)
        return len(jobs)

    return run


@pytest.fixture
def drive(run_pending_trials):
    """Tick a tuning job by hand and run its trials until the tuner is done."""
    from apps.tuning.services import tuning_job_tick

    def drive(tuning, limit: int = 30):
        for _ in range(limit):
            tick = tuning_job_tick(tuning=tuning)
            if tick.done:
                tuning.refresh_from_db()
                return tuning
            run_pending_trials(tuning)
        raise AssertionError("the tuning job did not finish")

    return drive
