"""Every registered transform runs on the shared sample with its example parameters, leaves its input
untouched, and its exported script reproduces the studio's output exactly."""

from __future__ import annotations

import runpy
import sys

import pandas as pd
import pytest

from engine.wrangler import Step, flow_run, transform_list
from engine.wrangler.custom import CustomCodeLimits
from engine.wrangler.export import flow_export_script
from engine.wrangler.sample import sample_frame, sample_other

TRANSFORMS = transform_list()
CUSTOM_CODE = CustomCodeLimits(timeout_seconds=60, memory_mb=4096)


def resolve(reference):
    assert str(reference) == "other", reference
    return sample_other()


def _through_parquet(frame: pd.DataFrame, path) -> pd.DataFrame:
    frame.to_parquet(path, index=False)
    return pd.read_parquet(path)


@pytest.mark.parametrize("spec", TRANSFORMS, ids=[spec.name for spec in TRANSFORMS])
def test_the_transform_runs_on_the_sample_and_leaves_its_input_alone(spec):
    frame = sample_frame()
    before = frame.copy(deep=True)
    result = flow_run(frame, [Step(spec.name, spec.example)], resolve=resolve, custom_code=CUSTOM_CODE)
    assert isinstance(result.frame, pd.DataFrame)
    pd.testing.assert_frame_equal(frame, before)
    assert (result.states[0] is not None) == spec.stateful


@pytest.mark.parametrize("spec", TRANSFORMS, ids=[spec.name for spec in TRANSFORMS])
def test_the_exported_script_reproduces_the_studio_output(spec, tmp_path, monkeypatch):
    steps = [Step(spec.name, spec.example)]
    frame = sample_frame()
    result = flow_run(frame, steps, resolve=resolve, custom_code=CUSTOM_CODE)
    studio = _through_parquet(result.frame, tmp_path / "studio.parquet")

    script = tmp_path / "flow.py"
    script.write_text(flow_export_script(result, steps, filename="flow.py"))
    frame.to_parquet(tmp_path / "input.parquet", index=False)
    sample_other().to_parquet(tmp_path / "other.parquet", index=False)
    argv = ["flow.py", str(tmp_path / "input.parquet"), str(tmp_path / "output.parquet"),
            "--dataset", f"other={tmp_path / 'other.parquet'}"]
    monkeypatch.setattr(sys, "argv", argv)
    runpy.run_path(str(script), run_name="__main__")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "output.parquet"), studio)


def test_every_family_has_transforms_and_the_schema_is_json():
    import json

    names = [spec.name for spec in TRANSFORMS]
    assert len(names) == len(set(names))
    for spec in TRANSFORMS:
        json.dumps(spec.schema())
        assert spec.description.endswith("."), spec.name
