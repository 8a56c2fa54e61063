"""`make run` end to end: the launcher starts web, worker, scheduler and the embedded Redis on a fresh var/,
Ctrl-C stops every one of them, and a second start keeps the data."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(var_dir: Path, port: int, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "PYTEST_VERSION")}
    env.update(STUDIO_VAR_DIR=str(var_dir), STUDIO_PORT=str(port), STUDIO_DEMO="0",
               STUDIO_WORKER_CONCURRENCY="1", STUDIO_WEB_WORKERS="1")
    return subprocess.Popen([sys.executable, "-m", "studio.launcher"], cwd=ROOT, env=env,
                            stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)


def _wait_healthy(port: int, process: subprocess.Popen, log: Path) -> dict:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                body = json.load(response)
                if body["status"] == "ok":
                    return body
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError("studio did not become healthy:\n" + log.read_text()[-3000:])


def _children_of(pid_file_pattern: str) -> list[str]:
    out = subprocess.run(["pgrep", "-f", pid_file_pattern], capture_output=True, text=True).stdout
    return [line for line in out.split() if line]


def _interrupt(process: subprocess.Popen) -> int:
    os.killpg(process.pid, signal.SIGINT)
    return process.wait(timeout=90)


@pytest.mark.slow
def test_run_starts_everything_stops_cleanly_and_keeps_data(tmp_path):
    var_dir, port = tmp_path / "var", _free_port()
    first_log = tmp_path / "first.log"
    process = _start(var_dir, port, first_log)
    try:
        health = _wait_healthy(port, process, first_log)
        assert health["checks"]["redis"]["embedded"] is True
        assert health["checks"]["workers"]["count"] == 1
    finally:
        code = _interrupt(process)
    output = first_log.read_text()
    assert code == 0, output[-3000:]
    assert "Created administrator 'admin'" in output and "Its password is:" in output
    assert "stopped." in output
    assert _children_of(str(var_dir)) == [], "a web, worker, beat or redis process outlived Ctrl-C"

    second_log = tmp_path / "second.log"
    process = _start(var_dir, port, second_log)
    try:
        _wait_healthy(port, process, second_log)
    finally:
        assert _interrupt(process) == 0
    output = second_log.read_text()
    assert "An administrator exists already" in output
    assert "Its password is:" not in output


@pytest.mark.slow
def test_run_refuses_a_port_in_use_with_a_clear_message(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        log = tmp_path / "busy.log"
        process = _start(tmp_path / "var", port, log)
        assert process.wait(timeout=60) == 2
    assert f"port {port} on 127.0.0.1 is in use" in log.read_text()
