"""The supervisor runs a real model server: start, answer, crash and restart, scale, stop; serverless starts."""

from __future__ import annotations

import http.client
import json
import os
import signal
import time

import pytest

from engine.serving.errors import ServingError
from engine.serving.supervisor import FAILED, RUNNING, STOPPED, EndpointProcess, ServerlessEndpoint

from .conftest import TOKEN, endpoint_config, write_config

pytestmark = pytest.mark.slow
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


def invoke(process: EndpointProcess, body: dict) -> tuple[int, dict]:
    connection = http.client.HTTPConnection(process.host, process.port, timeout=30)
    try:
        connection.request("POST", "/endpoints/cancer/invocations", body=json.dumps(body), headers=AUTH)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def metrics(process: EndpointProcess) -> dict:
    connection = http.client.HTTPConnection(process.host, process.port, timeout=30)
    try:
        connection.request("GET", "/metrics", headers=AUTH)
        return json.loads(connection.getresponse().read())
    finally:
        connection.close()


@pytest.fixture()
def row(cancer) -> dict:
    return cancer.drop(columns="target").iloc[0].to_dict()


def test_it_starts_answers_restarts_after_a_crash_and_stops(bundles, tmp_path, row) -> None:
    process = EndpointProcess(write_config(tmp_path, endpoint_config(bundles)), log_path=tmp_path / "server.log")
    try:
        process.start()
        assert process.status()["state"] == RUNNING and process.ready_seconds is not None
        assert invoke(process, row)[0] == 200
        first_pid = process.pid
        assert first_pid is not None
        os.kill(first_pid, signal.SIGKILL)
        time.sleep(0.2)
        assert process.check() == RUNNING  # noticed the crash, started a new server and waited for /ping
        assert process.restarts == 1 and process.pid not in (None, first_pid)
        assert "restarted" in process.status()["last_error"]
        assert invoke(process, row)[0] == 200
    finally:
        process.stop()
    assert process.status()["state"] == STOPPED and process.pid is None
    with pytest.raises(OSError):
        invoke(process, row)


def test_the_watcher_restarts_a_crashed_server_by_itself(bundles, tmp_path, row) -> None:
    process = EndpointProcess(write_config(tmp_path, endpoint_config(bundles)))
    try:
        process.start()
        process.watch(interval=0.1)
        os.kill(process.pid or 0, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (process.restarts and process.state == RUNNING):
            time.sleep(0.1)
        assert process.restarts == 1 and invoke(process, row)[0] == 200
    finally:
        process.stop()


def test_a_tampered_model_is_not_served_and_the_reason_is_reported(bundles, tmp_path) -> None:
    tampered = tmp_path / "xgb.zip"
    data = bytearray(bundles["xgb"].read_bytes())
    data[-100] ^= 0xFF
    tampered.write_bytes(bytes(data))
    config = endpoint_config(bundles)
    config["variants"][0]["model"] = str(tampered)
    process = EndpointProcess(write_config(tmp_path, config))
    with pytest.raises(ServingError, match="does not match its checksum"):
        process.start()
    assert process.status()["state"] == FAILED and "checksum" in process.status()["last_error"]
    assert process.check() == FAILED and process.restarts == 0  # not restarted: it would fail the same way


def test_a_scalable_server_adds_and_retires_processes_and_reports_them_all(bundles, tmp_path, row) -> None:
    config = endpoint_config(bundles, state_dir=str(tmp_path / "state"))
    process = EndpointProcess(write_config(tmp_path, config), processes=1, scalable=True)
    try:
        process.start()
        process.scale_to(2)
        deadline = time.monotonic() + 60
        seen: set[int] = set()
        while time.monotonic() < deadline and len(seen) < 2:
            assert invoke(process, row)[0] == 200
            seen = {int(path.stem.split("-")[1]) for path in (tmp_path / "state").glob("metrics-*.json")}
            time.sleep(0.05)
        report = metrics(process)
        assert len(seen) == 2 and report["processes"] == 2
        assert report["variants"]["xgb"]["invocations"] >= 2
        process.scale_to(1)
        assert process.status()["processes"] == 1 and invoke(process, row)[0] == 200
    finally:
        process.stop()


def test_serverless_starts_on_the_first_request_and_stops_when_idle(bundles, tmp_path, row) -> None:
    process = EndpointProcess(write_config(tmp_path, endpoint_config(bundles)))
    endpoint = ServerlessEndpoint(process, idle_timeout=0.5, max_concurrency=2)
    try:
        assert process.pid is None  # nothing runs while idle
        first = endpoint.invoke("/invocations", json.dumps(row).encode(), AUTH)
        assert first.status == 200 and first.cold_start_seconds is not None
        assert first.cold_start_seconds >= (process.ready_seconds or 0) > 0
        warm = endpoint.invoke("/invocations", json.dumps(row).encode(), AUTH)
        assert warm.status == 200 and warm.cold_start_seconds is None
        assert endpoint.status()["last_cold_start_seconds"] == first.cold_start_seconds
        assert not endpoint.reap_idle()  # used just now
        time.sleep(0.6)
        assert endpoint.reap_idle() and process.pid is None
        again = endpoint.invoke("/invocations", json.dumps(row).encode(), AUTH)
        assert again.status == 200 and again.cold_start_seconds is not None and len(endpoint.cold_starts) == 2
    finally:
        process.stop()
