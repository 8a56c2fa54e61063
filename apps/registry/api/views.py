"""/api/v1/model-groups/, /api/v1/model-versions/ and /api/v1/model-cards/: the same selectors and services
as the pages. Reading needs a role that may view experiments; registering, aliases and cards "manage models";
approval "approve models". Objects of projects you are not a member of answer 404."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.automl.selectors import automl_job_get
from apps.core.api.permissions import ProjectRole
from apps.core.errors import UserError
from apps.core.roles import Activity
from apps.core.selectors import project_get, projects_with_activity
from apps.training.selectors import training_job_get

from ..cards import card_document, card_html, card_pdf
from ..models import ModelCard, ModelGroup, ModelVersion
from ..selectors import (
    model_card_list,
    model_group_get,
    model_group_list,
    model_version_evaluation,
    model_version_list,
)
from ..services import (
    model_alias_remove,
    model_alias_set,
    model_card_update,
    model_group_create,
    model_version_approval_set,
    model_version_file,
    model_version_load,
    model_version_register_automl,
    model_version_register_training,
    model_version_register_upload,
)
from .serializers import (
    AliasSerializer,
    AliasSetSerializer,
    ApprovalSetSerializer,
    CardRevisionSerializer,
    ModelCardSerializer,
    ModelCardUpdateSerializer,
    ModelGroupCreateSerializer,
    ModelGroupSerializer,
    ModelVersionCreateSerializer,
    ModelVersionSerializer,
    ModelVersionUploadSerializer,
    VerifySerializer,
)

READ = Activity.VIEW_EXPERIMENTS
PROJECT_PARAMETER = OpenApiParameter("project", str, description="Only this project's (its slug).")


def _readable(user: Any):  # noqa: ANN202 - a queryset of projects
    return projects_with_activity(user=user, activity=READ)


@extend_schema(tags=["models"])
class ModelGroupViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Model groups: a project's named families of model versions, with their aliases."""

    serializer_class = ModelGroupSerializer
    permission_classes = [IsAuthenticated, ProjectRole]
    action_activities = {"retrieve": READ, "create": Activity.MANAGE_MODELS, "aliases": Activity.MANAGE_MODELS,
                         "alias_remove": Activity.MANAGE_MODELS}
    queryset = ModelGroup.objects.none()

    def get_queryset(self):
        groups = model_group_list(user=self.request.user)
        if self.action == "list":  # objects answer 403 to members whose role may not read them (ProjectRole)
            groups = groups.filter(project__in=_readable(self.request.user))
        if self.action == "list" and self.request.query_params.get("project"):
            groups = groups.filter(project__slug=self.request.query_params["project"])
        return groups.prefetch_related("versions", "aliases__version", "aliases__set_by")

    @extend_schema(parameters=[PROJECT_PARAMETER])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=ModelGroupCreateSerializer, responses={201: ModelGroupSerializer})
    def create(self, request: Request) -> Response:
        asked = ModelGroupCreateSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        data = asked.validated_data
        project = project_get(user=request.user, slug=data["project"], activity=Activity.MANAGE_MODELS)
        group = model_group_create(project=project, user=request.user, name=data["name"],
                                   description=data["description"])
        return Response(ModelGroupSerializer(group).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AliasSetSerializer, responses={200: AliasSerializer})
    @action(detail=True, methods=["post"])
    def aliases(self, request: Request, pk: str | None = None) -> Response:
        """Point an alias (champion, challenger...) at a version of this group: made if new, moved if not."""
        group = self.get_object()
        asked = AliasSetSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        version = group.versions.filter(id=asked.validated_data["version"]).first()
        if version is None:
            raise UserError(f"{group.name} has no version with that id.", field="version", code="not_found")
        alias = model_alias_set(group=group, user=request.user, name=asked.validated_data["name"], version=version)
        return Response(AliasSerializer(alias).data)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"aliases/(?P<alias>[-a-zA-Z0-9_]+)", url_name="alias-remove")
    def alias_remove(self, request: Request, pk: str | None = None, alias: str = "") -> Response:
        group = self.get_object()
        model_alias_remove(group=group, user=request.user, name=alias)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["models"])
class ModelVersionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Model versions with their source, signature, metrics, approval history and aliases. Create one from a
    completed training or AutoML job (JSON) or from an uploaded file (upload/)."""

    serializer_class = ModelVersionSerializer
    permission_classes = [IsAuthenticated, ProjectRole]
    action_activities = {"retrieve": READ, "verify": READ, "download": READ, "create": Activity.MANAGE_MODELS,
                         "upload": Activity.MANAGE_MODELS, "approval": Activity.APPROVE_MODELS}
    queryset = ModelVersion.objects.none()

    def project_of(self, version: ModelVersion):  # noqa: ANN201 - a Project
        return version.group.project

    def get_queryset(self):
        versions = model_version_list(user=self.request.user)
        if self.action == "list":
            versions = versions.filter(group__project__in=_readable(self.request.user))
        params = self.request.query_params
        if self.action == "list" and params.get("project"):
            versions = versions.filter(group__project__slug=params["project"])
        if self.action == "list" and (params.get("group") or "").isdigit():
            versions = versions.filter(group_id=int(params["group"]))
        return versions.prefetch_related("approvals__by", "aliases")

    @extend_schema(parameters=[PROJECT_PARAMETER, OpenApiParameter("group", int, description="Only this group's.")])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=ModelVersionCreateSerializer, responses={201: ModelVersionSerializer})
    def create(self, request: Request) -> Response:
        asked = ModelVersionCreateSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        data = asked.validated_data
        group = model_group_get(user=request.user, group_id=data["group"])
        if data.get("training_job"):
            training = training_job_get(user=request.user, project=group.project, training_job_id=data["training_job"])
            version = model_version_register_training(group=group, training=training, user=request.user,
                                                      description=data["description"])
        else:
            automl = automl_job_get(user=request.user, project=group.project, automl_job_id=data["automl_job"])
            version = model_version_register_automl(group=group, automl=automl, user=request.user,
                                                    description=data["description"])
        return Response(ModelVersionSerializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(request={"multipart/form-data": ModelVersionUploadSerializer},
                   responses={201: ModelVersionSerializer})
    @action(detail=False, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def upload(self, request: Request) -> Response:
        """Register an uploaded model file. It is recognised by its content and loaded safely before it is
        stored; pickle, joblib and unknown formats are refused with the reason."""
        asked = ModelVersionUploadSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        data = asked.validated_data
        group = model_group_get(user=request.user, group_id=data["group"])
        upload = data["file"]
        version = model_version_register_upload(group=group, user=request.user, filename=upload.name,
                                                data=upload.read(), description=data["description"])
        return Response(ModelVersionSerializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ApprovalSetSerializer, responses={200: ModelVersionSerializer})
    @action(detail=True, methods=["post"])
    def approval(self, request: Request, pk: str | None = None) -> Response:
        """Set the approval status (PendingManualApproval, Approved, Rejected) with a comment; recorded with
        who and when. Needs a role that may approve models."""
        version = self.get_object()
        asked = ApprovalSetSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        model_version_approval_set(version=version, user=request.user, status=asked.validated_data["status"],
                                   comment=asked.validated_data["comment"])
        return Response(ModelVersionSerializer(self.get_queryset().get(id=version.id)).data)

    @extend_schema(request=None, responses={200: VerifySerializer,
                                            409: OpenApiResponse(description="The file was changed or cannot load.")})
    @action(detail=True, methods=["post"])
    def verify(self, request: Request, pk: str | None = None) -> Response:
        """Load the model as a check: its sha256, then its format's own checks. 409 with the reason otherwise."""
        version = self.get_object()
        model_version_load(version=version)
        return Response({"verified": True, "sha256": version.artifact.sha256, "format": version.format})

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY),
                              409: OpenApiResponse(description="The stored file no longer matches its sha256.")})
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str | None = None) -> HttpResponse:
        version = self.get_object()
        response = HttpResponse(model_version_file(version=version), content_type="application/octet-stream")
        response["Content-Disposition"] = f'attachment; filename="{version.group.name}-v{version.number}.model"'
        return response


EXPORTS = {"json": "application/json", "html": "text/html; charset=utf-8", "pdf": "application/pdf"}


@extend_schema(tags=["models"])
class ModelCardViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Model cards (one per version). Every update saves a new revision."""

    serializer_class = ModelCardSerializer
    permission_classes = [IsAuthenticated, ProjectRole]
    action_activities = {"retrieve": READ, "revisions": READ, "export": READ,
                         "partial_update": Activity.MANAGE_MODELS}
    queryset = ModelCard.objects.none()

    def get_queryset(self):
        cards = model_card_list(user=self.request.user)
        if self.action == "list":
            cards = cards.filter(version__group__project__in=_readable(self.request.user))
        if self.action == "list" and self.request.query_params.get("project"):
            cards = cards.filter(version__group__project__slug=self.request.query_params["project"])
        return cards

    @extend_schema(parameters=[PROJECT_PARAMETER])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=ModelCardUpdateSerializer, responses={200: ModelCardSerializer})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        card = self.get_object()
        asked = ModelCardUpdateSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        model_card_update(card=card, user=request.user, changes=dict(asked.validated_data))
        return Response(ModelCardSerializer(card).data)

    @extend_schema(responses={200: CardRevisionSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def revisions(self, request: Request, pk: str | None = None) -> Response:
        """Every saved revision of the card, newest first, each with all of its fields."""
        card = self.get_object()
        return Response(CardRevisionSerializer(card.revisions.select_related("by"), many=True).data)

    @extend_schema(parameters=[OpenApiParameter("as", str, enum=[*EXPORTS], required=True,
                                                description="json, html or pdf.")],
                   responses={(200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT),
                              (200, "text/html"): OpenApiResponse(OpenApiTypes.STR),
                              (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY)})
    @action(detail=True, methods=["get"])
    def export(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The card as a file: JSON (the card and the version it describes), a standalone HTML page, or PDF."""
        card = self.get_object()
        kind = request.query_params.get("as", "")
        if kind not in EXPORTS:
            raise UserError("Ask for the export ?as=json, ?as=html or ?as=pdf.", field="as")
        body: bytes | str = (json.dumps(card_document(card), indent=2) if kind == "json"
                             else card_html(card) if kind == "html"
                             else card_pdf(card, evaluation=model_version_evaluation(version=card.version)))
        response = HttpResponse(body, content_type=EXPORTS[kind])
        version = card.version
        response["Content-Disposition"] = (f'attachment; filename="model-card-{version.group.name}-'
                                           f'v{version.number}.{kind}"')
        response["X-Content-Type-Options"] = "nosniff"
        return response
