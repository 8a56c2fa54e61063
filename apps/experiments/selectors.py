"""Reads for experiments and runs, scoped to the projects whose members may view experiments, and the run
search: engine/experiments/search.py parses a filter, this module turns it into a query on the run rows.

Metrics and numeric params are compared as numbers read from the JSON columns (JSON_EXTRACT on SQLite, jsonb
on PostgreSQL), so `metrics.auc > 0.9` is one scan of the run rows in the database, with no row sent to Python
that does not match; a key a run does not have never matches. bench/bench_experiments.py measures it against
evaluating the filter in Python over slimmed rows, which was slower."""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from typing import Any

from django.db.models import CharField, F, Field, FloatField, Func, Q, QuerySet

from apps.core.errors import NotFound, UserError
from apps.core.models import Project
from apps.core.roles import Activity
from apps.core.selectors import AnyUser, project_list, projects_with_activity, require
from engine.experiments import Comparison, OrderBy, SearchError, like_regex, parse_filter, parse_order_by

from .models import Experiment, Run, RunMetric

MAX_COMPARED_RUNS = 50
STRING_LOOKUPS = {"=": "exact", "LIKE": "regex", "ILIKE": "iregex"}
NUMBER_LOOKUPS = {"=": "exact", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}


def _projects(user: AnyUser, *, readable_only: bool) -> QuerySet[Project]:
    """Projects where the user may view experiments, or (readable_only=False) every project they are a
    member of, so that a member whose role may not view them gets 403 on an object rather than 404."""
    return projects_with_activity(user=user, activity=Activity.VIEW_EXPERIMENTS) if readable_only \
        else project_list(user=user)


def experiment_list(*, user: AnyUser, project: Project | None = None, deleted: bool | None = False,
                    readable_only: bool = True) -> QuerySet[Experiment]:
    """deleted: False (the default) live ones, True the deleted ones, None both."""
    experiments = Experiment.objects.filter(project__in=_projects(user, readable_only=readable_only)) \
        .select_related("project", "created_by")
    if project is not None:
        experiments = experiments.filter(project=project)
    if deleted is not None:
        experiments = experiments.filter(deleted_at__isnull=not deleted)
    return experiments


def experiment_get(*, user: AnyUser, experiment_id: int, project: Project | None = None) -> Experiment:
    experiment = experiment_list(user=user, project=project, deleted=None, readable_only=False) \
        .filter(id=experiment_id).first()
    if experiment is None:
        raise NotFound("There is no such experiment, or it belongs to a project you are not a member of.")
    require(user=user, project=experiment.project, activity=Activity.VIEW_EXPERIMENTS)
    return experiment


def run_list(*, user: AnyUser, experiment: Experiment | None = None, project: Project | None = None,
             deleted: bool | None = False, readable_only: bool = True) -> QuerySet[Run]:
    """Runs of live experiments (of any experiment when one is given); deleted as in experiment_list."""
    runs = Run.objects.filter(experiment__project__in=_projects(user, readable_only=readable_only)) \
        .select_related("experiment__project", "created_by")
    if experiment is not None:
        runs = runs.filter(experiment=experiment)
    else:
        runs = runs.filter(experiment__deleted_at__isnull=True)
    if project is not None:
        runs = runs.filter(experiment__project=project)
    if deleted is not None:
        runs = runs.filter(deleted_at__isnull=not deleted)
    return runs


def run_get(*, user: AnyUser, run_id: int, project: Project | None = None) -> Run:
    run = run_list(user=user, project=project, deleted=None, readable_only=False) \
        .select_related("job", "dataset_version__dataset", "flow").filter(id=run_id).first()
    if run is None:
        raise NotFound("There is no such run, or it belongs to a project you are not a member of.")
    require(user=user, project=run.experiment.project, activity=Activity.VIEW_EXPERIMENTS)
    return run


