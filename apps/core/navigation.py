"""The studio's areas, in navigation order. `built` says whether the area has screens yet; areas that do
not say so plainly on their page, with what is planned."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Area:
    slug: str
    label: str
    built: bool
    summary: str
    url_name: str = ""


AREAS: list[Area] = [
    Area("data", "Data", True, "Import files, browse versioned datasets and their column summaries.", "datasets:list"),
    Area("labeling", "Labeling", False,
         "Labeling jobs, a labeling UI with several labelers per item, consolidation, review and "
         "active-learning auto-labeling."),
    Area("features", "Features", False,
         "Feature groups with an online (Redis) and offline (Parquet) store and point-in-time training sets."),
    Area("training", "Training", True,
         "Built-in algorithms with live learning curves, checkpoints and an evaluation of every model.",
         "training:list"),
    Area("experiments", "Experiments", True, "Experiment tracking and side-by-side comparison of runs.",
         "experiments:list"),
    Area("models", "Models", True, "A model registry with approval, model cards and a model dashboard.", "registry:list"),
    Area("endpoints", "Endpoints", False,
         "Real-time, serverless, asynchronous, batch and multi-model endpoints with data capture."),
    Area("monitoring", "Monitoring", False, "Drift and quality monitors with charts and alerts; bias and SHAP."),
    Area("pipelines", "Pipelines", False, "DAGs of the steps above with caching, conditions, retries and lineage."),
    Area("jobs", "Jobs", True, "Every long piece of work, its progress, logs and metrics.", "jobs:job-list"),
]
AREAS_BY_SLUG = {area.slug: area for area in AREAS}
