"""A training job whose worker is killed mid-training resumes from its last checkpoint on a new worker, the way
a managed spot training job does, and ends with a complete model."""

import numpy as np
import pandas as pd
import pytest

from apps.core.jobs import jobs_reap
from apps.core.models import Job, JobStatus
from tests.conftest import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.worker]

ROUNDS = 300


def _job(job_id: int) -> Job:
    return Job.objects.get(id=job_id)


def test_a_killed_training_worker_resumes_xgboost_from_its_checkpoint(celery_worker, project, settings):
    from apps.datasets.services import dataset_import_dataframe
    from apps.training.models import TrainingJob
    from apps.training.services import training_job_start

    settings.JOB_STALE_AFTER_SECONDS = 4
    rng = np.random.default_rng(0)
    features = rng.normal(size=(20_000, 20))
    frame = pd.DataFrame(features, columns=[f"x{i}" for i in range(20)])
    frame["y"] = (features[:, 0] + features[:, 1] * features[:, 2] + rng.normal(0, 0.5, len(frame)) > 0).astype(int)
    owner = project.created_by
    dataset = dataset_import_dataframe(project=project, user=owner, name="synthetic", frame=frame)
    first = celery_worker(STUDIO_TRAINING_CHECKPOINT_EVERY="10", STUDIO_TRAINING_THREADS="1")
    training = training_job_start(project=project, user=owner, dataset=dataset, algorithm="xgboost", target="y",
                                  hyperparameters={"n_estimators": ROUNDS, "max_depth": 8, "learning_rate": 0.05})
    wait_for(lambda: _job(training.job_id).progress >= 30, timeout=120)

    first.kill()
    assert _job(training.job_id).status == JobStatus.IN_PROGRESS
    celery_worker(STUDIO_TRAINING_CHECKPOINT_EVERY="10", STUDIO_TRAINING_THREADS="1")
    wait_for(lambda: (jobs_reap(), _job(training.job_id).attempt == 2)[1], timeout=60, interval=0.5)
    wait_for(lambda: _job(training.job_id).status in (JobStatus.COMPLETED, JobStatus.FAILED), timeout=240)

    job = _job(training.job_id)
    assert job.status == JobStatus.COMPLETED, job.error
    training = TrainingJob.objects.get(id=training.id)
    assert 10 <= training.summary["resumed_from"] < ROUNDS
    messages = list(job.logs.values_list("message", flat=True))
    assert f"Resuming from the checkpoint after round {training.summary['resumed_from']} of {ROUNDS}." in messages
    assert training.summary["metrics"]["roc_auc"] > 0.8
