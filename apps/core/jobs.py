"""The job runtime shared by every kind of long work.

A job kind registers a handler with `@job_kind(...)`. The Celery task `jobs.run` (workers/jobs.py) calls
`job_execute`, which claims the job with a fresh lease, heartbeats while the handler runs, and records the
outcome only while the lease is still held, so a worker presumed dead can never overwrite a later attempt.
`jobs_reap` (scheduled in the database) re-queues or fails jobs whose worker stopped heartbeating.
"""

from __future__ import annotations

import logging
import resource
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import OperationalError, close_old_connections, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from engine.runtime import JobStopped, Throttle

from .errors import TransientError, UserError
from .models import Job, JobLog, JobMetric, JobStatus

logger = logging.getLogger("studio.jobs")

MAX_LOG_LINES = 20_000
LOG_LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING, "ERROR": logging.ERROR}
Handler = Callable[[Job, "DatabaseJobContext"], dict[str, Any] | None]


@dataclass(frozen=True)
class JobKind:
    name: str
    title: str
    queue: str
    handler: Handler
    soft_time_limit: int | None
    description: str
    memory_limit_mb: int | None = None
    on_end: Callable[[Job], None] | None = None


JOB_KINDS: dict[str, JobKind] = {}


def job_kind(
    name: str, *, title: str, queue: str = "default", soft_time_limit: int | None = None, description: str = "",
    memory_limit_mb: int | None = None, on_end: Callable[[Job], None] | None = None,
) -> Callable[[Handler], Handler]:
    """Register the handler of a kind of job. The handler returns the job's outputs (JSON) or None.

    `on_end(job)` runs once the job has ended, however it ended (completed, failed in the handler, failed by
    the reaper after its worker died, stopped before it started), so a kind can tidy what it owns."""
    if queue not in settings.CELERY_TASK_QUEUES_NAMES:
        raise ValueError(f"unknown queue {queue!r}")

    def register(handler: Handler) -> Handler:
        JOB_KINDS[name] = JobKind(
            name, title, queue, handler, soft_time_limit, description or (handler.__doc__ or ""), memory_limit_mb,
            on_end,
        )
        return handler

    return register


def job_kind_get(name: str) -> JobKind:
    try:
        return JOB_KINDS[name]
    except KeyError:
        raise UserError(f"There is no job kind called {name!r}.") from None


class LeaseLost(Exception):
    """This worker no longer holds the job: it was presumed dead and the job moved on without it."""


class DatabaseJobContext:
    """The engine's JobContext, backed by the Job row. Every write is guarded by the lease."""

    def __init__(self, job: Job, lease: uuid.UUID) -> None:
        self.job = job
        self.lease = lease
        self._progress_throttle = Throttle(0.5)
        self._stop_throttle = Throttle(1.0)
        self._stop_requested = False
        self._lease_lost = False
        self._log_lines = JobLog.objects.filter(job_id=job.id).count()

    def _mine(self):
        return Job.objects.filter(id=self.job.id, lease=self.lease)

    def _check_lease(self, updated: int) -> None:
        if not updated:
            self._lease_lost = True
            raise LeaseLost(f"job {self.job.id} lost its lease")

    def progress(self, percent: float, message: str = "") -> None:
        percent = max(0.0, min(100.0, float(percent)))
        if percent < 100 and not self._progress_throttle.ready():
            return
        fields: dict[str, Any] = {"progress": percent, "heartbeat_at": timezone.now()}
        if message:
            fields["message"] = message[:500]
        self._check_lease(self._mine().update(**fields))

    def log(self, message: str, level: str = "INFO") -> None:
        logger.log(LOG_LEVELS.get(level, logging.INFO), "job %s: %s", self.job.id, message)
        if self._lease_lost:
            raise LeaseLost(f"job {self.job.id} lost its lease")
        if self._log_lines >= MAX_LOG_LINES:
            return
        self._log_lines += 1
        text = message if self._log_lines < MAX_LOG_LINES else f"Log limit of {MAX_LOG_LINES} lines reached."
        JobLog.objects.create(job_id=self.job.id, level=level[:10], message=text[:10_000])

    def metric(self, name: str, value: float, step: int | None = None) -> None:
        with transaction.atomic():
            row = self._mine().select_for_update().values("metrics").first()
            if row is None:
                self._check_lease(0)  # a presumed-dead attempt adds no point to the chart of the live one
            JobMetric.objects.create(job_id=self.job.id, name=name[:100], value=float(value), step=step)
            metrics = dict(row["metrics"] or {})
            metrics[name] = float(value)
            self._mine().update(metrics=metrics)

    def should_stop(self) -> bool:
        if self._lease_lost:
            raise LeaseLost(f"job {self.job.id} lost its lease")
        if not self._stop_requested and self._stop_throttle.ready():
            status = self._mine().values_list("status", flat=True).first()
            if status is None:
                self._check_lease(0)
            self._stop_requested = status == JobStatus.STOPPING
        return self._stop_requested

    def raise_if_stopped(self) -> None:
        if self.should_stop():
            raise JobStopped()

    def save_checkpoint(self, data: bytes) -> None:
        from .artifacts import artifact_put_bytes

        artifact = artifact_put_bytes(
            data=data, project=self.job.project, name=f"checkpoint of job {self.job.id}",
            media_type="application/octet-stream", kind="checkpoint", user=self.job.owner,
        )
        self._check_lease(self._mine().update(checkpoint=artifact, heartbeat_at=timezone.now()))
        self.job.checkpoint = artifact

    def load_checkpoint(self) -> bytes | None:
        from .artifacts import artifact_open

        self.job.refresh_from_db(fields=["checkpoint"])
        if self.job.checkpoint is None:
            return None
        with artifact_open(self.job.checkpoint) as handle:
            return handle.read()


