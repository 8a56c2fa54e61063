"""Dates are parsed with a format, time-series steps follow time order within groups, and category spellings
merge into the most frequent one."""

from __future__ import annotations

import pandas as pd
import pytest

from engine.wrangler import Step, TransformError, flow_run
from engine.wrangler.sample import sample_frame, sample_other


def run(frame, transform, **params):
    return flow_run(frame, [Step(transform, params)])


def test_cluster_categories_merges_the_spellings_of_paris_in_the_sample():
    frame = sample_frame()
    result = run(frame, "cluster_categories", column="city")
    assert result.states[0]["mapping"] == {"paris": "Paris", "Paris ": "Paris"}
    assert set(result.frame["city"].dropna()) == {"Paris", "Lyon", "Lille", "Nice", "Brest"}
    assert (result.frame["city"] == "Paris").sum() == frame["city"].str.strip().str.lower().eq("paris").sum()


def test_cluster_categories_sends_a_spelling_unseen_in_training_to_its_cluster():
    train = pd.DataFrame({"city": pd.Series(["Saint-Étienne", "Saint-Étienne", "saint etienne"], dtype="string")})
    result = run(train, "cluster_categories", column="city")
    later = pd.DataFrame({"city": pd.Series(["SAINT ETIENNE", "Lyon"], dtype="string")})
    applied = flow_run(later, [Step("cluster_categories", {"column": "city"})], states=result.states)
    assert applied.frame["city"].tolist() == ["Saint-Étienne", "Lyon"]


def test_cluster_categories_by_edit_distance_merges_typos():
    frame = pd.DataFrame({"city": pd.Series(["Marseille"] * 3 + ["Marseile", "Marsielle", "Nice"], dtype="string")})
    out = run(frame, "cluster_categories", column="city", method="edit_distance", max_distance=2).frame
    assert out["city"].tolist() == ["Marseille"] * 5 + ["Nice"]


def test_parse_datetime_reads_a_format_and_explains_one_that_matches_nothing():
    frame = sample_frame()
    parsed = run(frame, "parse_datetime", column="signup_text", format="%d/%m/%Y").frame
    assert parsed["signup_text"].equals(frame["signup_date"].astype(parsed["signup_text"].dtype))
    with pytest.raises(TransformError, match="matches the format '%Y-%m-%d'"):
        run(frame, "parse_datetime", column="signup_text", format="%Y-%m-%d")


def test_date_steps_refuse_text_and_point_to_parse_datetime():
    with pytest.raises(TransformError, match="parse_datetime"):
        run(sample_frame(), "datetime_parts", column="signup_text")


def test_time_since_and_difference_count_in_the_unit():
    frame = pd.DataFrame({"a": pd.to_datetime(["2025-01-01", "2025-01-03"]),
                          "b": pd.to_datetime(["2025-01-02 00:00", "2025-01-03 12:00"])})
    out = run(frame, "time_since", column="a", reference="2025-01-11", unit="days").frame
    assert out["a_age_days"].tolist() == [10.0, 8.0]
    out = run(frame, "datetime_difference", start="a", end="b", unit="hours").frame
    assert out["b_minus_a_hours"].tolist() == [24.0, 12.0]


def test_cyclic_encoding_puts_december_next_to_january():
    frame = pd.DataFrame({"when": pd.to_datetime(["2025-01-15", "2025-12-15", "2025-07-15"])})
    out = run(frame, "cyclic_encode", column="when", part="month").frame
    points = out[["when_month_sin", "when_month_cos"]].to_numpy()
    assert ((points[0] - points[1]) ** 2).sum() < ((points[0] - points[2]) ** 2).sum()


def test_lag_follows_time_order_within_each_group():
    frame = pd.DataFrame({"shop": ["a", "b", "a", "a", "b"], "day": [3, 1, 1, 2, 2], "sales": [30, 10, 1, 2, 20]})
    out = run(frame, "lag", column="sales", group_by=["shop"], order_by="day").frame
    assert out["sales_lag_1"].tolist()[:5] == pytest.approx([2, float("nan"), float("nan"), 1, 10], nan_ok=True)


def test_rolling_window_averages_the_last_rows_in_time_order():
    frame = pd.DataFrame({"day": [4, 1, 3, 2], "value": [4.0, 1.0, 3.0, 2.0]})
    out = run(frame, "rolling_window", column="value", window=2, order_by="day").frame
    assert out["value_rolling_mean_2"].tolist() == [3.5, 1.0, 2.5, 1.5]


