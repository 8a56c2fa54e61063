"""The data a training, tuning or AutoML job learns from, as its form offers it and as a request names it:
the project's ready datasets, the chosen dataset's versions and columns, and the project's fitted flow runs.
Shared by the three forms (pages) and their create requests (pages and API)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from apps.core.errors import NotFound
from apps.core.models import Project
from apps.datasets.models import Dataset, DatasetStatus, DatasetVersion
from apps.datasets.selectors import dataset_get, dataset_list
from apps.wrangler.models import FlowRun

MAX_LISTED = 50  # versions and flow runs offered in a form's choices, newest first


@dataclass
class DataChoices:
    datasets: list[Dataset]
    chosen: Dataset | None  # the dataset the request names, else the first ready one
    version: DatasetVersion | None  # the version it names, else the dataset's current one
    versions: list[int]
    flow_runs: list[tuple[str, str]]

    @property
    def columns(self) -> list[str]:
        return self.version.column_names if self.version is not None else []

    def form_kwargs(self) -> dict[str, Any]:
        """The choices every learning form takes."""
        return {"datasets": [(str(dataset.id), dataset.name) for dataset in self.datasets],
                "versions": self.versions, "columns": self.columns, "flow_runs": self.flow_runs}

    def initial(self, data: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
        """An unbound form's initial values: the request's `keys` that are set, and the chosen dataset."""
        initial = {key: data.get(key) for key in keys if data.get(key)}
        if self.chosen is not None:
            initial.setdefault("dataset", str(self.chosen.id))
        return initial


def ready_datasets(*, user: Any, project: Project) -> list[Dataset]:
    return list(dataset_list(user=user, project=project).filter(status=DatasetStatus.READY)
                .select_related("current_version"))


def data_choices(*, user: Any, project: Project, data: Mapping[str, Any]) -> DataChoices:
    """The choices a learning form offers, following what `data` (the request's GET or POST) has chosen."""
    datasets = ready_datasets(user=user, project=project)
    chosen = next((dataset for dataset in datasets if str(dataset.id) == data.get("dataset")),
                  datasets[0] if datasets else None)
    version = None
    versions: list[int] = []
    if chosen is not None:
        number = str(data.get("version") or "")
        version = (chosen.versions.filter(number=int(number)).first() if number.isdigit() else None) \
            or chosen.current_version
        versions = list(chosen.versions.order_by("-number").values_list("number", flat=True)[:MAX_LISTED])
    runs = (FlowRun.objects.filter(flow__project=project, fitted__isnull=False).select_related("flow")
            .order_by("-created_at")[:MAX_LISTED])
    return DataChoices(datasets, chosen, version, versions,
                       [(str(run.id), f"{run.flow.name}, run {run.number}") for run in runs])


def chosen_data(*, user: Any, project: Project, dataset_id: Any,
                flow_run_id: Any = None) -> tuple[Dataset, FlowRun | None]:
    """The dataset and optional flow run a create request names; an id outside the project is a 404."""
    dataset = dataset_get(user=user, project=project, dataset_id=int(dataset_id))
    flow_run = None
    if flow_run_id:
        flow_run = FlowRun.objects.filter(id=int(flow_run_id), flow__project=project).first()
        if flow_run is None:
            raise NotFound("There is no such flow run in this project.")
    return dataset, flow_run
