"""/api/v1/insights-reports/: the same selectors and services as the Quality and insights pages."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.permissions import ProjectRole
from apps.datasets.selectors import dataset_get

from ..models import InsightsReport
from ..selectors import insights_report_list
from ..services import insights_report_start
from .serializers import (
    InsightsReportCreateSerializer,
    InsightsReportDetailSerializer,
    InsightsReportSerializer,
)


@extend_schema(tags=["insights"])
class InsightsReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                            viewsets.GenericViewSet):
    """Data quality and insights reports on dataset versions, in the projects you are a member of. Creating one
    starts a job (see `job`); retrieve the report again once its status is Completed to get `report`."""

    serializer_class = InsightsReportSerializer
    permission_classes = [IsAuthenticated, ProjectRole]
    queryset = InsightsReport.objects.none()  # for the schema generator; get_queryset scopes to the user

    def get_queryset(self):
        reports = insights_report_list(user=self.request.user)
        if self.action == "list":
            params = self.request.query_params
            if params.get("project"):
                reports = reports.filter(dataset__project__slug=params["project"])
            if params.get("dataset"):
                if not params["dataset"].isdigit():
                    raise ValidationError({"dataset": ["Give a dataset id (a whole number)."]})
                reports = reports.filter(dataset_id=int(params["dataset"]))
        return reports

    def get_serializer_class(self):
        return InsightsReportDetailSerializer if self.action == "retrieve" else InsightsReportSerializer

    @extend_schema(parameters=[OpenApiParameter("project", str, description="Only reports of this project."),
                               OpenApiParameter("dataset", int, description="Only reports of this dataset.")])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=InsightsReportCreateSerializer, responses={201: InsightsReportSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        asked = InsightsReportCreateSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        data = asked.validated_data
        dataset = dataset_get(user=request.user, dataset_id=data["dataset"])
        report = insights_report_start(dataset=dataset, user=request.user, version_number=data.get("version"),
                                       target=data["target"], problem_type=data["problem_type"])
        return Response(InsightsReportSerializer(report, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)
