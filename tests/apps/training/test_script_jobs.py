"""Training jobs that run the user's own train.py (SageMaker script mode): the channel it reads, the metrics
read from its log, the model it saves, and failures explained with the script's own words."""

from __future__ import annotations

import io
import tarfile

import pytest

from apps.core.artifacts import artifact_open
from apps.core.errors import Forbidden, UserError
from apps.core.models import JobStatus
from apps.core.roles import Role
from apps.training.models import TrainingJob
from apps.training.services import script_work_dir, training_script_start

TRAIN_PY = '''\
import argparse, csv, glob, os

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=3)
args, _ = parser.parse_known_args()
channel = os.environ["SM_CHANNEL_TRAINING"]
with open(os.path.join(channel, "data.csv")) as handle:
    rows = [row for row in csv.DictReader(handle) if row["bill_length_mm"] and row["body_mass_g"]]
xs = [float(row["bill_length_mm"]) for row in rows]
ys = [float(row["body_mass_g"]) / 1000 for row in rows]
weight = 0.0
for epoch in range(args.epochs):
    loss = sum((weight * x - y) ** 2 for x, y in zip(xs, ys)) / len(xs)
    print(f"epoch={epoch + 1} loss={loss:.6f}", flush=True)
    weight += 0.0001 * sum((y - weight * x) * x for x, y in zip(xs, ys)) / len(xs)
print("parquet files:", sorted(os.path.basename(p) for p in glob.glob(os.path.join(channel, "*"))))
with open(os.path.join(os.environ["SM_MODEL_DIR"], "weights.txt"), "w") as handle:
    handle.write(str(weight))
with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "report.txt"), "w") as handle:
    handle.write(f"rows={len(rows)}")
'''
LOSS = [{"name": "loss", "regex": r"loss=([0-9.]+)"}]


@pytest.fixture(autouse=True)
def _work_root(settings, tmp_path):
    settings.SCRIPT_WORK_ROOT = tmp_path / "scripts"


def _start(project, user, dataset, script=TRAIN_PY, **kwargs):
    return training_script_start(project=project, user=user, dataset=dataset, script=script,
                                 metric_definitions=LOSS, **kwargs)


def test_a_script_reads_the_channel_reports_metrics_and_its_model_is_kept(project, owner, penguins,
                                                                          run_job) -> None:
    training = _start(project, owner, penguins, hyperparameters={"epochs": 4}, timeout_seconds=60)
    job = run_job(training.job)
    assert job.status == JobStatus.COMPLETED, job.error
    training.refresh_from_db()
    losses = list(job.metric_points.filter(name="loss").order_by("step").values_list("step", "value"))
    assert [step for step, _ in losses] == [1, 2, 3, 4] and losses[-1][1] < losses[0][1]
    assert training.summary["metrics"]["loss"] == losses[-1][1]
    with artifact_open(training.model) as handle:
        archive = tarfile.open(fileobj=io.BytesIO(handle.read()), mode="r:gz")
        assert archive.getnames() == ["weights.txt"] and float(archive.extractfile("weights.txt").read()) > 0
    with artifact_open(training.output) as handle:
        assert tarfile.open(fileobj=io.BytesIO(handle.read()), mode="r:gz").getnames() == ["report.txt"]
    lines = list(job.logs.values_list("message", flat=True))
    assert "epoch=1 loss=" in "\n".join(lines) and "parquet files: ['data.csv', 'data.parquet']" in lines
    assert not script_work_dir(training=training).exists()


def test_the_run_records_hyperparameters_metrics_and_the_script(project, owner, penguins, run_job) -> None:
    training = _start(project, owner, penguins, hyperparameters={"epochs": 2, "layers": [8, 4]},
                      experiment="scripts")
    run_job(training.job)
    run = training.run
    run.refresh_from_db()
    assert run.status == "FINISHED" and run.experiment.name == "scripts"
    assert run.params == {"epochs": "2", "layers": "[8, 4]"}
    assert run.spec["script"] == TRAIN_PY and run.spec["metric_definitions"] == LOSS
    assert "loss" in run.metrics
    assert set(run.artifacts.values_list("name", flat=True)) == {"train.py", "model.tar.gz", "output.tar.gz"}


