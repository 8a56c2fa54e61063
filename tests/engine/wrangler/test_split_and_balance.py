"""Splits keep class proportions, keep a key's rows together and decide what later steps fit on; balancing
evens out classes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.wrangler import Step, TransformError, flow_run
from engine.wrangler.sample import sample_frame


def run(frame, transform, **params):
    return flow_run(frame, [Step(transform, params)]).frame


def test_a_stratified_split_keeps_each_class_in_proportion():
    frame = pd.DataFrame({"label": ["rare"] * 40 + ["common"] * 160, "x": range(200)})
    out = run(frame, "split_data", method="stratified", target="label", train=0.5, validation=0.25, test=0.25)
    shares = pd.crosstab(out["label"], out["split"], normalize="index")
    assert shares.loc["rare"].to_dict() == {"test": 0.25, "train": 0.5, "validation": 0.25}
    assert shares.loc["common"].to_dict() == {"test": 0.25, "train": 0.5, "validation": 0.25}


def test_a_split_by_key_keeps_every_row_of_a_key_on_one_side():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"customer": rng.integers(0, 300, 3000).astype(str), "x": rng.normal(size=3000)})
    out = run(frame, "split_data", method="key", key="customer")
    assert out.groupby("customer")["split"].nunique().max() == 1
    shares = out.drop_duplicates("customer")["split"].value_counts(normalize=True)
    assert 0.6 < shares["train"] < 0.8
    again = run(frame.iloc[::-1], "split_data", method="key", key="customer")
    assert again.sort_index()["split"].equals(out["split"])


def test_a_time_split_puts_the_latest_rows_in_test():
    frame = sample_frame()
    out = run(frame, "split_data", method="time", order_by="signup_date", train=0.8, validation=0, test=0.2)
    assert out.loc[out["split"] == "train", "signup_date"].max() <= out.loc[out["split"] == "test", "signup_date"].min()


def test_split_shares_must_add_up_to_one():
    with pytest.raises(TransformError, match="add up to 1"):
        run(sample_frame(), "split_data", train=0.8, validation=0.3, test=0.1)


def test_steps_after_a_split_fit_on_the_training_rows_only():
    frame = pd.DataFrame({"time": range(10), "x": [1.0] * 8 + [100.0] * 2})
    steps = [Step("split_data", {"method": "time", "order_by": "time", "train": 0.8, "validation": 0, "test": 0.2}),
             Step("pca", {"columns": ["x"], "components": 1, "standardize": False, "keep_columns": True})]
    result = flow_run(frame, steps)
    assert result.states[1]["mean"] == [1.0]


def test_smote_makes_the_classes_balanced_with_new_rows_between_neighbours():
    frame = sample_frame()
    out = run(frame, "smote", target="churned", k_neighbors=5, seed=0)
    counts = out["churned"].value_counts()
    assert counts["yes"] == counts["no"] == (frame["churned"] == "no").sum()
    synthetic = out.iloc[len(frame):]
    minority = frame[frame["churned"] == "yes"]
    assert synthetic["score"].between(minority["score"].min(), minority["score"].max()).all()
    assert synthetic["visits"].dtype == frame["visits"].dtype
    assert set(synthetic["plan"]) <= set(minority["plan"])
    pd.testing.assert_frame_equal(out.iloc[:len(frame)], frame)


def test_smote_explains_when_a_class_has_too_few_rows():
    frame = pd.DataFrame({"x": np.arange(20.0), "y": ["a"] * 17 + ["b"] * 3})
    with pytest.raises(TransformError, match="'b' of 'y' has 3 rows.*random_oversample"):
        run(frame, "smote", target="y", k_neighbors=5)


def test_random_over_and_undersampling_even_out_the_classes():
    frame = sample_frame()
    for transform in ("random_oversample", "random_undersample"):
        counts = run(frame, transform, target="churned", seed=3)["churned"].value_counts()
        assert counts["yes"] == counts["no"], transform


def test_pca_matches_scikit_learn_up_to_sign():
    from sklearn.decomposition import PCA

    frame = sample_frame()[["visits", "score"]].assign(income=lambda f: f.index * 2.0 + 1)
    out = run(frame, "pca", columns=["visits", "score", "income"], components=2, standardize=False)
    expected = PCA(2).fit_transform(frame.to_numpy(dtype="float64"))
    for index in range(2):
        assert np.allclose(np.abs(out[f"pc{index + 1}"]), np.abs(expected[:, index]))


@pytest.mark.parametrize("transform", ["random_oversample", "random_undersample", "smote"])
def test_after_a_split_only_the_training_rows_are_balanced(transform):
    frame = sample_frame()
    steps = [Step("split_data", {"method": "stratified", "target": "churned", "seed": 0}),
             Step(transform, {"target": "churned", "seed": 0})]
    out = flow_run(frame, steps).frame
    split = flow_run(frame, steps[:1]).frame
    for part in ("validation", "test"):
        pd.testing.assert_frame_equal(out[out["split"] == part].reset_index(drop=True),
                                      split[split["split"] == part].reset_index(drop=True))
    counts = out.loc[out["split"] == "train", "churned"].value_counts()
    assert counts["yes"] == counts["no"]


def test_class_weights_give_each_class_the_same_total_weight():
    frame = sample_frame()
    out = run(frame, "class_weights", target="churned")
    totals = out.groupby("churned")["weight"].sum()
    assert totals["yes"] == pytest.approx(totals["no"])
    assert out["weight"].sum() == pytest.approx(len(frame))


def test_class_weights_work_with_number_and_boolean_classes():
    frame = pd.DataFrame({"label": [1, 1, 1, 0], "flag": [True, True, True, False]})
    assert run(frame, "class_weights", target="label")["weight"].tolist() == pytest.approx([2 / 3] * 3 + [2])
    assert run(frame, "class_weights", target="flag")["weight"].tolist() == pytest.approx([2 / 3] * 3 + [2])


def test_stratified_folds_are_even_and_keep_class_proportions():
    frame = pd.DataFrame({"label": ["a"] * 50 + ["b"] * 150})
    out = run(frame, "assign_folds", folds=5, method="stratified", target="label")
    assert pd.crosstab(out["label"], out["fold"]).to_numpy().tolist() == [[10] * 5, [30] * 5]


def test_folds_by_key_keep_a_key_in_one_fold():
    frame = pd.DataFrame({"user": [str(value % 37) for value in range(500)]})
    out = run(frame, "assign_folds", folds=4, method="key", key="user")
    assert out.groupby("user")["fold"].nunique().max() == 1
    assert set(out["fold"]) == {0, 1, 2, 3}


def test_drop_correlated_keeps_the_first_of_a_near_copy():
    frame = pd.DataFrame({"a": np.arange(50.0), "b": np.arange(50.0) * 2 + 1, "c": np.sin(np.arange(50.0))})
    assert list(run(frame, "drop_correlated", threshold=0.95).columns) == ["a", "c"]


def test_variance_threshold_drops_constant_columns():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [5.0, 5.0, 5.0], "text": ["x", "y", "z"]})
    assert list(run(frame, "variance_threshold").columns) == ["a", "text"]
