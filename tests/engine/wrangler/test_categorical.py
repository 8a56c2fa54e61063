"""Categorical encoders: categories learned on training rows, and a stated fallback for unseen ones."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from engine.wrangler import Step, TransformError, flow_run
from engine.wrangler.sample import sample_frame


def _frame(values):
    return pd.DataFrame({"color": pd.Series(values, dtype="string")})


def test_one_hot_encode_keeps_the_training_columns_and_zeros_for_unseen_categories():
    step = Step("one_hot_encode", {"column": "color"})
    fitted = flow_run(_frame(["red", "blue", "red"]), [step])
    assert list(fitted.frame.columns) == ["color_red", "color_blue"]
    later = flow_run(_frame(["green", "blue", None]), [step], states=fitted.states)
    assert later.frame.to_dict("list") == {"color_red": [0, 0, 0], "color_blue": [0, 1, 0]}


def test_one_hot_encode_keeps_only_the_most_frequent_categories():
    result = flow_run(sample_frame(), [Step("one_hot_encode", {"column": "city", "max_categories": 2,
                                                             "drop_original": False})])
    assert [column for column in result.frame.columns if column.startswith("city_")] == ["city_Lyon", "city_Paris"]
    assert "city" in result.frame.columns


def test_target_encode_smooths_toward_the_overall_mean_and_uses_it_for_unseen_categories():
    frame = pd.DataFrame({"color": pd.Series(["red", "red", "blue", "blue"], dtype="string"),
                          "bought": pd.Series(["yes", "yes", "no", "yes"], dtype="string")})
    step = Step("target_encode", {"column": "color", "target": "bought", "smoothing": 2})
    fitted = flow_run(frame, [step])
    prior = 0.75
    assert fitted.frame["color"].tolist()[0] == pytest.approx((2 + 2 * prior) / 4)
    later = flow_run(frame.assign(color=pd.Series(["green"] * 4, dtype="string")), [step], states=fitted.states)
    assert later.frame["color"].tolist() == [prior] * 4


def test_target_encode_explains_a_target_with_many_values():
    with pytest.raises(TransformError, match="exactly two values") as caught:
        flow_run(sample_frame(), [Step("target_encode", {"column": "plan", "target": "city"})])
    assert caught.value.param == "target"


def test_frequency_encode_gives_training_shares_and_zero_for_unseen():
    step = Step("frequency_encode", {"column": "color"})
    fitted = flow_run(_frame(["red", "red", "blue", "red"]), [step])
    assert fitted.frame["color"].tolist() == [0.75, 0.75, 0.25, 0.75]
    later = flow_run(_frame(["green"]), [step], states=fitted.states)
    assert later.frame["color"].tolist() == [0.0]


def test_hash_encode_is_stable_across_runs_and_machines():
    result = flow_run(_frame(["red", None]), [Step("hash_encode", {"column": "color", "buckets": 7})])
    expected = int.from_bytes(hashlib.md5(b"red").digest()[:8], "big") % 7
    assert result.frame["color"].iloc[0] == expected
    assert result.frame["color"].isna().iloc[1]


def test_group_rare_groups_rare_and_unseen_categories():
    step = Step("group_rare", {"column": "color", "min_frequency": 0.3, "other_label": "Other"})
    fitted = flow_run(_frame(["red", "red", "red", "blue", None]), [step])
    assert fitted.frame["color"].tolist()[:4] == ["red", "red", "red", "Other"]
    assert fitted.frame["color"].isna().iloc[4]
    later = flow_run(_frame(["green", "red"]), [step], states=fitted.states)
    assert later.frame["color"].tolist() == ["Other", "red"]


def test_ordinal_encode_follows_the_given_order():
    step = Step("ordinal_encode", {"column": "color", "order": ["small", "large"]})
    result = flow_run(_frame(["large", "small", "huge"]), [step])
    assert result.frame["color"].tolist()[:2] == [1, 0]
    assert result.frame["color"].isna().iloc[2]
