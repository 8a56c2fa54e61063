"""Applying a flow: a new version with its lineage, the same output as the engine on the full frame (whole or
streamed in chunks), nothing saved on failure or stop; the exported script reproduces the version."""

from __future__ import annotations

import json
import runpy
import sys

import pyarrow.parquet as pq
import pytest

from apps.core.artifacts import artifact_path
from apps.core.models import JobStatus
from apps.datasets.models import Dataset
from apps.wrangler import services
from apps.wrangler.models import FlowRun
from engine.datasets.types import normalize_table
from engine.runtime import JobStopped, LocalContext
from engine.wrangler import flow_run

from .conftest import CAST, DROP, RENAME


def _flow_with(flow, owner, *steps):
    for step in steps:
        flow = services.flow_step_add(flow=flow, user=owner, transform=step["transform"], params=step["params"])
    return flow


def _version_table(version):
    return pq.read_table(artifact_path(version.parquet)).replace_schema_metadata(None)


def _expected_table(flow, version):
    frame = services.version_frame(version=version)
    return services._arrow(flow_run(frame, services.steps_of(flow)).frame)


def test_apply_writes_version_2_made_from_version_1_with_the_engines_output(flow, owner, dataset, run_job):
    flow = _flow_with(flow, owner, RENAME, CAST, DROP)
    job = services.flow_apply_start(flow=flow, user=owner)
    assert job.kind == "flow.apply" and job.queue == "batch"
    job = run_job(job)
    assert job.status == JobStatus.COMPLETED, job.error
    dataset.refresh_from_db()
    version = dataset.current_version
    assert version.number == 2 and version.parent.number == 1
    assert version.note == "Made by flow customers flow run 1"
    assert version.origin == "flow"
    assert version.origin_detail == {"flow_id": flow.id, "flow": "customers flow", "run": 1,
                                     "from_dataset_id": dataset.id, "from_version": 1}
    run = FlowRun.objects.get(flow=flow)
    assert run.input_version.number == 1 and run.output_version == version and run.job == job
    assert [step["transform"] for step in run.steps] == ["rename_columns", "cast_column", "drop_columns"]
    assert _version_table(version).equals(_expected_table(flow, version.parent))
    assert version.column_names == ["customer_id", "age", "visits", "risk", "city"]
    fitted = json.loads(artifact_path(run.fitted).read_bytes())
    assert [step["transform"] for step in fitted["steps"]] == ["rename_columns", "cast_column", "drop_columns"]
    assert fitted["steps"][1]["params"]["on_error"] == "missing"  # checked params, defaults filled in
    assert job.outputs["version"] == 2 and job.outputs["dataset_id"] == dataset.id


def test_row_local_stateless_flows_stream_in_chunks_with_the_same_output(flow, owner, dataset, run_job, monkeypatch):
    monkeypatch.setattr(services, "CHUNK_ROWS", 64)
    flow = _flow_with(flow, owner, RENAME, CAST, DROP)
    job = run_job(services.flow_apply_start(flow=flow, user=owner))
    assert job.status == JobStatus.COMPLETED, job.error
    assert job.logs.filter(message__startswith="Streaming in chunks of 64 rows").exists()
    dataset.refresh_from_db()
    version = dataset.current_version
    assert pq.ParquetFile(artifact_path(version.parquet)).metadata.num_rows == 300
    assert _version_table(version).equals(_expected_table(flow, version.parent))


def test_apply_can_write_a_new_dataset(flow, owner, dataset, run_job, project):
    flow = _flow_with(flow, owner, DROP)
    job = run_job(services.flow_apply_start(flow=flow, user=owner, new_dataset_name="customers clean"))
    assert job.status == JobStatus.COMPLETED, job.error
    made = Dataset.objects.get(project=project, name="customers clean")
    assert made.current_version.number == 1 and made.current_version.parent == dataset.current_version
    dataset.refresh_from_db()
    assert dataset.versions.count() == 1


def test_a_step_that_fails_on_the_full_data_fails_the_job_and_saves_nothing(project, owner, run_job):
    from apps.datasets.services import dataset_import_dataframe

    from .conftest import customers

    frame = customers()
    frame.loc[200, "visits"] = "many"  # beyond the 10-row preview sample
    dataset = dataset_import_dataframe(project=project, user=owner, name="odd", frame=frame)
    flow = services.flow_create(project=project, user=owner, dataset=dataset)
    services.flow_update(flow=flow, user=owner, sample_rows=10)
    flow = services.flow_step_add(flow=flow, user=owner, transform="cast_column",
                                  params={"column": "visits", "to": "integer", "on_error": "fail"})
    assert services.flow_preview(flow=flow).ok
    job = run_job(services.flow_apply_start(flow=flow, user=owner))
    assert job.status == JobStatus.FAILED and "many" in job.error
    assert dataset.versions.count() == 1
    assert FlowRun.objects.get(job=job).output_version is None


def test_a_stop_between_chunks_saves_nothing(flow, owner, dataset, monkeypatch):
    monkeypatch.setattr(services, "CHUNK_ROWS", 50)
    flow = _flow_with(flow, owner, DROP)
    job = services.flow_apply_start(flow=flow, user=owner)
    with pytest.raises(JobStopped):
        services.flow_apply_run(job=job, ctx=LocalContext(stop_after_checks=2))
    assert dataset.versions.count() == 1
    assert FlowRun.objects.get(job=job).output_version is None


def test_the_exported_script_reproduces_the_applied_version(flow, owner, dataset, run_job, tmp_path, monkeypatch):
    flow = _flow_with(flow, owner, RENAME, CAST, DROP,
                      {"transform": "duplicate_column", "params": {"column": "city", "new_name": "town"}},
                      {"transform": "cast_column", "params": {"column": "town", "to": "category"}})
    assert run_job(services.flow_apply_start(flow=flow, user=owner)).status == JobStatus.COMPLETED
    flow.refresh_from_db()
    dataset.refresh_from_db()
    version = dataset.current_version
    script = tmp_path / "flow.py"
    script.write_text(services.flow_export_script(flow=flow))
    output = tmp_path / "out.parquet"
    monkeypatch.setattr(sys, "argv", ["flow.py", str(artifact_path(version.parent.parquet)), str(output)])
    runpy.run_path(str(script), run_name="__main__")
    # The same columns and values; the studio keeps its five column types (categories as text and so on),
    # so the script's output is compared in those types.
    assert normalize_table(pq.read_table(output)).equals(_version_table(version))
