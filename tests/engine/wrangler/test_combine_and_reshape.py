"""Joins explain mismatched key types; pivots refuse to explode into too many columns; reshaping keeps values."""

from __future__ import annotations

import pandas as pd
import pytest

from engine.wrangler import Step, TransformError, flow_run
from engine.wrangler.sample import sample_frame, sample_other


def run(frame, transform, **params):
    return flow_run(frame, [Step(transform, params)], resolve=lambda reference: sample_other()).frame


def test_a_left_join_adds_the_other_columns_and_keeps_every_row():
    frame = sample_frame()
    joined = run(frame, "join", other="other", left_on=["city"], how="left")
    assert len(joined) == len(frame)
    assert joined.loc[joined["city"] == "Lyon", "region"].eq("ARA").all()
    assert joined.loc[joined["city"] == "paris", "region"].isna().all()


def test_an_inner_join_keeps_only_matching_rows():
    joined = run(sample_frame(), "join", other="other", left_on=["city"], how="inner")
    assert set(joined["city"]) <= {"Paris", "Lyon", "Lille", "Nice", "Brest"}


def test_joining_keys_of_different_types_names_both_types_and_suggests_a_cast():
    with pytest.raises(TransformError) as caught:
        run(sample_frame(), "join", other="other", left_on=["visits"], right_on=["city"])
    message = caught.value.message
    assert "'visits' (number, int64)" in message and "'city'" in message and "(text, string)" in message
    assert "cast_column" in message


def test_a_join_on_a_key_the_other_dataset_lacks_lists_its_columns():
    with pytest.raises(TransformError, match="no column 'town'.*'region'"):
        run(sample_frame(), "join", other="other", left_on=["city"], right_on=["town"])


def test_concatenate_appends_rows_by_name():
    frame = sample_frame()
    both = run(frame, "concatenate", other="other", columns="common")
    assert list(both.columns) == ["city"] and len(both) == len(frame) + 6


def test_a_pivot_that_would_create_too_many_columns_fails_with_the_count_and_a_hint():
    with pytest.raises(TransformError) as caught:
        run(sample_frame(), "pivot", index=["plan"], columns="customer_id", values="income", max_columns=100)
    assert "240 columns" in caught.value.message and "group_rare" in caught.value.message


def test_a_pivot_gives_one_row_per_index_and_one_column_per_value():
    table = run(sample_frame(), "pivot", index=["plan"], columns="churned", values="visits", aggregation="sum")
    assert list(table.columns) == ["plan", "churned_no", "churned_yes"]
    assert table[["churned_no", "churned_yes"]].to_numpy().sum() == sample_frame()["visits"].sum()


def test_group_by_aggregate_names_columns_after_the_function():
    frame = sample_frame()
    table = run(frame, "group_by_aggregate", group_by=["plan"], aggregations={"visits": "sum,max"})
    assert list(table.columns) == ["plan", "visits_sum", "visits_max"]
    assert table["visits_sum"].sum() == frame["visits"].sum()


def test_group_by_aggregate_refuses_a_mean_of_text():
    with pytest.raises(TransformError, match="mean needs a number column"):
        run(sample_frame(), "group_by_aggregate", group_by=["plan"], aggregations={"city": "mean"})


def test_melt_and_explode_make_one_row_per_value():
    frame = sample_frame()
    assert len(run(frame, "melt", id_columns=["customer_id"], value_columns=["age", "income"])) == 2 * len(frame)
    exploded = run(frame, "explode_list", column="tags")
    assert len(exploded) == frame["tags"].str.count(",").sum() + len(frame)
    assert set(exploded["tags"]) == {"a", "b", "c", "d"}


def test_unnest_json_makes_columns_and_treats_invalid_rows_as_missing():
    frame = pd.DataFrame({"data": pd.Series(['{"a": 1, "b": "x"}', "not json", None, '{"a": 2}'], dtype="string")})
    out = run(frame, "unnest_json", column="data")
    assert out["data_a"].tolist()[::3] == [1, 2]
    assert out["data_b"].isna().tolist() == [False, True, True, True]
    with pytest.raises(TransformError, match="1 rows of 'data' are not JSON objects"):
        run(frame, "unnest_json", column="data", on_invalid="fail")


def test_a_join_whose_repeated_keys_would_multiply_rows_is_refused():
    frame = pd.DataFrame({"key": ["k"] * 300, "x": range(300)})
    with pytest.raises(TransformError, match="90,000 matched rows"):
        flow_run(frame, [Step("join", {"other": "same", "left_on": ["key"], "max_rows": 1000})],
                 resolve=lambda reference: frame)


def test_melt_refuses_columns_of_different_kinds():
    with pytest.raises(TransformError, match="number and text"):
        run(sample_frame(), "melt", id_columns=["customer_id"], value_columns=["age", "city"])


def test_a_pivot_keeps_missing_keys_without_making_every_combination():
    frame = pd.DataFrame({"a": ["x", "x", "y", None], "c": ["u", "v", "u", "u"],
                          "b": ["p", "q", "p", None], "v": [1.0, 2.0, 3.0, 4.0]})
    table = run(frame, "pivot", index=["a", "c"], columns="b", values="v", aggregation="sum")
    assert list(table.columns) == ["a", "c", "b_p", "b_q", "b_missing"]
    assert len(table) == 4
