"""/api/v1/algorithms/ and /api/v1/training-jobs/: the same registry, selectors and services as the pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.permissions import ProjectRole
from apps.core.errors import NotFound
from apps.core.roles import Activity
from apps.core.selectors import project_get
from apps.datasets.selectors import dataset_get
from engine.training import ALGORITHMS

from ..models import TrainingJob
from ..selectors import training_job_list
from ..services import training_job_start, training_onnx, training_script_start
from .inputs import training_inputs
from .serializers import (
    AlgorithmSerializer,
    TrainingJobCreateSerializer,
    TrainingJobDetailSerializer,
    TrainingJobSerializer,
    TrainingScriptCreateSerializer,
)


@extend_schema(tags=["training"])
class AlgorithmViewSet(viewsets.GenericViewSet):
    """The built-in algorithms with their problem types and typed hyperparameters (defaults, ranges, scales)."""

    serializer_class = AlgorithmSerializer
    permission_classes = [IsAuthenticated]
    pagination_class = None
    lookup_field = "name"
    lookup_value_regex = "[a-z0-9_]+"

    @extend_schema(parameters=[OpenApiParameter("problem_type", str, description="Only algorithms that solve it.")],
                   responses=AlgorithmSerializer(many=True))
    def list(self, request: Request) -> Response:
        wanted = request.query_params.get("problem_type")
        entries = [entry.schema() for entry in ALGORITHMS.values() if not wanted or wanted in entry.problem_types]
        return Response(AlgorithmSerializer(entries, many=True).data)

    @extend_schema(responses=AlgorithmSerializer)
    def retrieve(self, request: Request, name: str | None = None) -> Response:
        entry = ALGORITHMS.get(name or "")
        if entry is None:
            raise NotFound(f"There is no built-in algorithm called '{name}'.")
        return Response(AlgorithmSerializer(entry.schema()).data)


@extend_schema(tags=["training"])
class TrainingJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                         viewsets.GenericViewSet):
    """Training jobs of the projects you are a member of. Creating one starts a job on the training queue
    (follow `job`); retrieve it again once its status is Completed to get `evaluation` and `model_artifact`."""

    serializer_class = TrainingJobSerializer
    permission_classes = [IsAuthenticated, ProjectRole]
    action_activities = {"create": Activity.RUN_JOBS, "script": Activity.RUN_CODE}
    queryset = TrainingJob.objects.none()  # for the schema generator; get_queryset scopes to the user

    def get_queryset(self):
        jobs = training_job_list(user=self.request.user)
        if self.action == "list" and self.request.query_params.get("project"):
            jobs = jobs.filter(project__slug=self.request.query_params["project"])
        return jobs

    def get_serializer_class(self):
        return TrainingJobDetailSerializer if self.action == "retrieve" else TrainingJobSerializer

    @extend_schema(parameters=[OpenApiParameter("project", str, description="Only jobs of this project.")])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=TrainingJobCreateSerializer, responses={201: TrainingJobSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        asked = TrainingJobCreateSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        data = asked.validated_data
        project, dataset, flow_run = training_inputs(user=request.user, data=data)
        training = training_job_start(
            project=project, user=request.user, dataset=dataset, algorithm=data["algorithm"], target=data["target"],
            version_number=data.get("version"), hyperparameters=data["hyperparameters"],
            problem_type=data["problem_type"], validation=data["validation"], folds=data["folds"],
            test_share=data["test_share"], seed=data["seed"], exclude=data["exclude"], flow_run=flow_run,
            name=data["name"], experiment=data["experiment"])
        return Response(TrainingJobSerializer(training, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY),
                              409: OpenApiResponse(description="The model cannot be exported; the reason.")})
    @action(detail=True, methods=["get"])
    def onnx(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The trained model as an ONNX file. Its input `features` is the feature matrix (float32, one column
        per name in the bundle manifest's `plan.features`, in order) that the studio's feature plan makes from
        raw rows; the plan is in the model bundle's manifest and the file's metadata. 409 with the reason when
        the model cannot be exported (an ensemble, a data flow with per-row steps, a script job...)."""
        training = self.get_object()
        data, name = training_onnx(training=training)
        response = HttpResponse(data, content_type="application/octet-stream")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    @extend_schema(request={"application/json": TrainingScriptCreateSerializer,
                            "multipart/form-data": TrainingScriptCreateSerializer},
                   responses={201: TrainingJobSerializer})
    @action(detail=False, methods=["post"], parser_classes=[JSONParser, MultiPartParser, FormParser])
    def script(self, request: Request) -> Response:
        """Start a training job that runs your own train.py (SageMaker script mode) on a dataset version. Send
        the script as text (JSON) or as a file (multipart). Needs a role that may run custom code."""
        asked = TrainingScriptCreateSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        data = asked.validated_data
        project = project_get(user=request.user, slug=data["project"], activity=Activity.RUN_CODE)
        dataset = dataset_get(user=request.user, project=project, dataset_id=data["dataset"])
        training = training_script_start(
            project=project, user=request.user, dataset=dataset, script=data["script"],
            version_number=data.get("version"), hyperparameters=data["hyperparameters"],
            metric_definitions=data["metric_definitions"], timeout_seconds=data.get("timeout_seconds"),
            memory_mb=data.get("memory_mb"), network_isolation=data["network_isolation"], target=data["target"],
            name=data["name"], experiment=data["experiment"])
        return Response(TrainingJobSerializer(training, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)