def run_metric_history(*, run: Run, key: str) -> QuerySet[RunMetric]:
    return RunMetric.objects.filter(run=run, key=key).order_by("step", "timestamp", "id")


def run_metric_histories(*, runs: Sequence[Run], max_points: int = 5000) -> dict[int, dict[str, list[tuple]]]:
    """{run id: {key: [(step, value), ...]}} for charts, at most `max_points` points per run and key
    (evenly thinned, always keeping the last)."""
    histories: dict[int, dict[str, list[tuple]]] = {run.id: {} for run in runs}
    rows = RunMetric.objects.filter(run__in=[run.id for run in runs]).order_by("run_id", "key", "step", "timestamp")
    for run_id, key, step, value in rows.values_list("run_id", "key", "step", "value").iterator(chunk_size=5000):
        histories[run_id].setdefault(key, []).append((step, value))
    for series in histories.values():
        for key, points in series.items():
            if len(points) > max_points:
                stride = len(points) / max_points
                series[key] = [*(points[int(i * stride)] for i in range(max_points - 1)), points[-1]]
    return histories


def runs_compare(*, user: AnyUser, run_ids: Sequence[int], project: Project | None = None) -> list[Run]:
    """The runs asked for, in the order asked; any id that is not a run the user may read is a 404."""
    if not run_ids:
        raise UserError("Choose at least one run to compare.", field="ids")
    if len(run_ids) > MAX_COMPARED_RUNS:
        raise UserError(f"Compare at most {MAX_COMPARED_RUNS} runs at a time.", field="ids")
    found = {run.id: run for run in run_list(user=user, project=project, deleted=None).filter(id__in=run_ids)
             .select_related("dataset_version__dataset", "flow", "job")}
    missing = [run_id for run_id in run_ids if run_id not in found]
    if missing:
        raise NotFound(f"There is no run {missing[0]} that you may see.")
    return [found[run_id] for run_id in dict.fromkeys(run_ids)]


# --- search ----------------------------------------------------------------------------------------------------

def run_search(runs: QuerySet[Run], *, filter_text: str = "", order_by: str = "") -> QuerySet[Run]:
    """Runs matching an MLflow-style filter, sorted by any metric, param or attribute (missing values last),
    newest first otherwise. A filter that cannot be read raises UserError(field="filter") with its position."""
    try:
        comparisons = parse_filter(filter_text)
    except SearchError as error:
        raise UserError(error.message, field="filter") from None
    try:
        order = parse_order_by(order_by)
    except SearchError as error:
        raise UserError(error.message, field="order_by") from None
    for index, comparison in enumerate(comparisons):
        runs = _apply(runs, comparison, f"_search_{index}")
    return runs.order_by(*_ordering(order))


class _JSONValue(Func):
    """One key of a JSON column, read once per row: SQLite's JSON_EXTRACT, PostgreSQL's -> / ->>. Django's
    own key transform reads the key twice on SQLite (JSON_TYPE, then JSON_EXTRACT), which doubled the time of
    a search over 10,000 runs."""

    def __init__(self, column: str, key: str, output_field: Field) -> None:
        super().__init__(F(column), output_field=output_field)
        self.key = key

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        column, params = compiler.compile(self.source_expressions[0])
        return f"JSON_EXTRACT({column}, %s)", [*params, "$." + json.dumps(self.key)]

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        column, params = compiler.compile(self.source_expressions[0])
        if isinstance(self.output_field, FloatField):
            return (f"(CASE WHEN jsonb_typeof({column} -> %s) = 'number' THEN ({column} ->> %s)::double precision "
                    "END)", [*params, self.key, *params, self.key])
        return f"({column} ->> %s)", [*params, self.key]


def _number(column: str, key: str) -> _JSONValue:
    return _JSONValue(column, key, FloatField())


def _text(column: str, key: str) -> _JSONValue:
    return _JSONValue(column, key, CharField())