def test_a_crashing_script_fails_the_job_with_its_exception_line(project, owner, penguins, run_job) -> None:
    script = "import os\nprint('starting')\nraise ValueError('the bill column is missing')\n"
    training = _start(project, owner, penguins, script=script)
    job = run_job(training.job)
    assert job.status == JobStatus.FAILED
    assert "ValueError: the bill column is missing (train.py, line 3)" in job.error
    training.refresh_from_db()
    assert training.model is None and training.run.status == "FAILED"


def test_a_script_past_its_time_limit_is_stopped(project, owner, penguins, run_job) -> None:
    training = _start(project, owner, penguins, script="import time\nprint('sleeping')\ntime.sleep(60)\n",
                      timeout_seconds=1)
    job = run_job(training.job)
    assert job.status == JobStatus.FAILED
    assert "longer than 1 seconds" in job.error


def test_a_retried_attempt_finds_the_checkpoints_of_the_last_one(project, owner, penguins, run_job) -> None:
    script = ("import os, sys\npath = os.path.join(os.environ['SM_CHECKPOINT_DIR'], 'epoch')\n"
              "if os.path.exists(path):\n    print('resumed at', open(path).read())\n"
              "else:\n    open(path, 'w').write('7')\n    sys.exit('first attempt dies')\n"
              "open(os.path.join(os.environ['SM_MODEL_DIR'], 'm'), 'w').write('x')\n")
    training = _start(project, owner, penguins, script=script)
    job = run_job(training.job)
    assert job.status == JobStatus.FAILED and "first attempt dies" in job.error
    from apps.core.services import job_retry

    job = run_job(job_retry(job=job, user=owner))
    assert job.status == JobStatus.COMPLETED, job.error
    assert "resumed at 7" in list(job.logs.values_list("message", flat=True))


def test_an_analyst_may_not_run_a_script_and_a_data_scientist_may(project, member, penguins) -> None:
    with pytest.raises(Forbidden, match="run custom code"):
        _start(project, member(Role.ANALYST), penguins)
    assert not TrainingJob.objects.exists()
    training = _start(project, member(Role.DATA_SCIENTIST), penguins)
    assert training.kind == "script" and training.job.kind == "training.script"
    assert training.job.queue == "training"


@pytest.mark.parametrize(("kwargs", "field", "message"), [
    ({"script": "def broken(:\n"}, "script", "train.py, line 1"),
    ({"script": "  "}, "script", "Write the training script"),
    ({"metric_definitions": [{"name": "loss", "regex": "loss=[0-9]+"}]}, "metric_definitions", "capture group"),
    ({"metric_definitions": [{"name": "loss", "regex": "(("}]}, "metric_definitions", "not valid"),
    ({"hyperparameters": {"-bad": 1}}, "hyperparameters", "a name is letters"),
    ({"timeout_seconds": 10**9}, "timeout_seconds", "time limit must be between"),
    ({"memory_mb": 64}, "memory_mb", "memory limit must be between"),
    ({"target": "price"}, "target", "no column called 'price'"),
])
def test_bad_script_requests_are_refused_before_anything_is_saved(project, owner, penguins, kwargs, field,
                                                                  message) -> None:
    arguments = {"script": TRAIN_PY, "metric_definitions": LOSS, **kwargs}
    with pytest.raises(UserError, match=message) as error:
        training_script_start(project=project, user=owner, dataset=penguins, **arguments)
    assert error.value.field == field
    assert not TrainingJob.objects.exists()


def test_network_isolation_that_this_host_cannot_give_is_refused_up_front(project, owner, penguins,
                                                                          monkeypatch) -> None:
    monkeypatch.setattr("apps.training.services.network_isolation_problem", lambda: "no user namespaces")
    with pytest.raises(UserError, match="no user namespaces") as error:
        _start(project, owner, penguins, network_isolation=True)
    assert error.value.field == "network_isolation"
