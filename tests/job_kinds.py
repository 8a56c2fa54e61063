"""Job kinds used only by tests (imported by the test process and by test workers via `-I`)."""

from __future__ import annotations

import json
import time

import numpy as np

from apps.core.errors import UserError
from apps.core.jobs import job_kind


@job_kind("test.count", title="Count with checkpoints")
def count(job, ctx):
    """Counts to `n`, sleeping `delay` seconds a step, saving a checkpoint every step so a new attempt resumes."""
    n = int(job.inputs.get("n", 10))
    delay = float(job.inputs.get("delay", 0.1))
    saved = ctx.load_checkpoint()
    start = json.loads(saved)["next"] if saved else 0
    if start:
        ctx.log(f"Resuming from step {start}.")
    steps_run = job.outputs.get("steps_run", 0) if isinstance(job.outputs, dict) else 0
    for i in range(start, n):
        ctx.raise_if_stopped()
        time.sleep(delay)
        steps_run += 1
        ctx.metric("value", i * i, step=i)
        ctx.save_checkpoint(json.dumps({"next": i + 1}).encode())
        ctx.progress(100 * (i + 1) / n, f"Step {i + 1} of {n}")
    return {"count": n, "resumed_from": start}


@job_kind("test.fail", title="Always fails")
def fail(job, ctx):
    if job.inputs.get("user_error"):
        raise UserError("The input has no column called 'price'.")
    raise RuntimeError("boom")


@job_kind("test.hog", title="Allocates more memory than allowed", memory_limit_mb=64)
def hog(job, ctx):
    blocks = [np.ones(16 * 1024 * 1024, dtype=np.uint8) for _ in range(int(job.inputs.get("blocks", 32)))]
    return {"blocks": len(blocks)}


@job_kind("test.stopped_then_transient", title="Is asked to stop, then hits a temporary error")
def stopped_then_transient(job, ctx):
    from apps.core.errors import TransientError
    from apps.core.models import Job, JobStatus

    Job.objects.filter(id=job.id).update(status=JobStatus.STOPPING)
    raise TransientError("the database went away for a moment")