def _apply(runs: QuerySet[Run], comparison: Comparison, alias: str) -> QuerySet[Run]:
    """One comparison as a filter. A key a run does not have reads as NULL, which matches nothing, != included."""
    kind, key, operator, value = comparison.kind, comparison.key, comparison.operator, comparison.value
    if kind == "attribute":
        return runs.filter(_attribute(comparison))
    if kind == "metric" or (kind == "param" and comparison.numeric):
        runs = runs.alias(**{alias: _number("metrics" if kind == "metric" else "params_numeric", key)})
        if operator != "!=":
            return runs.filter(**{f"{alias}__{NUMBER_LOOKUPS[operator]}": value})
        if kind == "metric":
            return runs.filter(Q(**{f"{alias}__isnull": False}) & ~Q(**{alias: value}))
        # A param that is not a number (max_depth = 'auto') differs from every number.
        runs = runs.alias(**{f"{alias}_text": _text("params", key)})
        return runs.filter(Q(**{f"{alias}_text__isnull": False})
                           & (Q(**{f"{alias}__isnull": True}) | ~Q(**{alias: value})))
    runs = runs.alias(**{alias: _text("params" if kind == "param" else "tags", key)})
    if operator == "!=":
        return runs.filter(Q(**{f"{alias}__isnull": False}) & ~Q(**{alias: value}))
    wanted = like_regex(str(value)) if operator in ("LIKE", "ILIKE") else value
    return runs.filter(**{f"{alias}__{STRING_LOOKUPS[operator]}": wanted})


def _attribute(comparison: Comparison) -> Q:
    key, operator, value = comparison.key, comparison.operator, comparison.value
    if key in ("started_at", "ended_at"):
        if not isinstance(value, float):
            raise UserError(f"Compare {key} with a time in milliseconds since 1970.", field="filter")
        moment = datetime.datetime.fromtimestamp(value / 1000, tz=datetime.UTC)
        if operator == "!=":
            return Q(**{f"{key}__isnull": False}) & ~Q(**{key: moment})
        return Q(**{f"{key}__{NUMBER_LOOKUPS[operator]}": moment})
    field = "created_by__username" if key == "created_by" else key
    if key == "uuid":
        if operator in ("LIKE", "ILIKE"):
            raise UserError("Compare run_id with = or != and the whole id.", field="filter")
        try:
            import uuid

            value = str(uuid.UUID(str(value)))
        except ValueError:
            return Q(pk__in=[]) if operator == "=" else Q()
    if operator == "!=":
        return ~Q(**{field: value})
    if operator in ("LIKE", "ILIKE"):
        return Q(**{f"{field}__{STRING_LOOKUPS[operator]}": like_regex(str(value))})
    return Q(**{field: value})


def _ordering(order: OrderBy | None) -> list[Any]:
    newest = [F("started_at").desc(), F("id").desc()]
    if order is None:
        return newest
    if order.kind == "attribute":
        field = "created_by__username" if order.key == "created_by" else order.key
        expressions: list[Any] = [F(field)]
    elif order.kind == "metric":
        expressions = [_number("metrics", order.key)]
    elif order.kind == "param":  # numbers by value first, then text
        expressions = [_number("params_numeric", order.key), _text("params", order.key)]
    else:
        expressions = [_text("tags", order.key)]
    direction = [e.desc(nulls_last=True) if order.descending else e.asc(nulls_last=True) for e in expressions]
    return [*direction, *newest]


def run_comparison(*, runs: Sequence[Run]) -> dict[str, Any]:
    """The compare table: every param and metric key of the runs, each run's value (None when missing) and
    whether the values differ between the runs."""
    from engine.experiments import differing_keys

    table: dict[str, Any] = {}
    for field in ("params", "metrics"):
        rows = [getattr(run, field) for run in runs]
        differing = differing_keys(rows)
        keys = sorted(set().union(*(row.keys() for row in rows))) if rows else []
        table[field] = [{"key": key, "values": [row.get(key) for row in rows], "differs": key in differing}
                        for key in keys]
    return table
