"""/api/v1/experiments/ and /api/v1/runs/: the same selectors and services as the Experiments pages. Reading
needs a role that may view experiments (not Labeler); writing needs Run jobs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.pagination import StudioPagination
from apps.core.api.permissions import ProjectRole
from apps.core.errors import UserError
from apps.core.roles import Activity
from apps.core.selectors import project_get

from .. import services
from ..models import Experiment, Run
from ..selectors import (
    experiment_get,
    experiment_list,
    run_comparison,
    run_list,
    run_metric_history,
    run_search,
    runs_compare,
)
from .serializers import (
    CompareSerializer,
    ExperimentCreateSerializer,
    ExperimentSerializer,
    LogBatchSerializer,
    MetricHistorySerializer,
    RunCreateSerializer,
    RunDetailSerializer,
    RunFinishSerializer,
    RunSerializer,
)

READ, WRITE = Activity.VIEW_EXPERIMENTS, Activity.RUN_JOBS
DELETED = OpenApiParameter("deleted", bool, description="true: only deleted ones; all: both; default: live ones.")


class NaNReadingJSONParser(JSONParser):
    """Reads NaN and Infinity (Python's json writes them) so that log-batch can name the entry at fault,
    rather than answering that the body is not JSON."""

    strict = False


class RunPagination(StudioPagination):
    """Reads the ordered ids of every matching run in one pass (the count is their number), then the page's
    rows by id: one scan of the JSON columns instead of two (COUNT, then the page)."""

    def paginate_queryset(self, queryset, request, view=None):
        page_ids = super().paginate_queryset(list(queryset.values_list("id", flat=True)), request, view)
        if page_ids is None:
            return None
        rows = {run.id: run for run in queryset.order_by().filter(id__in=page_ids)}
        return [rows[run_id] for run_id in page_ids]


def _deleted(request: Request) -> bool | None:
    asked = (request.query_params.get("deleted") or "false").lower()
    if asked not in ("true", "false", "all"):
        raise ValidationError({"deleted": ["Give true, false or all."]})
    return None if asked == "all" else asked == "true"


def _id(text: str | None, name: str) -> int | None:
    if not text:
        return None
    if not text.isdigit():
        raise ValidationError({name: [f"Give {name} as an id (a whole number)."]})
    return int(text)


@extend_schema(tags=["experiments"])
class ExperimentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                        mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Experiments of the projects you may view experiments in. DELETE moves one to the bin (its runs leave
    the lists too); POST …/restore/ brings it back."""

    serializer_class = ExperimentSerializer
    permission_classes = [IsAuthenticated, ProjectRole]
    action_activities = {"list": READ, "retrieve": READ, "create": WRITE, "update": WRITE, "partial_update": WRITE,
                         "destroy": WRITE, "restore": WRITE}
    queryset = Experiment.objects.none()  # for the schema generator; get_queryset scopes to the user

    def get_queryset(self):
        if self.action != "list":  # members without the role get 403 on an object, strangers 404
            return experiment_list(user=self.request.user, deleted=None, readable_only=False)
        experiments = experiment_list(user=self.request.user, deleted=_deleted(self.request))
        if self.request.query_params.get("project"):
            experiments = experiments.filter(project__slug=self.request.query_params["project"])
        return experiments

    @extend_schema(parameters=[OpenApiParameter("project", str, description="Only this project's."), DELETED])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=ExperimentCreateSerializer, responses={201: ExperimentSerializer})
    def create(self, request: Request) -> Response:
        asked = ExperimentCreateSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        project = project_get(user=request.user, slug=asked.validated_data["project"])
        experiment = services.experiment_create(project=project, user=request.user,
                                                name=asked.validated_data["name"],
                                                description=asked.validated_data["description"])
        return Response(ExperimentSerializer(experiment).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer: ExperimentSerializer) -> None:
        data = serializer.validated_data
        services.experiment_update(experiment=serializer.instance, user=self.request.user, name=data.get("name"),
                                   description=data.get("description"))

    def perform_destroy(self, instance: Experiment) -> None:
        services.experiment_delete(experiment=instance, user=self.request.user)

    @extend_schema(request=None, responses=ExperimentSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, pk: str | None = None) -> Response:
        experiment = services.experiment_restore(experiment=self.get_object(), user=request.user)
        return Response(ExperimentSerializer(experiment).data)


