from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

import tests.job_kinds  # noqa: F401 - registers test job kinds in this process
from studio import embedded_redis

ROOT = Path(__file__).resolve().parent.parent


def pytest_sessionstart(session):
    """Django deletes an old SQLite test database but not its -wal/-shm files; a worker process that then
    opens the new database next to those stale files fails with "disk I/O error"."""
    database = settings.DATABASES["default"]
    test_name = database.get("TEST", {}).get("NAME")
    if database["ENGINE"].endswith("sqlite3") and test_name:
        for suffix in ("-wal", "-shm"):
            Path(f"{test_name}{suffix}").unlink(missing_ok=True)


@pytest.fixture(scope="session", autouse=True)
def broker():
    """The embedded Redis for the test run (a real Redis when REDIS_URL is set)."""
    process = None
    if settings.EMBEDDED_REDIS:
        process = embedded_redis.start(settings.REDIS_SOCKET, settings.VAR_DIR / "redis")
    yield
    embedded_redis.stop(process, settings.REDIS_SOCKET)


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def make_user(db):
    from django.contrib.auth import get_user_model

    def make(username: str = "user", *, password: str = "a-long-test-password", superuser: bool = False, **extra):
        User = get_user_model()
        if superuser:
            return User.objects.create_superuser(username=username, password=password, email=f"{username}@example.org", **extra)
        return User.objects.create_user(username=username, password=password, email=f"{username}@example.org", **extra)

    return make


@pytest.fixture
def project(make_user):
    from apps.core.services import project_create

    owner = make_user("owner")
    return project_create(name="Alpha", user=owner)


@pytest.fixture
def member(make_user, project):
    """make a user with a role in `project` (or another project)."""
    from apps.core.models import Membership

    def make(role: str, username: str | None = None, *, in_project=None):
        user = make_user(username or f"{role}-user")
        Membership.objects.create(project=in_project or project, user=user, role=role)
        return user

    return make


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


def _database_url_for_subprocess() -> str:
    from django.db import connection

    params = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{params['NAME']}"
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    return f"postgres://{params['USER']}{password}@{host}:{port}/{params['NAME']}"


class WorkerProcess:
    """A real `celery worker` process against the test database and broker (not eager mode)."""

    def __init__(self, env: dict[str, str], queues: str, concurrency: int) -> None:
        self.env, self.queues, self.concurrency = env, queues, concurrency
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = settings.VAR_DIR / f"worker-{os.getpid()}.log"

    def start(self) -> None:
        from studio.celery import app

        args = [
            sys.executable, "-m", "celery", "-A", "studio", "worker", "-Q", self.queues, "-c", str(self.concurrency),
            "-I", "tests.job_kinds,tests.workers.kinds", "-l", "info", "-n", f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
            "--without-mingle", "--without-gossip",
        ]
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(args, env=self.env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log_path.read_text()[-3000:]}")
            replies = app.control.ping(timeout=0.5) or []
            if replies:
                return
        raise RuntimeError(f"worker did not answer a ping:\n{self.log_path.read_text()[-3000:]}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Kill the whole worker (main process and its pool children) at once."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if getattr(self, "log", None):
            self.log.close()


@pytest.fixture
def celery_worker(transactional_db):
    """Start real workers: `start(**env_overrides)` returns a WorkerProcess; all are stopped at teardown."""
    from studio.celery import app

    with app.connection_for_write() as connection:
        for queue in settings.CELERY_TASK_QUEUES_NAMES:
            try:
                connection.default_channel.queue_purge(queue)
            except Exception:  # noqa: BLE001 - a queue that does not exist yet has nothing to purge
                pass
    started: list[WorkerProcess] = []

    def start(queues: str = "default,training,batch,monitoring", concurrency: int = 1, **overrides: str):
        env = dict(os.environ)
        env.update({
            "DATABASE_URL": _database_url_for_subprocess(),
            "STUDIO_VAR_DIR": str(settings.VAR_DIR),
            "PYTHONPATH": str(ROOT),
            "STUDIO_JOB_HEARTBEAT_SECONDS": "1",
            "STUDIO_JOB_STALE_AFTER_SECONDS": "4",
        })
        if not settings.EMBEDDED_REDIS:
            env["REDIS_URL"] = settings.REDIS_URL
        env.update(overrides)
        worker = WorkerProcess(env, queues, concurrency)
        worker.start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.2):
    """Poll until predicate() is truthy; returns its value or fails with the timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


@pytest.fixture
def run_job():
    """Run a job in this process, as a worker would (tests never see on_commit fire, so nothing is sent)."""
    from apps.core.jobs import job_execute
    from apps.core.models import Job

    def run(job_or_id):
        job_id = getattr(job_or_id, "id", job_or_id)
        job_execute(job_id=job_id)
        return Job.objects.get(id=job_id)

    return run


@pytest.fixture
def stranger(make_user):
    """An Admin of another project: sees nothing of ours."""
    from apps.core.services import project_create

    user = make_user("stranger")
    project_create(name="Elsewhere", user=user)
    return user


@pytest.fixture
def labeler(member):
    from apps.core.roles import Role

    return member(Role.LABELER)
