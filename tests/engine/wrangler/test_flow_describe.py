"""The preview's per-step description: which columns a step added, changed or removed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.wrangler import Step, flow_run


def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "a": [1.0, np.nan, 3.0], "b": pd.Series(["x", "y", None], dtype="string"), "c": [1, 2, 3],
        "full": [1.0, 2.0, 3.0],
    })


def test_a_step_reports_added_changed_and_removed_columns():
    steps = [
        Step("fill_median", {"columns": ["a", "full"]}),  # "full" has nothing missing: not changed
        Step("cast_column", {"column": "c", "to": "float"}),
        Step("rename_columns", {"mapping": {"b": "label"}}),
        Step("filter_rows", {"expression": "c >= 2"}),
    ]
    reports = flow_run(frame(), steps, describe=True).reports
    assert (reports[0].added, reports[0].changed, reports[0].removed) == ([], ["a"], [])
    assert reports[1].changed == ["c"]
    assert (reports[2].added, reports[2].changed, reports[2].removed) == (["label"], [], ["b"])
    # Fewer rows: every kept column changed.
    assert reports[3].changed == ["a", "label", "c", "full"]


def test_a_text_column_rewritten_with_the_same_values_is_not_changed_but_a_new_value_is():
    same = flow_run(frame(), [Step("text_case", {"column": "b", "case": "lower"})], describe=True).reports[0]
    upper = flow_run(frame(), [Step("text_case", {"column": "b", "case": "upper"})], describe=True).reports[0]
    assert same.changed == [] and upper.changed == ["b"]
