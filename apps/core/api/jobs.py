"""/api/v1/jobs/: the same jobs, filters and services as the jobs pages."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.job_filters import JobFilterForm
from apps.core.models import Job, JobLog, JobStatus
from apps.core.roles import Activity
from apps.core.selectors import job_list, job_logs, job_logs_after, job_metric_points
from apps.core.services import job_retry, job_stop

from .permissions import ProjectRole

LOG_TAIL = 200
LOG_PAGE = 1000


class JobSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    status = serializers.ChoiceField(choices=JobStatus.choices, read_only=True)
    duration_seconds = serializers.SerializerMethodField()
    error_detail = serializers.SerializerMethodField(help_text="The traceback; null unless you are a site admin.")

    class Meta:
        model = Job
        fields = [
            "id", "uuid", "project", "owner", "kind", "title", "queue", "status", "progress", "message",
            "inputs", "outputs", "metrics", "error", "error_detail", "attempt", "max_attempts",
            "created_at", "started_at", "ended_at", "duration_seconds",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.FLOAT)
    def get_duration_seconds(self, job: Job) -> float | None:
        return job.duration.total_seconds() if job.duration is not None else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_error_detail(self, job: Job) -> str | None:
        request = self.context.get("request")
        return job.error_detail if request is not None and request.user.is_superuser else None


class JobLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = JobLog
        fields = ["id", "at", "level", "message"]


class JobLogPageSerializer(serializers.Serializer):
    lines = JobLogSerializer(many=True)
    last_id = serializers.IntegerField(help_text="Pass it as ?after= to get only newer lines.")
    more = serializers.BooleanField(help_text="True when more lines follow `last_id` already.")


class MetricPointSerializer(serializers.Serializer):
    step = serializers.IntegerField(allow_null=True)
    value = serializers.FloatField()
    at = serializers.DateTimeField()


class MetricSeriesSerializer(serializers.Serializer):
    name = serializers.CharField()
    points = MetricPointSerializer(many=True)


class JobMetricsSerializer(serializers.Serializer):
    latest = serializers.DictField(child=serializers.FloatField())
    series = MetricSeriesSerializer(many=True)


FILTER_PARAMETERS = [
    OpenApiParameter("kind", str, description="Job kind, e.g. datasets.import"),
    OpenApiParameter("status", str, enum=JobStatus.values),
    OpenApiParameter("owner", str, description="Username of the job's owner"),
    OpenApiParameter("project", str, description="Project slug"),
]


@extend_schema(tags=["jobs"])
class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Jobs of the projects you are a member of."""

    serializer_class = JobSerializer
    permission_classes = [IsAuthenticated, ProjectRole]
    action_activities = {"stop": Activity.RUN_JOBS, "retry": Activity.RUN_JOBS}
    queryset = Job.objects.none()  # for the schema generator; get_queryset scopes to the user

    def get_queryset(self):
        return job_list(user=self.request.user)

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        filters = JobFilterForm(self.request.query_params, user=self.request.user)
        if not filters.is_valid():
            raise ValidationError({field: list(errors) for field, errors in filters.errors.items()})
        return filters.filter(queryset)

    @extend_schema(parameters=FILTER_PARAMETERS)
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        responses=JobLogPageSerializer,
        parameters=[OpenApiParameter("after", int, description="Only lines with an id above this one, oldest first "
                                     f"(up to {LOG_PAGE}); without it, the last {LOG_TAIL} lines.")],
    )
    @action(detail=True, methods=["get"])
    def logs(self, request: Request, pk: str | None = None) -> Response:
        job = self.get_object()
        after = request.query_params.get("after")
        if after is None:
            lines, more = job_logs(job=job, limit=LOG_TAIL), False
        else:
            if not after.isdigit():
                raise ValidationError({"after": ["Give the id of the last log line you have (a whole number)."]})
            lines = job_logs_after(job=job, after_id=int(after), limit=LOG_PAGE + 1)
            more, lines = len(lines) > LOG_PAGE, lines[:LOG_PAGE]
        last_id = lines[-1].id if lines else int(after or 0)
        return Response(JobLogPageSerializer({"lines": lines, "last_id": last_id, "more": more}).data)

    @extend_schema(responses=JobMetricsSerializer)
    @action(detail=True, methods=["get"])
    def metrics(self, request: Request, pk: str | None = None) -> Response:
        job = self.get_object()
        series: dict[str, list] = {}
        for point in job_metric_points(job=job):
            series.setdefault(point.name, []).append(point)
        data = {"latest": job.metrics or {}, "series": [{"name": n, "points": p} for n, p in series.items()]}
        return Response(JobMetricsSerializer(data).data)

    @extend_schema(request=None, responses=JobSerializer)
    @action(detail=True, methods=["post"])
    def stop(self, request: Request, pk: str | None = None) -> Response:
        job = job_stop(job=self.get_object(), user=request.user)
        return Response(self.get_serializer(job).data)

    @extend_schema(request=None, responses=JobSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str | None = None) -> Response:
        job = job_retry(job=self.get_object(), user=request.user)
        return Response(self.get_serializer(job).data)
