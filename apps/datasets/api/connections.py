"""/api/v1/connections/: saved SQL connections of your projects. The password is write-only."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.permissions import ProjectRole
from apps.core.errors import UserError
from apps.core.roles import Activity
from apps.core.selectors import project_get, projects_with_activity

from ..models import Connection
from ..sources import (
    connection_create,
    connection_delete,
    connection_list,
    connection_test,
    connection_update,
)
from .serializers import ConnectionSerializer, ConnectionTestSerializer

MANAGE = Activity.MANAGE_DATA


@extend_schema(tags=["datasets"])
class ConnectionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                        mixins.UpdateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """SQL connections of the projects where your role may manage data. Every action needs that role."""

    serializer_class = ConnectionSerializer
    permission_classes = [IsAuthenticated, ProjectRole]
    action_activities = {name: MANAGE for name in ("list", "retrieve", "create", "update", "partial_update",
                                                   "destroy", "test")}
    queryset = Connection.objects.none()  # for the schema generator; get_queryset scopes to the user

    def get_queryset(self):
        connections = connection_list(user=self.request.user)
        if self.action == "list":  # a list shows only projects where the role may manage data
            connections = connections.filter(project__in=projects_with_activity(user=self.request.user,
                                                                                activity=MANAGE))
            if self.request.query_params.get("project"):
                connections = connections.filter(project__slug=self.request.query_params["project"])
        return connections

    def perform_create(self, serializer: ConnectionSerializer) -> None:
        data = serializer.validated_data
        project = project_get(user=self.request.user, slug=data["project"]["slug"], activity=MANAGE)
        serializer.instance = connection_create(project=project, user=self.request.user, name=data["name"],
                                                url=data["url"], password=data.get("password", ""))

    def perform_update(self, serializer: ConnectionSerializer) -> None:
        data, connection = serializer.validated_data, serializer.instance
        if "project" in data and data["project"]["slug"] != connection.project.slug:
            raise ValidationError({"project": ["A connection cannot move to another project."]})
        serializer.instance = connection_update(
            connection=connection, user=self.request.user, name=data.get("name", connection.name),
            url=data.get("url", connection.url), password=data.get("password") or None)

    def perform_destroy(self, instance: Connection) -> None:
        connection_delete(connection=instance, user=self.request.user)

    @extend_schema(request=None, responses={200: ConnectionTestSerializer, 400: ConnectionTestSerializer})
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str | None = None) -> Response:
        """Connect and run SELECT 1: `ok` and a message saying what was reached, or why it failed."""
        try:
            message = connection_test(connection=self.get_object())
        except UserError as error:
            return Response({"ok": False, "message": error.message}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"ok": True, "message": message})

    def get_serializer(self, *args: Any, **kwargs: Any):
        if self.action in ("update", "partial_update") and "data" in kwargs:
            kwargs["partial"] = True  # PUT without the password keeps it; project may be left out
        return super().get_serializer(*args, **kwargs)
