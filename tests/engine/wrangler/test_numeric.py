"""Numeric transforms: fitted on training rows, exact formulas, and errors that say what to use instead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from engine.wrangler import Step, TransformError, flow_run
from engine.wrangler.sample import sample_frame


def test_box_cox_on_negative_values_says_to_use_yeo_johnson():
    with pytest.raises(TransformError, match="yeo_johnson"):
        flow_run(sample_frame(), [Step("box_cox", {"columns": ["score"]})])


def test_box_cox_matches_scipy():
    frame = sample_frame()
    result = flow_run(frame, [Step("box_cox", {"columns": ["income"]})])
    known = frame["income"].dropna().to_numpy()
    expected, lam = stats.boxcox(known)
    assert result.states[0]["lambda"]["income"] == pytest.approx(lam)
    np.testing.assert_allclose(result.frame["income"].dropna().to_numpy(), expected, rtol=1e-6)


def test_yeo_johnson_matches_scipy_on_negative_and_positive_values():
    frame = sample_frame()
    result = flow_run(frame, [Step("yeo_johnson", {"columns": ["score"]})])
    lam = result.states[0]["lambda"]["score"]
    np.testing.assert_allclose(result.frame["score"].to_numpy(), stats.yeojohnson(frame["score"].to_numpy(), lam))


def test_log_transform_on_negative_values_offers_a_shift():
    frame = pd.DataFrame({"balance": [-5.0, 0.0, 10.0]})
    with pytest.raises(TransformError, match="shift") as caught:
        flow_run(frame, [Step("log_transform", {"columns": ["balance"]})])
    assert caught.value.param == "negatives"
    shifted = flow_run(frame, [Step("log_transform", {"columns": ["balance"], "negatives": "shift"})])
    np.testing.assert_allclose(shifted.frame["balance"], np.log1p([0.0, 5.0, 15.0]))


def test_scale_standard_applies_the_training_mean_and_spread_to_new_rows():
    fitted = flow_run(pd.DataFrame({"x": [0.0, 2.0, 4.0]}), [Step("scale_standard", {"columns": ["x"]})])
    later = flow_run(pd.DataFrame({"x": [6.0]}), [Step("scale_standard", {"columns": ["x"]})], states=fitted.states)
    assert later.frame["x"].iloc[0] == pytest.approx((6.0 - 2.0) / np.std([0.0, 2.0, 4.0]))


def test_bin_quantile_puts_about_as_many_rows_in_each_bin():
    result = flow_run(sample_frame(), [Step("bin_quantile", {"column": "income", "bins": 4})])
    counts = result.frame["income"].value_counts().sort_index()
    assert list(counts.index) == [0, 1, 2, 3]
    assert counts.max() - counts.min() <= 2


def test_replace_infinite_makes_infinities_missing():
    frame = pd.DataFrame({"ratio": [1.0, np.inf, -np.inf]})
    result = flow_run(frame, [Step("replace_infinite", {"columns": ["ratio"]})])
    assert result.frame["ratio"].isna().tolist() == [False, True, True]


def test_clip_values_needs_a_bound():
    with pytest.raises(TransformError, match="lower bound"):
        flow_run(sample_frame(), [Step("clip_values", {"columns": ["age"]})])


def test_bin_custom_rejects_edges_out_of_order():
    with pytest.raises(TransformError, match="increase"):
        flow_run(sample_frame(), [Step("bin_custom", {"column": "age", "edges": ["50", "30"]})])