@extend_schema(tags=["experiments"])
class RunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                 viewsets.GenericViewSet):
    """Runs: search with an MLflow-style `filter` (`metrics.auc > 0.9 and params.max_depth = 6`), sort with
    `order_by` (`metrics.auc DESC`), log metrics, params and tags in batches, finish, compare."""

    serializer_class = RunSerializer
    permission_classes = [IsAuthenticated, ProjectRole]
    pagination_class = RunPagination
    action_activities = {"list": READ, "retrieve": READ, "metric_history": READ, "compare": READ,
                         "create": WRITE, "log_batch": WRITE, "finish": WRITE, "destroy": WRITE, "restore": WRITE}
    queryset = Run.objects.none()  # for the schema generator; get_queryset scopes to the user

    def get_queryset(self):
        if self.action != "list":
            runs = run_list(user=self.request.user, deleted=None, readable_only=False)
            # Only the detail shows artifacts; log-batch (thousands of points a second) skips their query.
            return runs.prefetch_related("artifacts__artifact") if self.action == "retrieve" else runs
        params = self.request.query_params
        experiment = _id(params.get("experiment"), "experiment")
        runs = run_list(user=self.request.user, deleted=_deleted(self.request))
        if experiment is not None:
            runs = runs.filter(experiment_id=experiment)
        if params.get("project"):
            runs = runs.filter(experiment__project__slug=params["project"])
        runs = runs.defer("spec", "metric_steps")  # not in the list's rows; the spec can be large
        return run_search(runs, filter_text=params.get("filter", ""), order_by=params.get("order_by", ""))

    def get_serializer_class(self):
        return RunDetailSerializer if self.action == "retrieve" else RunSerializer

    @extend_schema(parameters=[
        OpenApiParameter("experiment", int, description="Only this experiment's runs."),
        OpenApiParameter("project", str, description="Only this project's runs."),
        OpenApiParameter("filter", str, description="e.g. metrics.auc > 0.9 and params.max_depth = 6"),
        OpenApiParameter("order_by", str, description="e.g. metrics.auc DESC; missing values sort last."),
        DELETED])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=RunCreateSerializer, responses={201: RunSerializer})
    def create(self, request: Request) -> Response:
        asked = RunCreateSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        data = asked.validated_data
        experiment = experiment_get(user=request.user, experiment_id=data["experiment"])
        run = services.run_start(experiment=experiment, user=request.user, name=data["name"], source=data["source"],
                                 params=data["params"], tags=data["tags"], spec=data["spec"])
        return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=LogBatchSerializer, responses={200: RunSerializer})
    @action(detail=True, methods=["post"], url_path="log-batch", parser_classes=[NaNReadingJSONParser])
    def log_batch(self, request: Request, pk: str | None = None) -> Response:
        run = self.get_object()
        metrics, params, tags = _batch(request.data)
        services.run_log_limits(metrics=len(metrics), params=len(params), tags=len(tags))
        services.run_log_batch(run=run, metrics=metrics, params=_pairs(params, "params"), tags=_pairs(tags, "tags"))
        return Response(RunSerializer(run).data)

    @extend_schema(request=RunFinishSerializer, responses=RunSerializer)
    @action(detail=True, methods=["post"])
    def finish(self, request: Request, pk: str | None = None) -> Response:
        run = self.get_object()
        asked = RunFinishSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        return Response(RunSerializer(services.run_finish(run=run, status=asked.validated_data["status"])).data)

    def perform_destroy(self, instance: Run) -> None:
        services.run_delete(run=instance, user=self.request.user)

    @extend_schema(request=None, responses=RunSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, pk: str | None = None) -> Response:
        return Response(RunSerializer(services.run_restore(run=self.get_object(), user=request.user)).data)

    @extend_schema(responses=MetricHistorySerializer,
                   parameters=[OpenApiParameter("key", str, OpenApiParameter.PATH, description="The metric key.")])
    @action(detail=True, methods=["get"], url_path=r"metrics/(?P<key>.+)", url_name="metric-history")
    def metric_history(self, request: Request, pk: str | None = None, key: str = "") -> Response:
        run = self.get_object()
        points = run_metric_history(run=run, key=key).values("step", "value", "timestamp")
        return Response({"key": key, "points": list(points)})

    @extend_schema(responses=CompareSerializer, parameters=[
        OpenApiParameter("ids", str, required=True, description="Comma-separated run ids, at most 50.")])
    @action(detail=False, methods=["get"])
    def compare(self, request: Request) -> Response:
        text = request.query_params.get("ids", "")
        ids = [part.strip() for part in text.split(",") if part.strip()]
        if not all(part.isdigit() for part in ids):
            raise ValidationError({"ids": ["Give run ids as whole numbers separated by commas."]})
        runs = runs_compare(user=request.user, run_ids=[int(part) for part in ids])
        return Response({"runs": RunSerializer(runs, many=True).data, **run_comparison(runs=runs)})


def _batch(data: Any) -> tuple[list[Any], list[Any], list[Any]]:
    """The three lists of a log-batch body, checked for shape only; the service checks every value."""
    if not isinstance(data, Mapping):
        raise UserError("Send a JSON object with metrics, params and tags lists.")
    lists = []
    for name in ("metrics", "params", "tags"):
        value = data.get(name) or []
        if not isinstance(value, list):
            raise UserError(f"{name} must be a list.", field=name)
        lists.append(value)
    return lists[0], lists[1], lists[2]


def _pairs(items: list[Any], what: str) -> dict[str, Any]:
    pairs: dict[str, Any] = {}
    for index, item in enumerate(items):
        if not isinstance(item, Mapping) or not isinstance(item.get("key"), str) or "value" not in item:
            raise UserError(f"{what} #{index + 1} needs a key and a value.", field=what)
        pairs[item["key"]] = item["value"]
    return pairs

