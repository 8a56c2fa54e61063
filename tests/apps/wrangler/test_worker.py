"""A real Celery worker applies a flow on the batch queue."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from apps.core.artifacts import artifact_path
from apps.core.models import Job, JobStatus
from apps.wrangler import services
from engine.wrangler import flow_run
from tests.conftest import wait_for

from .conftest import CAST, DROP, RENAME

pytestmark = [pytest.mark.slow, pytest.mark.worker]


def test_a_worker_applies_a_flow_into_version_2_made_from_version_1(celery_worker, flow, owner, dataset):
    for step in (RENAME, CAST, DROP):
        flow = services.flow_step_add(flow=flow, user=owner, transform=step["transform"], params=step["params"])
    celery_worker(queues="batch")
    job = services.flow_apply_start(flow=flow, user=owner)
    wait_for(lambda: Job.objects.get(id=job.id).is_ended, timeout=60)
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED, job.error
    dataset.refresh_from_db()
    version = dataset.current_version
    assert version.number == 2 and version.parent.number == 1 and version.job_id == job.id
    expected = services._arrow(flow_run(services.version_frame(version=version.parent), services.steps_of(flow)).frame)
    assert pq.read_table(artifact_path(version.parquet)).replace_schema_metadata(None).equals(expected)
