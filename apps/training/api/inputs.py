"""What every API request that starts learning from data names (training, tuning and AutoML jobs): a project
where the caller may run jobs, a dataset in it and, optionally, an applied flow run of that project."""

from __future__ import annotations

from typing import Any

from apps.core.models import Project
from apps.core.roles import Activity
from apps.core.selectors import project_get
from apps.datasets.models import Dataset
from apps.wrangler.models import FlowRun

from ..choices import chosen_data


def training_inputs(*, user: Any, data: dict[str, Any]) -> tuple[Project, Dataset, FlowRun | None]:
    """(project, dataset, flow run or None) of a validated create request; a foreign or unknown id is a 404."""
    project = project_get(user=user, slug=data["project"], activity=Activity.RUN_JOBS)
    dataset, flow_run = chosen_data(user=user, project=project, dataset_id=data["dataset"],
                                    flow_run_id=data.get("flow_run"))
    return project, dataset, flow_run
