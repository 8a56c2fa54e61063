"""Custom pandas code steps: run in a separate, limited process, never in the caller's; the preview stops before
them; their errors, time and memory limits give messages at the step."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from engine.wrangler import Step, TransformError, flow_run
from engine.wrangler.custom import CustomCodeLimits, custom_code_run

LIMITS = CustomCodeLimits(timeout_seconds=20, memory_mb=4096)


def frame() -> pd.DataFrame:
    return pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})


def test_the_code_transforms_df_in_a_child_process():
    code = "import os\ndf['c'] = df['a'] * 10\ndf['pid'] = os.getpid()"
    out = custom_code_run(frame(), code, LIMITS)
    assert out["c"].tolist() == [10, 20, 30]
    assert out["pid"].iloc[0] != os.getpid()


def test_the_child_does_not_see_the_studios_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://secret@db/studio")
    out = custom_code_run(frame(), "import os\ndf['env'] = os.environ.get('DATABASE_URL', 'none')", LIMITS)
    assert out["env"].tolist() == ["none"] * 3


@pytest.mark.parametrize(("code", "message"), [
    ("df = df['missing']", "The custom code failed: KeyError: 'missing' (line 1"),
    ("df = 3", "the code must leave a DataFrame in df (got int)"),
    ("df = df[", "Line 1:"),
    ("   ", "Write the code of this step."),
])
def test_errors_in_the_code_are_explained_at_the_step(code, message):
    with pytest.raises(TransformError) as caught:
        custom_code_run(frame(), code, LIMITS)
    assert message in caught.value.message and caught.value.param == "code"


def test_code_that_runs_too_long_is_stopped():
    with pytest.raises(TransformError, match="ran longer than 1 s"):
        custom_code_run(frame(), "while True:\n    pass", CustomCodeLimits(timeout_seconds=1, memory_mb=1024))


def test_code_that_needs_too_much_memory_fails_with_the_limit_named():
    with pytest.raises(TransformError, match="more than 600 MB"):
        custom_code_run(frame(), "big = bytearray(2_000_000_000)", CustomCodeLimits(timeout_seconds=30, memory_mb=600))


def test_without_custom_code_allowed_the_run_stops_before_the_step_without_failing():
    steps = [Step("duplicate_column", {"column": "a", "new_name": "a2"}),
             Step("custom_pandas", {"code": "df['c'] = 1"}),
             Step("drop_columns", {"columns": ["c"]})]
    result = flow_run(frame(), steps, stop_at_error=False)
    assert result.failed is None and result.stopped_at == 1
    assert list(result.frame.columns) == ["a", "b", "a2"]
    assert "only when the flow is applied" in result.reports[1].note
    assert "after a custom code step" in result.reports[2].note
    applied = flow_run(frame(), steps, custom_code=LIMITS)
    assert list(applied.frame.columns) == ["a", "b", "a2"] and applied.stopped_at is None
