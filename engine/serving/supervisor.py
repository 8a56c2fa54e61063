"""Start, watch, restart and stop the model server of one endpoint, without Django.

`EndpointProcess` runs `python -m engine.serving.server CONFIG` as a child in its own process group, waits for
`GET /ping`, restarts the server when it dies (with a growing pause, and not at all when it could not start:
a tampered model or a bad configuration gives the same failure every time), scales it with SIGTTIN/SIGTTOU,
stops it, and reports its state.

`ServerlessEndpoint` keeps no process while idle: the first invocation starts the server and is answered by
it; the cold start (from starting the process to that first answer) is measured and kept; `reap_idle()`
stops the server after `idle_timeout` seconds without invocations; more than `max_concurrency` invocations
at once are refused with 429.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.sandbox import clean_env

from .errors import ServingError
from .server import CONFIG_ERROR_EXIT

ROOT = Path(__file__).resolve().parents[2]
STOPPED, STARTING, RUNNING, RESTARTING, FAILED = "stopped", "starting", "running", "restarting", "failed"
STDERR_TAIL_BYTES = 4000


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def ping(host: str, port: int, timeout: float = 1.0) -> bool:
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", "/ping")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


class EndpointProcess:
    def __init__(self, config_path: Path | str, *, port: int | None = None, host: str = "127.0.0.1",
                 processes: int = 1, scalable: bool = False, threads: int = 1, log_path: Path | None = None,
                 startup_timeout: float = 60.0, python: str = sys.executable,
                 environment: Mapping[str, str] | None = None) -> None:
        self.config_path = Path(config_path).resolve()
        self.host = host
        self.port = port or free_port(host)
        self.processes = processes
        self.scalable = scalable or processes > 1
        self.threads = threads
        self.startup_timeout = startup_timeout
        self.python = python
        self.environment = dict(environment or {})
        if log_path is None:
            descriptor, name = tempfile.mkstemp(prefix="endpoint-", suffix=".log")
            os.close(descriptor)
            log_path = Path(name)
        self.log_path = log_path
        self.state = STOPPED
        self.restarts = 0
        self.last_error = ""
        self.ready_seconds: float | None = None  # from starting the process to its first answer to /ping
        self.started_at: float | None = None
        self._child: subprocess.Popen[bytes] | None = None
        self._lock = threading.RLock()
        self._watcher: threading.Thread | None = None
        self._stop_watching = threading.Event()
        self._next_restart = 0.0
        self.returncode: int | None = None

    # --- life cycle ---------------------------------------------------------------------------------------

    def start(self, *, wait: bool = True) -> None:
        with self._lock:
            if self._child is not None and self._child.poll() is None:
                return
            self.state = STARTING
            self._spawn()
        if wait:
            self.wait_ready()

    def _spawn(self) -> None:
        command = [self.python, "-m", "engine.serving.server", str(self.config_path), "--host", self.host,
                   "--port", str(self.port), "--processes", str(self.processes)]
        if self.scalable:
            command.append("--scalable")
        threads = str(self.threads)
        env = clean_env(home=os.environ.get("HOME", str(ROOT)), extra={
            "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads,
            "MKL_NUM_THREADS": threads, **self.environment})
        log = self.log_path.open("ab")
        try:
            self._child = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                           stderr=log, start_new_session=True)
        finally:
            log.close()
        self.started_at = time.monotonic()
        self.ready_seconds = None

    def wait_ready(self, timeout: float | None = None) -> float:
        """Wait until the server answers /ping; returns seconds since its process started. Raises ServingError
        (503) with the server's own reason when it exits or does not answer in time."""
        deadline = time.monotonic() + (timeout or self.startup_timeout)
        while time.monotonic() < deadline:
            child = self._child
            if child is None:
                raise ServingError(503, "The endpoint's server is stopped.")
            if child.poll() is not None:
                with self._lock:
                    self._failed(child.returncode)
                raise ServingError(503, self.last_error)
            if ping(self.host, self.port, timeout=0.5):
                with self._lock:
                    assert self.started_at is not None
                    self.ready_seconds = time.monotonic() - self.started_at
                    self.state = RUNNING
                return self.ready_seconds
            time.sleep(0.01)
        self.last_error = f"The endpoint's server did not answer within {timeout or self.startup_timeout:.0f} s."
        with self._lock:
            child, self._child = self._child, None
            self.state = FAILED
        if child is not None:
            _terminate(child, grace=2.0)
        raise ServingError(503, self.last_error)

    def _failed(self, returncode: int) -> None:
        tail = self.log_tail()
        reason = next((line.removeprefix("endpoint not started: ") for line in reversed(tail.splitlines())
                       if line.startswith("endpoint not started: ")), "")
        self.last_error = reason or f"The endpoint's server exited with status {returncode} before it answered."
        self.state = FAILED
        self.returncode = returncode
        self._child = None

    def stop(self, grace: float = 10.0) -> None:
        self._stop_watching.set()
        with self._lock:
            child, self._child = self._child, None
            self.state = STOPPED
        if child is not None:
            _terminate(child, grace)

    # --- watching -----------------------------------------------------------------------------------------

    def check(self) -> str:
        """Look at the server once: restart it if it died while running. Returns the state."""
        with self._lock:
            child = self._child
            if self.state in (RUNNING, RESTARTING) and child is not None and child.poll() is not None:
                if child.returncode == CONFIG_ERROR_EXIT:
                    self._failed(child.returncode)
                    return self.state
                _signal_group(child.pid, signal.SIGKILL)
                self.last_error = f"The server exited with status {child.returncode}; it was restarted."
                self.state = RESTARTING
                self._child = None
            if self.state == RESTARTING and self._child is None and time.monotonic() >= self._next_restart:
                self.restarts += 1
                # 0.5 s, 1 s, 2 s ... at most 30 s between attempts of a server that keeps dying.
                self._next_restart = time.monotonic() + min(30.0, 0.5 * 2 ** min(self.restarts, 6))
                self._spawn()
            child = self._child
        if self.state == RESTARTING and child is not None:
            try:
                self.wait_ready()
            except ServingError:
                with self._lock:
                    # It served before, so keep trying (with the pause above) unless it cannot start at all.
                    if self.state == FAILED and self.returncode != CONFIG_ERROR_EXIT:
                        self.state = RESTARTING
        return self.state

    def watch(self, interval: float = 0.5) -> None:
        """Check the server every `interval` seconds in a background thread until `stop()`."""
        self._stop_watching.clear()

        def loop() -> None:
            while not self._stop_watching.wait(interval):
                self.check()

        self._watcher = threading.Thread(target=loop, name=f"watch-{self.port}", daemon=True)
        self._watcher.start()

    # --- scaling and reporting ----------------------------------------------------------------------------

    def scale_to(self, processes: int) -> None:
        """Add or retire worker processes of a running scalable server, one signal each."""
        if processes < 1:
            raise ValueError("A running server needs at least one process; stop it to run none.")
        with self._lock:
            if not self.scalable:
                raise ValueError("This server runs one process without the process manager; start it scalable.")
            child = self._child
            if child is None or child.poll() is not None:
                raise ValueError("The server is not running.")
            change = processes - self.processes
            for _ in range(abs(change)):
                os.kill(child.pid, signal.SIGTTIN if change > 0 else signal.SIGTTOU)
            self.processes = processes

    @property
    def pid(self) -> int | None:
        child = self._child
        return child.pid if child is not None and child.poll() is None else None

    def log_tail(self) -> str:
        try:
            with self.log_path.open("rb") as handle:
                handle.seek(max(0, self.log_path.stat().st_size - STDERR_TAIL_BYTES))
                return handle.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def status(self) -> dict[str, Any]:
        return {"state": self.state, "pid": self.pid, "host": self.host, "port": self.port,
                "processes": self.processes, "restarts": self.restarts, "last_error": self.last_error,
                "ready_seconds": self.ready_seconds}


