"""Scheduled and import-triggered applies."""

from __future__ import annotations

from apps.core.models import Job
from apps.datasets.models import DatasetVersion
from apps.wrangler import services
from apps.wrangler.models import FlowRun, FlowRunTrigger

from .conftest import DROP


def _new_version(dataset, owner, job=None):
    current = dataset.current_version
    return DatasetVersion.objects.create(
        dataset=dataset, number=current.number + 1, parquet=current.parquet, schema=current.schema,
        row_count=current.row_count, column_count=current.column_count, summary=current.summary, job=job,
        note="Imported again", created_by=owner)


def test_a_new_imported_version_applies_flows_that_ask_for_it(flow, owner, dataset, run_job,
                                                              django_capture_on_commit_callbacks):
    flow = services.flow_step_add(flow=flow, user=owner, transform=DROP["transform"], params=DROP["params"])
    services.flow_schedule_set(flow=flow, user=owner, cron="", rerun_on_import=True)
    with django_capture_on_commit_callbacks(execute=True):
        version = _new_version(dataset, owner)
    run = FlowRun.objects.get(flow=flow)
    assert run.trigger == FlowRunTrigger.IMPORT and run.input_version == version
    job = run_job(run.job)
    assert job.status == "Completed", job.error
    # The flow's own output is not new data: no second run.
    assert FlowRun.objects.filter(flow=flow).count() == 1
    flow.refresh_from_db()
    assert flow.input_version() == version  # it keeps reading its input, not what it made


def test_flows_that_do_not_ask_are_left_alone(flow, owner, dataset, django_capture_on_commit_callbacks):
    services.flow_step_add(flow=flow, user=owner, transform=DROP["transform"], params=DROP["params"])
    with django_capture_on_commit_callbacks(execute=True):
        _new_version(dataset, owner)
    assert not FlowRun.objects.exists()


def test_the_scheduled_task_starts_an_apply_as_the_user_who_set_it(flow, owner):
    from workers.wrangler import apply_scheduled

    services.flow_step_add(flow=flow, user=owner, transform=DROP["transform"], params=DROP["params"])
    apply_scheduled(flow.id, owner.id)
    job = Job.objects.get(kind="flow.apply")
    assert job.owner == owner and FlowRun.objects.get(job=job).trigger == FlowRunTrigger.SCHEDULE


def test_a_scheduled_run_of_a_broken_flow_is_skipped(flow, owner):
    services.flow_step_add(flow=flow, user=owner, transform="drop_columns", params={"columns": ["gone"]})
    assert services.flow_apply_scheduled(flow_id=flow.id, user_id=owner.id) is None
    assert not Job.objects.filter(kind="flow.apply").exists()


def test_deleting_the_dataset_removes_its_flows_schedules(flow, owner, dataset):
    from django_celery_beat.models import PeriodicTask

    from apps.datasets.services import dataset_delete

    services.flow_schedule_set(flow=flow, user=owner, cron="*/5 * * * *", rerun_on_import=False)
    assert PeriodicTask.objects.filter(name=f"Apply flow {flow.id}").exists()
    dataset_delete(dataset=dataset, user=owner)
    assert not PeriodicTask.objects.filter(name=f"Apply flow {flow.id}").exists()