class _Heartbeat(threading.Thread):
    """Keeps heartbeat_at fresh while the handler runs, even inside a long computation."""

    def __init__(self, job_id: int, lease: uuid.UUID, context: DatabaseJobContext) -> None:
        super().__init__(name=f"heartbeat-{job_id}", daemon=True)
        self.job_id, self.lease, self.context = job_id, lease, context
        self.done = threading.Event()

    def run(self) -> None:
        try:
            while not self.done.wait(settings.JOB_HEARTBEAT_SECONDS):
                try:
                    beat = Job.objects.filter(id=self.job_id, lease=self.lease).update(heartbeat_at=timezone.now())
                except OperationalError:
                    continue  # a busy database; the next beat will do
                if not beat:
                    self.context._lease_lost = True
                    return
        finally:
            connection.close()


def _finish(job_id: int, lease: uuid.UUID, only_if: str | None = None, **fields: Any) -> bool:
    """Record an attempt's outcome, only while it still holds the lease (and the job has status only_if)."""
    fields.setdefault("ended_at", timezone.now())
    fields.setdefault("lease", None)
    rows = Job.objects.filter(id=job_id, lease=lease)
    if only_if:
        rows = rows.filter(status=only_if)
    finished = bool(rows.update(**fields))
    if finished:
        job_ended_notify(job_id=job_id)
    return finished


def job_ended_notify(*, job_id: int) -> None:
    """Call the job kind's on_end hook; a failing hook is logged and never undoes the job's outcome."""
    job = Job.objects.select_related("project", "owner").filter(id=job_id).first()
    kind = JOB_KINDS.get(job.kind) if job else None
    if job is None or kind is None or kind.on_end is None or not job.is_ended:
        return
    try:
        kind.on_end(job)
    except Exception:  # noqa: BLE001 - the outcome is saved already
        logger.exception("the on_end hook of job %s (%s) failed", job_id, job.kind)


