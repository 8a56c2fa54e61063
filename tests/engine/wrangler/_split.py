"""A stand-in split step for tests of fitting on training rows: it marks rows by a fixed pattern."""

from __future__ import annotations

import pandas as pd
import pytest

from engine.wrangler.registry import TRANSFORMS, Param, Transform


def _mark_split(df: pd.DataFrame, params: dict, state: dict) -> pd.DataFrame:
    out = df.copy(deep=False)
    out["split"] = pd.Series(params["labels"], index=df.index, dtype="string")
    return out


@pytest.fixture
def split_step(monkeypatch):
    """Registers `mark_split_for_test` (params: labels, one per row) for the test only."""
    spec = Transform("mark_split_for_test", "Split", "Mark rows for a test.", (Param("labels", "string_list"),), _mark_split, {},
                     marks_split=True)
    monkeypatch.setitem(TRANSFORMS, spec.name, spec)
    return spec.name
