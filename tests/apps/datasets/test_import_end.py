"""However an import ends short of completing, the stored dataset status says failed with the reason."""

from datetime import timedelta

from django.utils import timezone

from apps.core.jobs import jobs_reap
from apps.core.models import Job, JobStatus
from apps.core.services import job_stop
from apps.datasets.models import Dataset, DatasetStatus
from apps.datasets.services import dataset_upload


def test_stopping_an_import_before_it_starts_marks_the_dataset_failed(project, owner, upload_file):
    dataset = dataset_upload(project=project, user=owner, upload=upload_file(), name="people")
    job_stop(job=dataset.last_job, user=owner)
    dataset = Dataset.objects.get(id=dataset.id)
    assert dataset.status == DatasetStatus.FAILED
    assert dataset.error == "The import was stopped before it finished."


def test_an_import_whose_worker_died_on_every_attempt_marks_the_dataset_failed(project, owner, upload_file):
    dataset = dataset_upload(project=project, user=owner, upload=upload_file(), name="people")
    # The state a worker leaves behind when it is killed on its last attempt.
    Job.objects.filter(id=dataset.last_job_id).update(
        status=JobStatus.IN_PROGRESS, attempt=3, max_attempts=3,
        lease="00000000-0000-0000-0000-000000000001", heartbeat_at=timezone.now() - timedelta(hours=1),
    )
    assert jobs_reap()["failed"] == 1
    dataset = Dataset.objects.get(id=dataset.id)
    assert dataset.status == DatasetStatus.FAILED
    assert "started 3 times" in dataset.error


def test_a_completed_import_is_left_ready(ready_dataset):
    assert Dataset.objects.get(id=ready_dataset.id).status == DatasetStatus.READY
