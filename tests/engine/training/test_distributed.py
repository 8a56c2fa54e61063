"""The MLP trained data-parallel on 2 processes (torch.distributed, gloo): the same model as on 1 process, both
ranks at work on their shards, and a stop request that ends every rank at one epoch, resumable from there."""

from __future__ import annotations

import multiprocessing

import numpy as np
import pytest

from engine.runtime import JobStopped, LocalContext
from engine.training import TrainingSpec, train
from engine.training.distributed import shard

HYPERPARAMETERS = {"epochs": 6, "batch_size": 64, "hidden_layers": "32"}


def test_a_shard_is_every_worlds_row_padded_so_ranks_have_as_many_rows() -> None:
    order = np.arange(7)
    assert shard(order, 0, 2).tolist() == [0, 2, 4, 6]
    assert shard(order, 1, 2).tolist() == [1, 3, 5, 0]


class StopAfterEpoch(LocalContext):
    """Asks to stop once the given epoch has been reported."""

    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = epoch

    def should_stop(self) -> bool:
        return any(name == "train_loss" and (step or 0) >= self.epoch for name, _, step in self.metrics)


def _curve(ctx: LocalContext) -> dict[int, float]:
    return {step: value for name, value, step in ctx.metrics if name == "train_loss" and step is not None}


# Starting ranks costs seconds (each imports torch), so one test stops 2 ranks, resumes them from rank 0's
# checkpoint, and compares the result with 1 process trained without a break.
@pytest.mark.slow
def test_two_processes_stop_together_resume_and_train_the_model_one_process_trains(cancer) -> None:
    single_ctx = LocalContext()
    single = train(cancer, TrainingSpec("mlp", "target", HYPERPARAMETERS, threads=1), single_ctx)

    spec = TrainingSpec("mlp", "target", {**HYPERPARAMETERS, "processes": 2}, threads=2, checkpoint_every=100)
    ctx = StopAfterEpoch(2)
    with pytest.raises(JobStopped):
        train(cancer, spec, ctx)
    assert multiprocessing.active_children() == []
    stopped_at = max(_curve(ctx))
    assert 2 <= stopped_at < HYPERPARAMETERS["epochs"] and ctx.checkpoint is not None
    lines = [line for _, line in ctx.lines]
    assert any(line.startswith("Rank 0 of 2: 228 of 455 training rows") for line in lines)
    assert any(line.startswith("Rank 1 of 2: 228 of 455 training rows") and "batches of 32 rows" in line
               for line in lines)

    ctx.epoch = 10**6
    double = train(cancer, spec, ctx)
    assert double.resumed_from == stopped_at
    assert any("Resuming from the checkpoint" in line and "every rank" in line for _, line in ctx.lines)
    assert multiprocessing.active_children() == []
    single_curve, double_curve = _curve(single_ctx), _curve(ctx)
    assert sorted(double_curve) == list(range(1, HYPERPARAMETERS["epochs"] + 1))
    assert np.allclose([single_curve[step] for step in sorted(single_curve)],
                       [double_curve[step] for step in sorted(double_curve)], rtol=0.05)
    assert abs(single.metrics["roc_auc"] - double.metrics["roc_auc"]) < 0.01
    assert double.metrics["roc_auc"] > 0.9
