"""The insights report on frames built to trigger each warning, on clean data, and on real data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from engine.insights import InsightsError, insights_report
from engine.runtime import JobStopped, LocalContext

ROWS = 400


def clean_frame(rows: int = ROWS) -> pd.DataFrame:
    """Nothing to warn about: normal numbers, a balanced few-valued category, no gaps, no repeats."""
    rng = np.random.default_rng(1)
    return pd.DataFrame({
        "height": rng.normal(170, 10, rows),
        "weight": rng.normal(70, 8, rows),
        "colour": rng.choice(["red", "green", "blue"], rows),
    })


def kinds(report: dict, column: str | None = None) -> set[str]:
    return {w["kind"] for w in report["warnings"] if column is None or column in w["columns"]}


def one(report: dict, kind: str) -> dict:
    [found] = [w for w in report["warnings"] if w["kind"] == kind]
    return found


def test_clean_data_has_no_warnings_and_the_report_is_strict_json():
    report = insights_report(clean_frame())
    assert report["warnings"] == []
    json.dumps(report, allow_nan=False)
    assert [c["type"] for c in report["columns"]] == ["numeric", "numeric", "categorical"]


def test_column_profiles_hold_counts_statistics_and_a_histogram_or_top_values():
    frame = clean_frame()
    frame.loc[:9, "height"] = np.nan
    report = insights_report(frame)
    height, colour = report["columns"][0], report["columns"][2]
    assert height["missing"] == 10 and height["missing_ratio"] == pytest.approx(10 / ROWS)
    assert set(height["quantiles"]) == {"p5", "p25", "p50", "p75", "p95"}
    assert height["min"] < height["quantiles"]["p50"] < height["max"] and abs(height["skew"]) < 1
    assert sum(height["histogram"]["counts"]) == ROWS - 10
    assert len(height["histogram"]["edges"]) == len(height["histogram"]["counts"]) + 1
    assert {top["value"] for top in colour["top"]} == {"red", "green", "blue"}


def test_types_are_inferred_for_datetimes_booleans_and_free_text():
    rows = 60
    frame = pd.DataFrame({
        "when": pd.date_range("2024-01-01", periods=rows, freq="D"),
        "flag": [True, False] * (rows // 2),
        "note": [f"a customer wrote a fairly long comment number {i} about the order" for i in range(rows)],
    })
    report = insights_report(frame)
    assert [c["type"] for c in report["columns"]] == ["datetime", "boolean", "text"]
    assert report["columns"][0]["histogram"]["edges"][0].startswith("2024-01-01")


def test_a_constant_column_is_flagged_with_a_drop():
    frame = clean_frame().assign(country="NZ")
    warning = one(insights_report(frame), "constant")
    assert warning["columns"] == ["country"] and warning["severity"] == "high"
    assert warning["fix"] == {"transform": "drop_columns", "params": {"columns": ["country"]},
                              "label": "Drop column country"}


def test_a_high_cardinality_category_proposes_grouping_rare_values():
    frame = clean_frame()
    frame["city"] = [f"city-{i % 150}" for i in range(ROWS)]
    warning = one(insights_report(frame), "high_cardinality")
    assert warning["value"] == 150 and warning["threshold"] == 100
    assert warning["fix"]["transform"] == "group_rare"
    assert warning["fix"]["params"] == {"column": "city", "min_frequency": 0.01}


def test_highly_correlated_columns_propose_dropping_one():
    frame = clean_frame()
    frame["height_cm_again"] = frame["height"] * 1.0001 + 0.5
    warning = one(insights_report(frame), "high_correlation")
    assert warning["columns"] == ["height", "height_cm_again"] and warning["value"] > 0.99
    assert warning["threshold"] == 0.95 and warning["fix"]["params"] == {"columns": ["height_cm_again"]}


def test_skewed_columns_get_a_log_when_positive_and_yeo_johnson_otherwise():
    rng = np.random.default_rng(2)
    frame = clean_frame().assign(income=rng.lognormal(0, 1.5, ROWS))
    frame["debt"] = -frame["income"] + 1
    report = insights_report(frame)
    by_column = {w["columns"][0]: w for w in report["warnings"] if w["kind"] == "skew"}
    assert by_column["income"]["fix"] == {"transform": "log_transform", "params": {"columns": ["income"]},
                                          "label": "Log-transform income"}
    assert by_column["debt"]["fix"]["transform"] == "yeo_johnson" and by_column["debt"]["value"] < -3


def test_outliers_by_the_robust_rule_show_their_ratio_and_propose_clipping():
    frame = clean_frame()
    frame.loc[[3, 7], "weight"] = [900.0, -500.0]
    warning = one(insights_report(frame), "outliers")
    assert warning["columns"] == ["weight"] and warning["count"] == 2
    assert warning["value"] == pytest.approx(2 / ROWS) and warning["threshold"] == 5
    assert warning["fix"]["params"] == {"columns": ["weight"], "threshold": 5, "fix": "clip"}


def test_duplicate_rows_are_counted_on_every_row_with_examples():
    frame = pd.concat([clean_frame(), clean_frame().iloc[:3]], ignore_index=True)
    warning = one(insights_report(frame), "duplicate_rows")
    assert warning["count"] == 3 and warning["example_rows"] == [ROWS, ROWS + 1, ROWS + 2]
    assert warning["fix"] == {"transform": "drop_duplicates", "params": {}, "label": "Drop duplicate rows"}


def test_missing_values_propose_a_fill_or_a_drop_by_how_many():
    frame = clean_frame()
    frame.loc[:39, "height"] = np.nan  # 10%
    frame.loc[:39, "colour"] = None  # 10%
    frame["mostly_empty"] = np.where(np.arange(ROWS) < 300, np.nan, np.arange(ROWS) % 7)
    report = insights_report(frame)
    fixes = {w["columns"][0]: w["fix"] for w in report["warnings"] if w["kind"] == "missing"}
    assert fixes["height"]["transform"] == "fill_median" and fixes["colour"]["transform"] == "fill_mode"
    assert fixes["mostly_empty"] == {"transform": "drop_columns", "params": {"columns": ["mostly_empty"]},
                                     "label": "Drop column mostly_empty"}


def test_an_imbalanced_target_proposes_oversampling():
    frame = clean_frame().assign(label=["rare" if i % 10 == 0 else "common" for i in range(ROWS)])
    warning = one(insights_report(frame, target="label"), "target_imbalance")
    assert warning["value"] == pytest.approx(40 / 360) and warning["threshold"] == 0.2
    assert warning["fix"] == {"transform": "random_oversample", "params": {"target": "label"},
                              "label": "Oversample the rarer classes of label"}


def test_a_column_mixing_numbers_and_text_proposes_a_cast():
    frame = clean_frame()
    frame["amount"] = pd.Series([str(i % 7) if i % 5 else "n/a" for i in range(ROWS)], dtype=object)
    frame.loc[1, "amount"] = 12  # a real number among the strings, as a hand-built frame can hold
    warning = one(insights_report(frame), "mixed_types")
    assert warning["fix"] == {"transform": "cast_column", "params": {"column": "amount", "to": "float"},
                              "label": "Cast amount to a number (values that are not numbers become missing)"}
    assert warning["value"] == pytest.approx(0.8)


def test_infinite_values_propose_replacing_them():
    frame = clean_frame()
    frame.loc[5, "height"] = np.inf
    warning = one(insights_report(frame), "infinite")
    assert warning["count"] == 1 and warning["fix"]["transform"] == "replace_infinite"


def test_identifier_like_columns_propose_a_drop():
    frame = clean_frame().assign(row_id=range(1000, 1000 + ROWS), code=[f"X{i:05d}" for i in range(ROWS)])
    report = insights_report(frame)
    assert kinds(report, "row_id") == {"identifier"} and kinds(report, "code") == {"identifier"}
    assert {w["fix"]["transform"] for w in report["warnings"]} == {"drop_columns"}


def test_a_copied_target_is_flagged_as_leakage():
    frame = clean_frame()
    frame["label"] = np.where(frame["height"] > 170, "tall", "short")
    frame["label_copy"] = frame["label"]
    report = insights_report(frame, target="label")
    powers = {p["column"]: p for p in report["target"]["prediction_power"]}
    assert powers["label_copy"]["power"] == 1.0 and powers["label_copy"]["leakage"]
    assert powers["weight"]["power"] < 0.3 and not powers["weight"]["leakage"]
    leak = [w for w in report["warnings"] if w["kind"] == "target_leakage"]
    assert ["label_copy"] in [w["columns"] for w in leak]
    assert leak[0]["threshold"] == 0.95 and leak[0]["fix"]["transform"] == "drop_columns"


def test_the_quick_model_scores_breast_cancer_well():
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    report = insights_report(frame, target="target")
    section = report["target"]
    assert section["problem_type"] == "binary" and section["inferred_problem_type"] == "binary"
    scores = section["model"]["scores"]
    assert scores["accuracy"] > 0.9 and scores["roc_auc"] > 0.95 and scores["balanced_accuracy"] > 0.9
    assert section["model"]["test_rows"] == 114 and section["model"]["split"] == "80%/20% stratified"
    importance = section["model"]["feature_importance"]
    assert len(importance) == 30 and sum(f["importance"] for f in importance) == pytest.approx(1.0)
    assert not [w for w in report["warnings"] if w["kind"] == "target_leakage"]
    assert {c["value"] for c in section["distribution"]["classes"]} == {"0", "1"}
    assert report["anomalies"]["count"] > 0 and len(report["anomalies"]["top"]) == 10


def test_regression_and_multiclass_are_inferred_and_scored():
    rng = np.random.default_rng(3)
    frame = clean_frame()
    frame["price"] = frame["height"] * 3 + rng.normal(0, 1, ROWS)
    regression = insights_report(frame, target="price")["target"]
    assert regression["problem_type"] == "regression" and regression["model"]["scores"]["r2"] > 0.8
    multiclass = insights_report(frame, target="colour")["target"]
    assert multiclass["problem_type"] == "multiclass" and multiclass["model"]["scores"]["accuracy"] is not None


def test_the_problem_type_can_be_overridden_and_is_checked():
    frame = clean_frame().assign(grade=[i % 3 for i in range(ROWS)])
    assert insights_report(frame, target="grade")["target"]["problem_type"] == "multiclass"
    forced = insights_report(frame, target="grade", problem_type="regression")["target"]
    assert forced["problem_type"] == "regression" and forced["problem_type_given"]
    wrong = insights_report(frame, target="grade", problem_type="binary")["target"]
    assert "3 classes, not 2" in wrong["error"] and wrong["model"] is None
    with pytest.raises(InsightsError, match="Unknown problem type"):
        insights_report(frame, target="grade", problem_type="ranking")


def test_a_target_that_is_not_a_column_is_refused_with_the_columns_listed():
    with pytest.raises(InsightsError, match="no column called 'price'.*height, weight, colour") as raised:
        insights_report(clean_frame(), target="price")
    assert raised.value.field == "target"


@pytest.mark.parametrize(("values", "expected"), [
    (["same"] * ROWS, "has a single value"),
    ([None] * ROWS, "missing in every row"),
])
def test_a_target_with_one_class_or_no_values_is_explained_and_the_rest_is_reported(values, expected):
    frame = clean_frame().assign(label=values)
    report = insights_report(frame, target="label")
    assert expected in report["target"]["error"] and report["target"]["model"] is None
    assert len(report["columns"]) == 4


def test_an_empty_dataset_reports_its_columns_and_says_it_has_no_rows():
    report = insights_report(clean_frame().iloc[:0], target="colour")
    assert report["rows"] == 0 and len(report["columns"]) == 3 and "no rows" in report["notes"][0]
    assert "missing in every row" in report["target"]["error"]
    json.dumps(report, allow_nan=False)


def test_a_frame_without_columns_is_refused():
    with pytest.raises(InsightsError, match="no columns"):
        insights_report(pd.DataFrame())


def test_a_single_column_dataset_reports_and_its_target_has_nothing_to_model_with():
    frame = clean_frame()[["colour"]]
    assert insights_report(frame)["column_count"] == 1
    section = insights_report(frame, target="colour")["target"]
    assert "no column besides the target" in section["model_error"]


def test_a_column_full_of_infinities_is_flagged_and_has_no_statistics():
    frame = clean_frame().assign(broken=np.inf)
    report = insights_report(frame, target="colour")
    broken = report["columns"][3]
    assert broken["infinite"] == ROWS and broken["mean"] is None and broken["histogram"] is None
    assert {"infinite", "constant"} <= kinds(report, "broken")
    json.dumps(report, allow_nan=False)


def test_large_frames_are_sampled_and_say_so_while_counts_use_every_row():
    frame = pd.concat([clean_frame(2_000)] * 2, ignore_index=True)
    frame.loc[:99, "height"] = np.nan
    report = insights_report(frame, sample_rows=1_000)
    assert report["sample"] == {**report["sample"], "rows": 1_000, "sampled": True}
    assert "1,000 of the 4,000 rows" in report["sample"]["note"]
    assert report["columns"][0]["missing"] == 100 and report["summary"]["duplicate_rows"] == 1_900


def test_progress_is_reported_and_a_stop_request_is_honoured():
    context = LocalContext()
    insights_report(clean_frame(), target="colour", ctx=context)
    percents = [percent for percent, _ in context.progress_updates]
    assert percents == sorted(percents) and percents[-1] == 100
    with pytest.raises(JobStopped):
        insights_report(clean_frame(), ctx=LocalContext(stop_after_checks=1))


def test_classes_seen_once_are_left_out_of_the_model_and_said_so():
    frame = clean_frame(60).assign(label=["a"] * 30 + ["b"] * 28 + ["c", "d"])
    section = insights_report(frame, target="label")["target"]
    assert section["model"]["split"] == "80%/20% stratified" and "c, d" in section["model_note"]
    every_row_its_own_class = clean_frame(60).assign(label=[f"id{i}" for i in range(60)])
    section = insights_report(every_row_its_own_class, target="label")["target"]
    assert section["model"] is None and "Fewer than two classes" in section["model_error"]


def test_a_datetime_target_is_explained():
    frame = clean_frame(60).assign(when=pd.date_range("2024-01-01", periods=60, tz="UTC"))
    assert "holds dates and times" in insights_report(frame, target="when")["target"]["error"]
