"""Every fix the report proposes is a registered transform whose parameters check, and it runs as a flow step
on the data it was proposed for: the one-click "add to a flow" never adds a step that fails."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.insights import insights_report
from engine.wrangler import Step, flow_run, params_check, transform_get

ROWS = 400


def messy_frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({
        "height": rng.normal(170, 10, ROWS),
        "weight": rng.normal(70, 8, ROWS),
        "colour": pd.Series(rng.choice(["red", "green", "blue"], ROWS), dtype=object),
        "constant": 1.0,
        "income": rng.lognormal(10, 2.0, ROWS),
        "debt": -rng.lognormal(5, 2.0, ROWS),
        "row_id": np.arange(1000, 1000 + ROWS),
        "code": [f"X{i:05d}" for i in range(ROWS)],
        "label": ["rare" if i % 10 == 0 else "common" for i in range(ROWS)],
    })
    frame["height_again"] = frame["height"] * 2 + 0.001
    frame.loc[:39, "height"] = np.nan
    frame.loc[:39, "colour"] = None
    frame.loc[[3, 7], "weight"] = [900.0, -500.0]
    frame.loc[5, "income"] = np.inf
    frame["amount"] = pd.Series([str(i % 7) if i % 5 else "n/a" for i in range(ROWS)], dtype=object)
    frame["label_copy"] = frame["label"]
    frame["mostly_empty"] = np.where(np.arange(ROWS) < 300, np.nan, np.arange(ROWS) % 7)
    return pd.concat([frame, frame.iloc[:3]], ignore_index=True)


def test_every_proposed_fix_checks_and_runs_as_a_flow_step():
    frame = messy_frame()
    report = insights_report(frame, target="label")
    fixes = [w["fix"] for w in report["warnings"]]
    fixes += [alt for w in report["warnings"] for alt in w.get("alternatives", [])]
    proposed = {fix["transform"] for fix in fixes}
    # The report found the problems it was built to find, so the test covers the proposals that matter.
    assert {"drop_columns", "fill_median", "fill_mode", "log_transform", "yeo_johnson", "outliers_robust_std",
            "drop_duplicates", "random_oversample", "cast_column", "replace_infinite"} <= proposed, proposed
    for fix in fixes:
        spec = transform_get(fix["transform"])
        params_check(spec, fix["params"], [str(column) for column in frame.columns])
        result = flow_run(frame, [Step(fix["transform"], fix["params"])], stop_at_error=False)
        assert result.failed is None, (fix, result.failed and result.failed.error)
