"""`make run`: migrate, create the first admin, load the demo, then run the web server, a Celery worker and
Celery beat (plus the embedded Redis when REDIS_URL is not set) until Ctrl-C stops them all cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _say(message: str) -> None:
    print(f"[studio] {message}", flush=True)


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _stop(name: str, process: subprocess.Popen[bytes], grace: float) -> None:
    if process.poll() is not None:
        return
    _say(f"stopping {name}…")
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        _say(f"{name} did not stop within {grace:.0f}s; killing it (its jobs are re-queued on the next start)")
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    host = os.environ.get("STUDIO_HOST", "127.0.0.1")
    port = int(os.environ.get("STUDIO_PORT", "8000"))
    if not _port_free(host, port):
        _say(f"port {port} on {host} is in use; stop what uses it or set STUDIO_PORT to another port.")
        return 2

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from studio import embedded_redis

    redis_process = None
    if settings.EMBEDDED_REDIS:
        redis_process = embedded_redis.start(settings.REDIS_SOCKET, settings.VAR_DIR / "redis")
        _say(f"embedded Redis on {settings.REDIS_SOCKET}")
    try:
        _say("applying database migrations…")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("bootstrap_admin")
        if os.environ.get("STUDIO_DEMO", "1") != "0":
            call_command("load_demo")
    except BaseException:
        embedded_redis.stop(redis_process, settings.REDIS_SOCKET)
        raise
    from django.db import connections

    connections.close_all()

    python = sys.executable
    workers = os.environ.get("STUDIO_WEB_WORKERS", "2")
    # At least two slots even on one core: a tuning job's coordinator holds one while its trials need others.
    concurrency = os.environ.get("STUDIO_WORKER_CONCURRENCY", str(max(2, os.cpu_count() or 1)))
    commands = {
        "web": [python, "-m", "gunicorn", "studio.wsgi:application", "--bind", f"{host}:{port}",
                "--workers", workers, "--threads", "4", "--timeout", "300", "--graceful-timeout", "20",
                "--access-logfile", "-", "--log-level", "warning"],
        "worker": [python, "-m", "celery", "-A", "studio", "worker", "-Q", ",".join(settings.CELERY_TASK_QUEUES_NAMES),
                   "-c", concurrency, "-l", "info", "-n", "studio@%h"],
        "beat": [python, "-m", "celery", "-A", "studio", "beat", "-l", "info",
                 "--pidfile", str(settings.VAR_DIR / "beat.pid")],
    }
    processes: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    exit_code = 0
    try:
        for name, command in commands.items():
            # Own process groups: Ctrl-C reaches only this launcher, which stops the others in order.
            processes[name] = subprocess.Popen(command, cwd=ROOT, start_new_session=True)
        _say(f"the studio is running at http://{host}:{port}/  (Ctrl-C stops it)")
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    _say(f"{name} exited with code {process.returncode}; stopping the studio.")
                    stopping, exit_code = True, 1
                    break
            time.sleep(0.5)
    finally:
        _stop("web server", processes["web"], 20) if "web" in processes else None
        _stop("scheduler", processes["beat"], 10) if "beat" in processes else None
        _stop("worker", processes["worker"], 30) if "worker" in processes else None
        embedded_redis.stop(redis_process, settings.REDIS_SOCKET)
        _say("stopped.")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
