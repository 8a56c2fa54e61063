"""Re-run flows when their dataset gets a new version from an import (not from a flow or a type change)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from apps.datasets.models import DatasetVersion

# Versions made by these jobs are not new data: re-running on them would loop (a flow's own output) or
# repeat work for a type change.
NOT_NEW_DATA = {"flow.apply", "dataset.cast"}


def version_saved(sender: Any, instance: DatasetVersion, created: bool, **kwargs: Any) -> None:
    if not created or kwargs.get("raw"):
        return
    if instance.job_id is not None and instance.job is not None and instance.job.kind in NOT_NEW_DATA:
        return
    from .models import Flow, FlowRunTrigger

    flows = list(Flow.objects.filter(dataset_id=instance.dataset_id, rerun_on_import=True, follow_latest=True,
                                     created_by__isnull=False).values_list("id", "created_by_id"))
    if not flows:
        return

    def start() -> None:
        from .services import flow_apply_scheduled

        for flow_id, user_id in flows:
            flow_apply_scheduled(flow_id=flow_id, user_id=user_id, trigger=FlowRunTrigger.IMPORT)

    transaction.on_commit(start)


def flow_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A flow deleted with its dataset takes its schedule along."""
    from django_celery_beat.models import PeriodicTask

    PeriodicTask.objects.filter(name=f"Apply flow {instance.id}").delete()