def _terminate(child: subprocess.Popen[bytes], grace: float) -> None:
    if child.poll() is None:
        _signal_group(child.pid, signal.SIGTERM)
        try:
            child.wait(grace)
        except subprocess.TimeoutExpired:
            _signal_group(child.pid, signal.SIGKILL)
            child.wait()
    _signal_group(child.pid, signal.SIGKILL)  # workers the manager left behind


def _signal_group(pid: int, number: int) -> None:
    try:
        os.killpg(pid, number)
    except (ProcessLookupError, PermissionError):
        pass


@dataclass
class Invocation:
    status: int
    headers: dict[str, str]
    body: bytes
    cold_start_seconds: float | None  # set when this invocation started the server


class ServerlessEndpoint:
    def __init__(self, process: EndpointProcess, *, idle_timeout: float = 300.0, max_concurrency: int = 10) -> None:
        if idle_timeout <= 0 or max_concurrency < 1:
            raise ValueError("The idle timeout must be above 0 and the concurrency at least 1.")
        self.process = process
        self.idle_timeout = idle_timeout
        self.max_concurrency = max_concurrency
        self.cold_starts: list[float] = []
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._start_lock = threading.Lock()
        self._in_flight = 0
        self._last_used = time.monotonic()

    def invoke(self, path: str, body: bytes, headers: Mapping[str, str], timeout: float = 60.0) -> Invocation:
        if not self._slots.acquire(blocking=False):
            raise ServingError(429, f"This serverless endpoint is already answering {self.max_concurrency} "
                                    "requests, its most at once; try again shortly.")
        try:
            self._in_flight += 1
            cold_started = self._ensure_started()
            status, answer_headers, answer = _forward(self.process.host, self.process.port, path, body, headers,
                                                      timeout)
            cold = None
            if cold_started is not None:
                cold = time.monotonic() - cold_started
                self.cold_starts.append(cold)
            return Invocation(status, answer_headers, answer, cold)
        finally:
            self._in_flight -= 1
            self._last_used = time.monotonic()
            self._slots.release()

    def _ensure_started(self) -> float | None:
        """The monotonic time the process was started at, when this call started it."""
        with self._start_lock:
            if self.process.pid is not None and self.process.state == RUNNING:
                return None
            self.process.start(wait=False)
            began = self.process.started_at
            self.process.wait_ready()
            return began

    def reap_idle(self) -> bool:
        """Stop the server when no invocation came for `idle_timeout` seconds; True when it was stopped."""
        with self._start_lock:
            idle = time.monotonic() - self._last_used
            if self._in_flight or self.process.pid is None or idle < self.idle_timeout:
                return False
            self.process.stop()
            return True

    def status(self) -> dict[str, Any]:
        return {**self.process.status(), "idle_timeout": self.idle_timeout, "max_concurrency": self.max_concurrency,
                "in_flight": self._in_flight, "idle_seconds": time.monotonic() - self._last_used,
                "last_cold_start_seconds": self.cold_starts[-1] if self.cold_starts else None}


def _forward(host: str, port: int, path: str, body: bytes, headers: Mapping[str, str],
             timeout: float) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("POST", path, body=body, headers=dict(headers))
        response = connection.getresponse()
        return response.status, {name.lower(): value for name, value in response.getheaders()}, response.read()
    finally:
        connection.close()