def test_resample_and_fill_time_gaps_make_a_regular_series():
    frame = pd.DataFrame({"when": pd.to_datetime(["2025-01-01", "2025-01-01", "2025-01-04"]), "value": [1.0, 3.0, 5.0]})
    daily = run(frame, "resample", time_column="when", rule="D", aggregation="mean").frame
    assert daily["value"].tolist() == pytest.approx([2.0, float("nan"), float("nan"), 5.0], nan_ok=True)
    filled = run(frame, "fill_time_gaps", time_column="when", frequency="D", method="zero").frame
    assert filled["when"].dt.day.tolist() == [1, 1, 2, 3, 4]
    assert filled["value"].tolist() == [1.0, 3.0, 0.0, 0.0, 5.0]


def test_resample_explains_an_unknown_frequency():
    with pytest.raises(TransformError, match="not a frequency"):
        run(sample_frame(), "resample", time_column="signup_date", rule="fortnightly")


def test_rows_are_sorted_sampled_and_deduplicated():
    frame = sample_frame()
    ordered = run(frame, "sort_rows", columns=["income"], ascending=False).frame["income"].dropna()
    assert ordered.is_monotonic_decreasing
    assert len(run(frame, "sample_rows", rows=50, seed=1).frame) == 50
    assert len(run(frame, "drop_duplicates", columns=["plan"]).frame) == 3
    assert run(frame, "drop_duplicates", columns=["customer_id", "plan"], keep="none").frame.equals(frame)


def test_map_categories_replaces_the_values_given_and_keeps_the_rest():
    out = run(sample_frame(), "map_categories", column="plan", mapping={"plus": "paid", "pro": "paid"}).frame
    assert set(out["plan"]) == {"basic", "paid"}


def test_difference_and_expanding_window_follow_time_order_within_groups():
    frame = pd.DataFrame({"shop": ["a", "b", "a", "a", "b"], "day": [3, 1, 1, 2, 2], "sales": [30, 10, 1, 2, 20]})
    out = run(frame, "difference", column="sales", group_by=["shop"], order_by="day").frame
    assert out["sales_difference_1"].tolist() == pytest.approx([28, float("nan"), float("nan"), 1, 10], nan_ok=True)
    out = run(frame, "expanding_window", column="sales", group_by=["shop"], order_by="day").frame
    assert out["sales_cumulative_sum"].tolist() == [33, 10, 1, 3, 30]


def test_round_datetime_and_convert_timezone():
    frame = pd.DataFrame({"when": pd.to_datetime(["2025-03-30 00:40", "2025-06-01 12:10"])})
    assert run(frame, "round_datetime", column="when", frequency="h").frame["when"].dt.hour.tolist() == [0, 12]
    paris = run(frame, "convert_timezone", column="when", timezone="Europe/Paris", keep_timezone=False).frame
    assert paris["when"].dt.hour.tolist() == [1, 14]
    with pytest.raises(TransformError, match="not a time zone"):
        run(frame, "convert_timezone", column="when", timezone="Paris")


def test_semi_and_anti_joins_split_the_rows_by_whether_they_match():
    frame = sample_frame()
    resolve = {"resolve": lambda reference: sample_other()}
    semi = flow_run(frame, [Step("join", {"other": "o", "left_on": ["city"], "how": "semi"})], **resolve).frame
    anti = flow_run(frame, [Step("join", {"other": "o", "left_on": ["city"], "how": "anti"})], **resolve).frame
    assert len(semi) + len(anti) == len(frame) and list(semi.columns) == list(frame.columns)
    assert set(anti["city"].dropna()) == {"paris", "Paris "}


def test_fill_time_gaps_fills_each_group_within_its_own_span():
    frame = pd.DataFrame({"shop": ["a", "b", "a", "b"], "value": [1.0, 10.0, 3.0, 30.0],
                          "when": pd.to_datetime(["2025-01-01", "2025-01-05", "2025-01-03", "2025-01-06"])})
    out = run(frame, "fill_time_gaps", time_column="when", frequency="D", method="forward", group_by=["shop"]).frame
    assert out["shop"].tolist() == ["a", "a", "a", "b", "b"]
    assert out["when"].dt.day.tolist() == [1, 2, 3, 5, 6]
    assert out["value"].tolist() == [1.0, 1.0, 3.0, 10.0, 30.0]
