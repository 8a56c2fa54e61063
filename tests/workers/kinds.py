"""Job kinds for the real-worker tests: a worker that dies on every attempt, and temporary failures.

Imported by the test process (tests/workers/conftest.py) and by test workers (`-I` in the celery_worker
fixture), so both sides know the same kinds."""

from __future__ import annotations

import os
import signal

from celery import current_task

from apps.core.errors import TransientError
from apps.core.jobs import job_kind
from apps.core.models import JobLog


@job_kind("test.die", title="Kills its own worker process")
def die(job, ctx):
    """SIGKILLs the process running it, as the kernel's OOM killer would. Only ever inside a worker."""
    if current_task is None or current_task.request.called_directly:
        raise RuntimeError("test.die only runs inside a Celery worker")
    ctx.log("About to be killed.")
    os.kill(os.getpid(), signal.SIGKILL)


@job_kind("test.flaky", title="Fails with a temporary problem a few times")
def flaky(job, ctx):
    """Raises TransientError on its first `fail_times` tries, then completes."""
    tries = JobLog.objects.filter(job_id=job.id, message__startswith="Attempt ").count()
    if tries <= int(job.inputs.get("fail_times", 1)):
        raise TransientError(f"the feature store was unreachable (try {tries})")
    return {"tries": tries}
