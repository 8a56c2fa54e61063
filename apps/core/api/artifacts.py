"""/api/v1/artifacts/<uuid>/: an artifact's metadata and its download, behind the project check."""

from __future__ import annotations

import re

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request

from apps.core.artifacts import ArtifactCorrupted, artifact_path
from apps.core.errors import Conflict
from apps.core.models import Artifact
from apps.core.selectors import artifact_list

from .permissions import ProjectRole

SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


class ArtifactSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Artifact
        fields = ["uuid", "project", "name", "kind", "media_type", "size", "sha256", "created_by", "created_at"]
        read_only_fields = fields


def download_name(artifact: Artifact) -> str:
    """The display name made safe for a Content-Disposition header (it is never used as a path)."""
    name = SAFE_NAME.sub("_", artifact.name).strip(" .") or "download"
    return name[:150]


@extend_schema(tags=["artifacts"])
class ArtifactViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Files in the content-addressed store of the projects you are a member of."""

    serializer_class = ArtifactSerializer
    permission_classes = [IsAuthenticated, ProjectRole]
    lookup_field = "uuid"
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    queryset = Artifact.objects.none()  # for the schema generator; get_queryset scopes to the user

    def get_queryset(self):
        return artifact_list(user=self.request.user)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY)})
    @action(detail=True, methods=["get"])
    def download(self, request: Request, uuid: str | None = None) -> FileResponse:
        artifact = self.get_object()
        try:
            path = artifact_path(artifact, verify=True)
        except ArtifactCorrupted:
            raise Conflict(
                "This file no longer matches its checksum, so it is not served. An admin should restore it.",
                code="artifact_corrupted",
            ) from None
        response = FileResponse(open(path, "rb"), as_attachment=True, filename=download_name(artifact),  # noqa: SIM115
                                content_type="application/octet-stream")
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response
