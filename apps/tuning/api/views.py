"""/api/v1/tuning-jobs/ and /api/v1/tuning-strategies/: the same registry, selectors and services as the pages."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.permissions import ProjectRole
from apps.core.roles import Activity
from apps.training.api.inputs import training_inputs

from ..models import TuningJob
from ..selectors import tuning_job_get, tuning_job_list
from ..services import tuning_job_start, tuning_job_stop, tuning_strategies
from .serializers import (
    TuningJobCreateSerializer,
    TuningJobDetailSerializer,
    TuningJobSerializer,
    TuningStrategySerializer,
)


@extend_schema(tags=["tuning"])
class TuningStrategyViewSet(viewsets.GenericViewSet):
    """The search strategies a tuning job may use, with their options."""

    serializer_class = TuningStrategySerializer
    permission_classes = [IsAuthenticated]
    pagination_class = None

    @extend_schema(responses=TuningStrategySerializer(many=True))
    def list(self, request: Request) -> Response:
        return Response(TuningStrategySerializer(tuning_strategies(), many=True).data)


@extend_schema(tags=["tuning"])
class TuningJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                       viewsets.GenericViewSet):
    """Hyperparameter tuning jobs of the projects you are a member of. Creating one starts its coordinator
    (follow `job`); each trial is a training job. Retrieve it for the trials and, once it has ended, the best
    training job and the hyperparameter importance."""

    serializer_class = TuningJobSerializer
    permission_classes = [IsAuthenticated, ProjectRole]
    action_activities = {"create": Activity.RUN_JOBS, "stop": Activity.RUN_JOBS}
    queryset = TuningJob.objects.none()  # for the schema generator; get_queryset scopes to the user

    def get_queryset(self):
        jobs = tuning_job_list(user=self.request.user)
        if self.action == "list" and self.request.query_params.get("project"):
            jobs = jobs.filter(project__slug=self.request.query_params["project"])
        if self.action == "retrieve":
            jobs = jobs.prefetch_related("trials__training_job__job")
        return jobs

    def get_serializer_class(self):
        return TuningJobDetailSerializer if self.action == "retrieve" else TuningJobSerializer

    @extend_schema(parameters=[OpenApiParameter("project", str, description="Only jobs of this project.")])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=TuningJobCreateSerializer, responses={201: TuningJobSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        asked = TuningJobCreateSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        data = asked.validated_data
        project, dataset, flow_run = training_inputs(user=request.user, data=data)
        parent = None
        if data.get("warm_start_from"):
            parent = tuning_job_get(user=request.user, project=project, tuning_job_id=data["warm_start_from"])
        tuning = tuning_job_start(
            project=project, user=request.user, dataset=dataset, algorithm=data["algorithm"],
            strategy=data["strategy"], target=data["target"], version_number=data.get("version"),
            problem_type=data["problem_type"], validation=data["validation"], folds=data["folds"],
            test_share=data["test_share"], seed=data["seed"], exclude=data["exclude"], flow_run=flow_run,
            ranges=data["ranges"], objective_metric=data["objective_metric"], direction=data["direction"],
            max_trials=data["max_trials"], max_parallel=data["max_parallel"], early_stopping=data["early_stopping"],
            warm_start_from=parent, options=data["options"], name=data["name"], experiment=data["experiment"])
        return Response(TuningJobSerializer(tuning, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=TuningJobSerializer)
    @action(detail=True, methods=["post"])
    def stop(self, request: Request, pk: str | None = None) -> Response:
        """Stop the tuning job: its running trials are stopped and no more start."""
        tuning = tuning_job_stop(tuning=self.get_object(), user=request.user)
        return Response(TuningJobSerializer(tuning, context={"request": request}).data)
