"""What /healthz reports: the database, Redis and the workers that answer a ping."""

from __future__ import annotations

from typing import Any

import redis
from django.conf import settings
from django.db import connection


def health_report(worker_timeout: float = 1.0) -> dict[str, Any]:
    checks: dict[str, Any] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = {"ok": True, "engine": connection.vendor}
    except Exception as error:  # noqa: BLE001 - health reports any failure as "down"
        checks["database"] = {"ok": False, "error": type(error).__name__}
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
        checks["redis"] = {"ok": True, "embedded": settings.EMBEDDED_REDIS}
    except Exception as error:  # noqa: BLE001
        checks["redis"] = {"ok": False, "error": type(error).__name__}
    workers: list[str] = []
    if checks["redis"]["ok"]:
        try:
            from studio.celery import app

            replies = app.control.ping(timeout=worker_timeout) or []
            workers = sorted(name for reply in replies for name in reply)
        except Exception:  # noqa: BLE001
            workers = []
    checks["workers"] = {"ok": bool(workers), "count": len(workers), "names": workers}
    if not (checks["database"]["ok"] and checks["redis"]["ok"]):
        status = "down"
    elif not workers:
        status = "degraded"
    else:
        status = "ok"
    return {"status": status, "checks": checks}
