"""/api/v1/automl-jobs/: the same selectors and services as the pages. Reading needs view_experiments (models
and scores are not for labelers), creating needs run_jobs (analysts may: Canvas is for them)."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.permissions import ProjectRole
from apps.core.errors import UserError
from apps.core.roles import Activity
from apps.training.api.inputs import training_inputs

from ..models import AutoMLJob
from ..selectors import automl_job_list
from ..services import automl_job_start, automl_predict_frame, automl_what_if, csv_bytes, csv_read
from .serializers import (
    AutoMLJobCreateSerializer,
    AutoMLJobDetailSerializer,
    AutoMLJobSerializer,
    PredictRequestSerializer,
    PredictResponseSerializer,
    WhatIfRequestSerializer,
    WhatIfResponseSerializer,
)

READ = Activity.VIEW_EXPERIMENTS


@extend_schema(tags=["automl"])
class AutoMLJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                       viewsets.GenericViewSet):
    """AutoML jobs of the projects you are a member of. Creating one starts a search on the training queue
    (follow `job`); retrieve it while it runs to see the leaderboard grow, and once Completed for the best
    model, its evaluation and the artifacts (bundle, script, notebook)."""

    serializer_class = AutoMLJobSerializer
    permission_classes = [IsAuthenticated, ProjectRole]
    action_activities = {"create": Activity.RUN_JOBS, "retrieve": READ, "what_if": READ, "predict": READ}
    queryset = AutoMLJob.objects.none()  # for the schema generator; get_queryset scopes to the user

    def get_queryset(self):
        from apps.core.selectors import projects_with_activity

        jobs = automl_job_list(user=self.request.user)
        if self.action == "list":
            jobs = jobs.filter(project__in=projects_with_activity(user=self.request.user, activity=READ))
            if self.request.query_params.get("project"):
                jobs = jobs.filter(project__slug=self.request.query_params["project"])
        return jobs

    def get_serializer_class(self):
        return AutoMLJobDetailSerializer if self.action == "retrieve" else AutoMLJobSerializer

    @extend_schema(parameters=[OpenApiParameter("project", str, description="Only jobs of this project.")])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=AutoMLJobCreateSerializer, responses={201: AutoMLJobSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        asked = AutoMLJobCreateSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        data = asked.validated_data
        project, dataset, flow_run = training_inputs(user=request.user, data=data)
        automl = automl_job_start(
            project=project, user=request.user, dataset=dataset, target=data["target"],
            version_number=data.get("version"), problem_type=data["problem_type"], budget=data["budget"],
            budget_seconds=data.get("budget_seconds"), metric=data["metric"], algorithms=data["algorithms"],
            max_trials=data.get("max_trials"), folds=data["folds"], test_share=data["test_share"], seed=data["seed"],
            flow_run=flow_run, name=data["name"], experiment=data["experiment"])
        return Response(AutoMLJobSerializer(automl, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=WhatIfRequestSerializer, responses={200: WhatIfResponseSerializer})
    @action(detail=True, methods=["post"], url_path="what-if", parser_classes=[JSONParser])
    def what_if(self, request: Request, pk: str | None = None) -> Response:
        """The best model's prediction for one row, its class probabilities and each column's impact; a
        missing column or a value of the wrong type is a 400 that names the column."""
        automl = self.get_object()
        asked = WhatIfRequestSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        return Response(automl_what_if(automl=automl, row=asked.validated_data["row"]))

    @extend_schema(request={"application/json": PredictRequestSerializer, "multipart/form-data": PredictRequestSerializer},
                   responses={200: OpenApiResponse(PredictResponseSerializer,
                                                   description="JSON; a CSV file when a CSV was uploaded.")})
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, MultiPartParser])
    def predict(self, request: Request, pk: str | None = None) -> Response:
        """Predictions for JSON rows or an uploaded CSV (at most 50,000 rows): the input columns plus the
        prediction and class probabilities. Missing columns are a 400 that names them."""
        automl = self.get_object()
        upload = request.FILES.get("file")
        if upload is not None:
            out = automl_predict_frame(automl=automl, frame=csv_read(data=upload.read()))
            download = HttpResponse(csv_bytes(frame=out), content_type="text/csv")
            download["Content-Disposition"] = f'attachment; filename="automl-{automl.id}-predictions.csv"'
            return download  # type: ignore[return-value]
        rows = request.data.get("rows") if isinstance(request.data, dict) else None
        if not isinstance(rows, list) or not rows or not all(isinstance(row, dict) for row in rows):
            raise UserError("Send `rows` (a list of objects) or a CSV file as `file`.", field="rows")
        out = automl_predict_frame(automl=automl, frame=pd.DataFrame(rows))
        return Response({"columns": [str(column) for column in out.columns],
                         "rows": json.loads(out.to_json(orient="records"))})