def _claim(job_id: int) -> tuple[Job, uuid.UUID] | None:
    """Take the job for this attempt, or None when it is not ours to run (ended, stopping, or running
    elsewhere with a live heartbeat: a duplicate delivery)."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
    lease = uuid.uuid4()
    claimable = Q(status=JobStatus.PENDING) | Q(status=JobStatus.IN_PROGRESS, heartbeat_at__lt=stale)
    with transaction.atomic():
        updated = Job.objects.filter(claimable, id=job_id).update(
            status=JobStatus.IN_PROGRESS, attempt=F("attempt") + 1, lease=lease, heartbeat_at=now
        )
        if not updated:
            return None
        job = Job.objects.select_related("project", "owner").get(id=job_id)
        if job.started_at is None:
            job.started_at = now
            job.save(update_fields=["started_at"])
    return job, lease


def attempts_exhausted_message(job: Job) -> str:
    return (
        f"This job was started {job.attempt} times and each time the worker running it stopped responding "
        f"(killed, out of memory, or restarted). It will not be tried again automatically; "
        f"check the worker's memory and time limits, then press Retry."
    )


@contextmanager
def memory_limit(megabytes: int) -> Iterator[None]:
    """Cap the heap this process may add while a handler runs (RLIMIT_DATA, soft limit only, restored after),
    so a file that would exhaust the machine fails its job with MemoryError instead."""
    if megabytes <= 0 or not hasattr(resource, "RLIMIT_DATA"):
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    in_use = _data_segment_bytes()
    wanted = in_use + megabytes * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (wanted, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))


def _data_segment_bytes() -> int:
    """What RLIMIT_DATA counts now (VmData), so the cap is added on top of what the process holds."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def job_execute(*, job_id: int) -> None:
    """Run one attempt of a job. Called by the worker task; safe to call twice for the same delivery."""
    claimed = _claim(job_id)
    if claimed is None:
        logger.info("job %s is not claimable; skipping this delivery", job_id)
        return
    job, lease = claimed
    if job.attempt > job.max_attempts:
        _finish(job.id, lease, status=JobStatus.FAILED, error=attempts_exhausted_message(job))
        return
    kind = JOB_KINDS.get(job.kind)
    context = DatabaseJobContext(job, lease)
    if kind is None:
        _finish(job.id, lease, status=JobStatus.FAILED, error=f"This studio has no job kind {job.kind!r}.")
        return
    heartbeat = _Heartbeat(job.id, lease, context)
    # Run inline inside a transaction (a test or a management command), the row is not visible to another
    # connection, so a heartbeat thread could only block on it; nobody else can take the job meanwhile.
    if not connection.in_atomic_block:
        heartbeat.start()
    try:
        context.log(f"Attempt {job.attempt} of {job.max_attempts} started.")
        with memory_limit(kind.memory_limit_mb or settings.JOB_MEMORY_LIMIT_MB):
            outputs = kind.handler(job, context)
        if _finish(
            job.id, lease, status=JobStatus.COMPLETED, progress=100.0,
            message="Completed", outputs=outputs or {},
        ):  # a presumed-dead attempt leaves no outcome in the log either
            _log_quietly(job.id, "Completed.")
    except JobStopped:
        if _finish(job.id, lease, status=JobStatus.STOPPED, message="Stopped"):
            _log_quietly(job.id, "Stopped on request.")
    except LeaseLost:
        logger.warning("job %s: lease lost; this attempt's outcome is dropped", job_id)
    except UserError as error:
        if _finish(job.id, lease, status=JobStatus.FAILED, error=error.message, message="Failed"):
            _log_quietly(job.id, error.message, "ERROR")
    except MemoryError:
        limit = kind.memory_limit_mb or settings.JOB_MEMORY_LIMIT_MB
        message = (f"This job needed more than its memory limit of {limit} MB and was stopped. Use a smaller "
                   f"input, or ask an admin to raise STUDIO_JOB_MEMORY_LIMIT_MB.")
        if _finish(job.id, lease, status=JobStatus.FAILED, error=message, message="Failed"):
            _log_quietly(job.id, message, "ERROR")
    except SoftTimeLimitExceeded:
        limit = kind.soft_time_limit or settings.JOB_SOFT_TIME_LIMIT
        message = f"This job ran past its time limit of {limit} seconds and was stopped."
        if _finish(job.id, lease, status=JobStatus.FAILED, error=message, message="Failed"):
            _log_quietly(job.id, message, "ERROR")
    except (TransientError, OperationalError) as error:
        # A stop asked for meanwhile wins over the retry.
        if _finish(job.id, lease, status=JobStatus.STOPPED, message="Stopped", only_if=JobStatus.STOPPING):
            _log_quietly(job.id, "Stopped on request.")
            return
        # Hand the job back so the task's retry (with backoff) can claim it again.
        Job.objects.filter(id=job.id, lease=lease, status=JobStatus.IN_PROGRESS).update(
            status=JobStatus.PENDING, lease=None, attempt=F("attempt") - 1,
            message=f"Waiting to retry after a temporary problem: {error}"[:500],
        )
        raise TransientError(str(error)) from error
    except Exception as error:  # noqa: BLE001 - the job must end Failed with a reason, whatever happened
        logger.exception("job %s failed", job_id)
        if _finish(
            job.id, lease, status=JobStatus.FAILED, message="Failed",
            error=f"An unexpected error stopped this job ({type(error).__name__}). An admin can see the details.",
            error_detail=traceback.format_exc()[-20_000:],
        ):
            _log_quietly(job.id, f"Unexpected error: {type(error).__name__}", "ERROR")
    finally:
        heartbeat.done.set()
        if heartbeat.is_alive():
            heartbeat.join(timeout=5)


