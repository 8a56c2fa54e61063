"""Handle missing: fitted fills use training rows only, and user mistakes get a message saying what to change."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.wrangler import Step, TransformError, flow_run
from engine.wrangler.sample import sample_frame

from ._split import split_step  # noqa: F401


def test_fill_median_is_fitted_on_the_training_rows_only(split_step):  # noqa: F811
    frame = pd.DataFrame({"amount": [1.0, 2.0, 3.0, np.nan, 1000.0, 2000.0, np.nan]})
    labels = ["train", "train", "train", "train", "test", "test", "test"]
    result = flow_run(frame, [Step(split_step, {"labels": labels}), Step("fill_median", {"columns": ["amount"]})])
    assert result.states[1] == {"values": {"amount": 2.0}}
    assert result.frame["amount"].tolist() == [1.0, 2.0, 3.0, 2.0, 1000.0, 2000.0, 2.0]


def test_fill_median_applies_a_stored_state_to_new_rows():
    fitted = flow_run(pd.DataFrame({"amount": [1.0, 5.0, np.nan]}), [Step("fill_median", {"columns": ["amount"]})])
    new = flow_run(pd.DataFrame({"amount": [np.nan, 100.0]}), [Step("fill_median", {"columns": ["amount"]})],
                   states=fitted.states)
    assert new.frame["amount"].tolist() == [3.0, 100.0]


def test_fill_mode_fills_text_with_the_most_frequent_value():
    frame = pd.DataFrame({"city": pd.Series(["Lyon", "Paris", "Lyon", None], dtype="string")})
    result = flow_run(frame, [Step("fill_mode", {"columns": ["city"]})])
    assert result.frame["city"].tolist() == ["Lyon", "Paris", "Lyon", "Lyon"]


def test_fill_constant_asks_for_a_number_on_a_numeric_column():
    with pytest.raises(TransformError, match="give a number") as caught:
        flow_run(sample_frame(), [Step("fill_constant", {"columns": ["age"], "value": "unknown"})])
    assert caught.value.param == "value"


def test_fill_constant_reads_numbers_for_numeric_columns():
    result = flow_run(pd.DataFrame({"age": [1.0, np.nan]}), [Step("fill_constant", {"columns": ["age"], "value": "0"})])
    assert result.frame["age"].tolist() == [1.0, 0.0]


def test_fill_mean_on_a_text_column_says_to_pick_a_numeric_one():
    with pytest.raises(TransformError, match="not numbers"):
        flow_run(sample_frame(), [Step("fill_mean", {"columns": ["city"]})])


def test_drop_missing_drops_columns_over_the_threshold_and_keeps_that_choice():
    frame = pd.DataFrame({"mostly_empty": [np.nan, np.nan, np.nan, 1.0], "full": [1.0, 2.0, 3.0, 4.0]})
    step = Step("drop_missing", {"drop": "columns", "threshold": 0.5})
    fitted = flow_run(frame, [step])
    assert list(fitted.frame.columns) == ["full"]
    later = flow_run(pd.DataFrame({"mostly_empty": [1.0], "full": [1.0]}), [step], states=fitted.states)
    assert list(later.frame.columns) == ["full"]


def test_drop_missing_drops_rows_missing_in_the_chosen_columns():
    frame = sample_frame()
    result = flow_run(frame, [Step("drop_missing", {"columns": ["age"]})])
    assert len(result.frame) == frame["age"].notna().sum()


def test_missing_indicator_flags_missing_values():
    frame = sample_frame()
    result = flow_run(frame, [Step("missing_indicator", {"columns": ["city"]})])
    assert result.frame["city_missing"].tolist() == frame["city"].isna().tolist()


def test_fill_knn_fills_only_the_missing_cells():
    frame = sample_frame()
    result = flow_run(frame, [Step("fill_knn", {"columns": ["age", "income", "score"]})])
    assert result.frame[["age", "income"]].notna().all().all()
    known = frame["age"].notna()
    assert result.frame.loc[known, "age"].equals(frame.loc[known, "age"])
    filled = result.frame.loc[~known, "age"]
    assert filled.between(18, 240).all()


def test_fill_forward_carries_the_last_value_down():
    frame = pd.DataFrame({"reading": [1.0, np.nan, np.nan, 4.0]})
    result = flow_run(frame, [Step("fill_forward", {"columns": ["reading"], "limit": 1})])
    assert result.frame["reading"].tolist()[:2] == [1.0, 1.0]
    assert np.isnan(result.frame["reading"].iloc[2])
