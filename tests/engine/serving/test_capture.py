"""Data capture writes SageMaker's JSON lines format to hourly files."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from engine.serving.capture import DataCapture
from engine.serving.config import CaptureConfig

from .conftest import app_for, call, endpoint_config


def _lines(folder: Path) -> list[dict]:
    return [json.loads(line) for path in sorted(folder.rglob("*.jsonl")) for line in path.read_text().splitlines()]


def test_a_captured_request_has_sagemakers_fields(bundles, cancer, tmp_path) -> None:
    app = app_for(endpoint_config(bundles, capture={"percentage": 100, "directory": str(tmp_path)}))
    row = cancer.drop(columns="target").iloc[0].to_dict()
    csv = ",".join(row) + "\n" + ",".join(str(value) for value in row.values()) + "\n"
    as_json = call(app, "POST", "/invocations", json=row, headers={"X-Inference-Id": "abc-1"})
    as_csv = call(app, "POST", "/invocations", content=csv, headers={"Content-Type": "text/csv"})
    assert as_json.status_code == as_csv.status_code == 200
    files = list(tmp_path.rglob("*.jsonl"))
    assert len(files) == 1
    relative = files[0].relative_to(tmp_path).parts
    assert relative[:2] == ("cancer", "xgb") and len(relative) == 7  # endpoint/variant/YYYY/MM/DD/HH/file
    first, second = _lines(tmp_path)
    assert set(first) == {"captureData", "eventMetadata", "eventVersion"} and first["eventVersion"] == "0"
    given = first["captureData"]["endpointInput"]
    assert given == {"observedContentType": "application/json", "mode": "INPUT", "data": as_json.request.content.decode(),
                     "encoding": "JSON"}
    answered = first["captureData"]["endpointOutput"]
    assert answered["mode"] == "OUTPUT" and answered["encoding"] == "JSON"
    assert json.loads(answered["data"]) == as_json.json()
    assert first["eventMetadata"]["inferenceId"] == "abc-1"
    assert first["eventMetadata"]["inferenceTime"].endswith("Z") and first["eventMetadata"]["eventId"]
    assert second["captureData"]["endpointInput"]["encoding"] == "CSV"
    assert second["captureData"]["endpointInput"]["data"] == csv


def test_only_the_sampled_share_is_captured(bundles, cancer, tmp_path) -> None:
    app = app_for(endpoint_config(bundles, capture={"percentage": 25, "directory": str(tmp_path)}))
    row = cancer.drop(columns="target").iloc[0].to_dict()
    for _ in range(200):
        call(app, "POST", "/invocations", json=row)
    assert 20 <= len(_lines(tmp_path)) <= 80
    none = app_for(endpoint_config(bundles, capture={"percentage": 0, "directory": str(tmp_path / "none")}))
    call(none, "POST", "/invocations", json=row)
    assert not (tmp_path / "none").exists()


def test_lines_written_at_once_by_many_threads_stay_whole(tmp_path) -> None:
    capture = DataCapture(CaptureConfig(100, tmp_path), "busy")
    body = json.dumps({"instances": [{"x": "y" * 5000}]}).encode()

    def write() -> None:
        for _ in range(50):
            capture.write(variant="A", request_body=body, request_type="application/json", response_body=b"\xff\x00",
                          response_type="application/octet-stream", inference_id="i")

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    capture.close()
    lines = _lines(tmp_path)
    assert len(lines) == 200
    assert all(line["captureData"]["endpointOutput"] == {"observedContentType": "application/octet-stream",
                                                         "mode": "OUTPUT", "data": "/wA=", "encoding": "BASE64"}
               for line in lines)
