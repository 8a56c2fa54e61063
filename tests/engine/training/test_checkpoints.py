"""XGBoost and the MLP save checkpoints and resume from them; a resumed run ends with the same model as an
uninterrupted one (the way a managed spot training job does)."""

from __future__ import annotations

import pandas as pd
import pytest

from engine.runtime import JobStopped, LocalContext
from engine.training import TrainingSpec, train


@pytest.mark.parametrize(("algorithm", "hyperparameters", "steps"), [
    ("xgboost", {"n_estimators": 40}, 40),
    ("mlp", {"epochs": 12}, 12),
])
def test_an_interrupted_run_resumes_from_its_checkpoint_and_matches(algorithm, hyperparameters, steps,
                                                                    cancer) -> None:
    spec = TrainingSpec(algorithm, "target", hyperparameters, checkpoint_every=5)
    whole = train(cancer, spec)

    ctx = LocalContext(stop_after_checks=steps // 2 + 2)
    with pytest.raises(JobStopped):
        train(cancer, spec, ctx)
    assert ctx.checkpoint is not None
    ctx.stop_after_checks = None
    resumed = train(cancer, spec, ctx)
    assert resumed.resumed_from >= 5
    assert any("Resuming from the checkpoint" in line for _, line in ctx.lines)
    rows = cancer.drop(columns=["target"])
    pd.testing.assert_frame_equal(whole.model.predict_frame(rows), resumed.model.predict_frame(rows),
                                  check_exact=False, atol=1e-5)


def test_loss_curves_are_reported_per_epoch(cancer) -> None:
    ctx = LocalContext()
    train(cancer, TrainingSpec("mlp", "target", {"epochs": 6}), ctx)
    steps = [step for name, _, step in ctx.metrics if name == "train_loss"]
    assert steps == [1, 2, 3, 4, 5, 6]
    assert [step for name, _, step in ctx.metrics if name == "validation_loss"] == steps
