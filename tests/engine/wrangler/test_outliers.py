"""Outlier bounds come from training rows, and each fix does what it says."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.wrangler import Step, flow_run
from engine.wrangler.sample import sample_frame

from ._split import split_step  # noqa: F401


def test_outliers_robust_std_makes_the_extreme_age_missing():
    frame = sample_frame()
    result = flow_run(frame, [Step("outliers_robust_std", {"columns": ["age"], "fix": "missing"})])
    assert np.isnan(result.frame["age"].iloc[3])
    assert result.frame["age"].isna().sum() == frame["age"].isna().sum() + 1


def test_outliers_iqr_remove_drops_the_rows():
    frame = sample_frame()
    result = flow_run(frame, [Step("outliers_iqr", {"columns": ["age"], "fix": "remove"})])
    assert 3 not in result.frame.index
    assert len(result.frame) == len(frame) - 1


def test_outliers_quantile_clip_keeps_values_within_the_training_quantiles():
    frame = sample_frame()
    result = flow_run(frame, [Step("outliers_quantile", {"columns": ["income"], "lower": 0.05, "upper": 0.95})])
    low, high = frame["income"].quantile([0.05, 0.95])
    assert result.frame["income"].min() == low
    assert result.frame["income"].max() == high


def test_outliers_flag_adds_a_column_and_keeps_the_values():
    frame = sample_frame()
    result = flow_run(frame, [Step("outliers_std", {"columns": ["age"], "fix": "flag"})])
    assert result.frame["age_outlier"].sum() == 1
    assert result.frame["age"].equals(frame["age"])


def test_outlier_bounds_come_from_the_training_rows(split_step):  # noqa: F811
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 100.0, 200.0]})
    labels = ["train"] * 4 + ["test"] * 2
    result = flow_run(frame, [Step(split_step, {"labels": labels}),
                              Step("outliers_iqr", {"columns": ["x"], "fix": "clip"})])
    assert result.states[1]["bounds"]["x"] == [-0.5, 5.5]  # quartiles 1.75 and 3.25, IQR 1.5
    assert result.frame["x"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.5, 5.5]
