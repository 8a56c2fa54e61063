"""/api/v1/transforms/ and /api/v1/flows/: the same registry, selectors and services as the flow builder."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.jobs import JobSerializer
from apps.core.api.permissions import ProjectRole
from apps.core.errors import UserError
from apps.core.roles import Activity
from apps.datasets.selectors import dataset_get

from .. import services
from ..models import Flow
from ..selectors import flow_list, transform_schemas
from ..views import attachment, fitted_or_409
from .serializers import (
    ApplyRequestSerializer,
    FlowSerializer,
    PreviewRequestSerializer,
    PreviewSerializer,
    TransformSerializer,
)


@extend_schema(tags=["wrangler"])
class TransformViewSet(viewsets.GenericViewSet):
    """Every registered transform, with its parameter schema: the list the flow builder offers."""

    serializer_class = TransformSerializer
    permission_classes = [IsAuthenticated]
    pagination_class = None

    @extend_schema(responses=TransformSerializer(many=True))
    def list(self, request: Request) -> Response:
        return Response(TransformSerializer(transform_schemas(), many=True).data)


@extend_schema(tags=["wrangler"])
class FlowViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                  viewsets.GenericViewSet):
    """Data Wrangler flows of the projects you are a member of. Steps are {id, transform, params, enabled};
    a step whose column is not in the data at that step is kept, and /preview/ reports its error."""

    serializer_class = FlowSerializer
    permission_classes = [IsAuthenticated, ProjectRole]
    action_activities = {"create": Activity.MANAGE_DATA, "update": Activity.MANAGE_DATA,
                         "partial_update": Activity.MANAGE_DATA, "destroy": Activity.MANAGE_DATA,
                         "apply": Activity.RUN_JOBS}
    queryset = Flow.objects.none()  # for the schema generator; get_queryset scopes to the user

    def get_queryset(self):
        flows = flow_list(user=self.request.user).prefetch_related("runs", "runs__job", "runs__input_version",
                                                                   "runs__output_version")
        if self.action == "list" and self.request.query_params.get("project"):
            flows = flows.filter(project__slug=self.request.query_params["project"])
        return flows

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = FlowSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        dataset = dataset_get(user=request.user, dataset_id=data["dataset_id"])
        number = (data.get("source_version") or {}).get("number")
        version = dataset.versions.filter(number=number).first() if number is not None else None
        if number is not None and version is None:
            raise UserError(f"Dataset {dataset.name} has no version {number}.", field="version")
        flow = services.flow_create(project=dataset.project, user=request.user, dataset=dataset,
                                    name=data.get("name", ""), version=version,
                                    steps=[dict(step) for step in data.get("steps", [])])
        if "sample_method" in data or "sample_rows" in data:
            flow = services.flow_update(flow=flow, user=request.user, sample_method=data.get("sample_method"),
                                        sample_rows=data.get("sample_rows"))
        return Response(FlowSerializer(flow).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        flow = self.get_object()  # the role check comes before looking at the body
        incoming = FlowSerializer(flow, data=request.data, partial=kwargs.get("partial", False))
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        if data.get("dataset_id", flow.dataset_id) != flow.dataset_id:
            raise UserError("A flow's dataset cannot change; create another flow.", field="dataset")
        version = None
        if "source_version" in data:
            number = (data["source_version"] or {}).get("number")
            version = flow.dataset.versions.filter(number=number).first() if number is not None else None
            if number is not None and version is None:
                raise UserError(f"Dataset {flow.dataset.name} has no version {number}.", field="version")
        flow = services.flow_update(
            flow=flow, user=request.user, name=data.get("name"), version=version,
            follow_latest=True if "source_version" in data and version is None else None,
            sample_method=data.get("sample_method"), sample_rows=data.get("sample_rows"))
        if "steps" in data:
            flow = services.flow_steps_set(flow=flow, user=request.user, steps=[dict(s) for s in data["steps"]])
        return Response(FlowSerializer(flow).data)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    def perform_destroy(self, instance: Flow) -> None:
        services.flow_delete(flow=instance, user=self.request.user)

    @extend_schema(request=PreviewRequestSerializer, responses=PreviewSerializer)
    @action(detail=True, methods=["post"])
    def preview(self, request: Request, pk: str | None = None) -> Response:
        flow = self.get_object()
        asked = PreviewRequestSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        preview = services.flow_preview(flow=flow, **asked.validated_data)
        return Response(PreviewSerializer(preview).data)

    @extend_schema(request=ApplyRequestSerializer, responses={202: JobSerializer})
    @action(detail=True, methods=["post"])
    def apply(self, request: Request, pk: str | None = None) -> Response:
        flow = self.get_object()
        asked = ApplyRequestSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        job = services.flow_apply_start(flow=flow, user=request.user, **asked.validated_data)
        return Response(JobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)

    def perform_content_negotiation(self, request: Request, force: bool = False):
        if self.action == "export":  # a Python file, not one of DRF's renderers
            renderer = self.get_renderers()[0]
            return renderer, renderer.media_type
        return super().perform_content_negotiation(request, force)

    @extend_schema(responses={(200, "text/x-python"): OpenApiResponse(OpenApiTypes.STR,
                                                                      description="The standalone script.")})
    @action(detail=True, methods=["get"])
    def export(self, request: Request, pk: str | None = None) -> HttpResponse:
        flow = self.get_object()
        return attachment(services.flow_export_script(flow=flow), services.script_filename(flow), "text/x-python")

    @extend_schema(responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="The fitted flow: steps with "
                                                   "their checked params and fitted state.")})
    @action(detail=True, methods=["get"])
    def fitted(self, request: Request, pk: str | None = None) -> Response:
        return Response(fitted_or_409(self.get_object()))