def job_give_up(*, job_id: int, reason: str) -> None:
    """End a job whose temporary problem outlasted its retries."""
    Job.objects.filter(id=job_id, status=JobStatus.PENDING).update(
        status=JobStatus.FAILED, ended_at=timezone.now(), message="Failed",
        error=f"A temporary problem lasted through every retry, so the job stopped: {reason}"[:2000],
    )


def _log_quietly(job_id: int, message: str, level: str = "INFO") -> None:
    try:
        JobLog.objects.create(job_id=job_id, level=level, message=message[:10_000])
    except Exception:  # noqa: BLE001 - the outcome is saved already; a lost log line must not undo it
        logger.exception("could not log to job %s", job_id)


def job_enqueue(job: Job) -> None:
    """Send the job to its queue once the surrounding transaction commits; a broker that is down leaves
    the job Pending with enqueued_at empty, and the reaper sends it later."""

    def send() -> None:
        from studio.celery import app

        kind = JOB_KINDS.get(job.kind)
        soft = (kind.soft_time_limit if kind else None) or settings.JOB_SOFT_TIME_LIMIT
        try:
            app.send_task("jobs.run", args=[job.id], queue=job.queue, soft_time_limit=soft, time_limit=soft + 60)
        except Exception:  # noqa: BLE001 - the broker being away must not fail the request that saved the job
            logger.exception("could not send job %s to the broker; the reaper will retry", job.id)
            return
        Job.objects.filter(id=job.id).update(enqueued_at=timezone.now())

    transaction.on_commit(send)


def jobs_reap() -> dict[str, int]:
    """Re-queue or fail jobs whose worker vanished; send jobs the broker never got. Returns counts."""
    if not connection.in_atomic_block:  # closing inside a transaction (a caller's, or a test's) would break it
        close_old_connections()
    now = timezone.now()
    stale = now - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
    counts = {"requeued": 0, "failed": 0, "stopped": 0, "sent": 0}
    for job in Job.objects.filter(status=JobStatus.IN_PROGRESS, heartbeat_at__lt=stale):
        with transaction.atomic():
            if job.attempt >= job.max_attempts:
                done = Job.objects.filter(id=job.id, lease=job.lease, status=JobStatus.IN_PROGRESS).update(
                    status=JobStatus.FAILED, lease=None, ended_at=now, message="Failed",
                    error=attempts_exhausted_message(job),
                )
                if done:
                    JobLog.objects.create(job=job, level="ERROR", message=attempts_exhausted_message(job))
                    job_ended_notify(job_id=job.id)
                counts["failed"] += done
                continue
            done = Job.objects.filter(id=job.id, lease=job.lease, status=JobStatus.IN_PROGRESS).update(
                status=JobStatus.PENDING, lease=None, enqueued_at=None,
                message=f"The worker stopped responding; re-queued (attempt {job.attempt + 1} of {job.max_attempts}).",
            )
            if done:
                JobLog.objects.create(
                    job=job, level="WARNING",
                    message=f"No heartbeat since {job.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC: the worker stopped "
                    f"responding. Re-queued; it resumes from its last checkpoint if it saved one.",
                )
                job_enqueue(job)
                counts["requeued"] += 1
    for job_id in Job.objects.filter(status=JobStatus.STOPPING, heartbeat_at__lt=stale).values_list("id", flat=True):
        stopped = Job.objects.filter(id=job_id, status=JobStatus.STOPPING, heartbeat_at__lt=stale).update(
            status=JobStatus.STOPPED, lease=None, ended_at=now, message="Stopped (the worker had stopped responding)"
        )
        if stopped:
            job_ended_notify(job_id=job_id)
            counts["stopped"] += 1
    resend_before = now - timedelta(seconds=10)
    for job in Job.objects.filter(status=JobStatus.PENDING, enqueued_at__isnull=True, created_at__lt=resend_before):
        job_enqueue(job)
        counts["sent"] += 1
    return counts
