"""A real Celery worker (three slots: the coordinator and two trials) runs a random search end to end."""

from __future__ import annotations

import pytest

from apps.core.models import Job, JobStatus
from apps.experiments.models import RunSource, RunStatus
from apps.tuning.models import TrialStatus
from tests.conftest import wait_for

from .conftest import SMALL_RANGES

pytestmark = [pytest.mark.slow, pytest.mark.worker]


def test_a_worker_runs_a_four_trial_random_search_two_at_a_time(celery_worker, start_tuning) -> None:
    celery_worker(concurrency=3)
    tuning = start_tuning(max_trials=4, max_parallel=2, ranges=SMALL_RANGES)

    wait_for(lambda: Job.objects.get(id=tuning.job_id).is_ended, timeout=240, interval=0.5)
    tuning.refresh_from_db()
    job = tuning.job
    assert job.status == JobStatus.COMPLETED, job.error
    trials = list(tuning.trials.select_related("training_job__job", "training_job__run"))
    assert [trial.number for trial in trials] == [0, 1, 2, 3]
    assert all(trial.status == TrialStatus.COMPLETED and trial.value is not None for trial in trials)
    for trial in trials:
        assert trial.training_job.job.status == JobStatus.COMPLETED
        assert trial.training_job.run.source == RunSource.TUNING
        assert trial.training_job.run.status == RunStatus.FINISHED
    # Never more than two trials trained at once.
    spans = sorted((t.training_job.job.started_at, t.training_job.job.ended_at) for t in trials)
    for start, _ in spans:
        assert sum(1 for other_start, other_end in spans if other_start <= start < other_end) <= 2
    best = max(trials, key=lambda trial: (trial.value, -trial.number))
    assert tuning.best_training_job_id == best.training_job_id == job.outputs["best_training_job_id"]
    assert tuning.importance is not None
    assert job.logs.filter(message__startswith="Best: trial").exists()
