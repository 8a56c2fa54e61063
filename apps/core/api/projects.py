"""API for projects, their members, the role matrix and the audit log. The same services and selectors
as the Role Manager pages, so both enforce the same rules."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts import selectors as account_selectors
from apps.core import services
from apps.core.models import AuditEvent, Membership, Project
from apps.core.roles import Activity, Role, matrix
from apps.core.selectors import project_get, project_list, role_in

from .permissions import IsSiteAdmin, ProjectRole


# --- serializers -------------------------------------------------------------------------------
class ProjectSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField(help_text="Your role in the project (null for a site admin who is not a member).")
    slug = serializers.SlugField(max_length=60, required=False, allow_blank=True,
                                 help_text="The project's address; made from the name when left out.")

    class Meta:
        model = Project
        fields = ["slug", "name", "description", "created_at", "role"]
        read_only_fields = ["created_at", "role"]

    def get_role(self, project: Project) -> str | None:
        return role_in(user=self.context["request"].user, project=project)


class MemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    role_label = serializers.CharField(source="get_role_display", read_only=True)

    class Meta:
        model = Membership
        fields = ["user_id", "username", "role", "role_label", "created_at"]
        read_only_fields = fields


class MemberAddSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices)


class MemberRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class RoleMatrixRowSerializer(serializers.Serializer):
    activity = serializers.ChoiceField(choices=Activity.choices)
    label = serializers.CharField()
    roles = serializers.DictField(child=serializers.BooleanField(), help_text="Role value → allowed.")


class AuditEventSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = AuditEvent
        fields = ["id", "at", "actor_name", "action", "summary", "project", "method", "path", "status_code", "ip"]
        read_only_fields = fields


# --- views -------------------------------------------------------------------------------------
class ProjectViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your projects. Studio administrators create projects (and become their first Admin)."""

    serializer_class = ProjectSerializer
    queryset = Project.objects.none()
    lookup_field = "slug"
    lookup_url_kwarg = "project"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"

    def get_permissions(self):
        return [IsSiteAdmin()] if self.action == "create" else [IsAuthenticated()]

    def get_queryset(self):
        return project_list(user=self.request.user)

    @extend_schema(responses={201: ProjectSerializer})
    def create(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = services.project_create(user=request.user, **serializer.validated_data)
        return Response(self.get_serializer(project).data, status=status.HTTP_201_CREATED)


class ProjectMembersAccess(ProjectRole):
    """Resolves the project in the URL before anything else: 404 for strangers, 403 when the role lacks
    the action's activity. Studio administrators may manage any project's members."""

    def has_permission(self, request: Request, view: Any) -> bool:
        activity = view.action_activities.get(view.action, Activity.VIEW)
        slug = view.kwargs["project"]
        if request.user.is_superuser:
            view.project = account_selectors.managed_project_get(user=request.user, slug=slug)
        else:
            view.project = project_get(user=request.user, slug=slug, activity=activity)
        return True

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        return True  # checked for the whole project in has_permission


@extend_schema(parameters=[OpenApiParameter("project", OpenApiTypes.STR, OpenApiParameter.PATH)])
class MemberViewSet(viewsets.GenericViewSet):
    """A project's members and their roles. Members may list; changing them needs the Manage users activity."""

    permission_classes = [IsAuthenticated, ProjectMembersAccess]
    studio_site_admins = True  # studio administrators manage any project's members (the permission test reads this)
    action_activities = {
        "create": Activity.MANAGE_USERS, "update": Activity.MANAGE_USERS,
        "partial_update": Activity.MANAGE_USERS, "destroy": Activity.MANAGE_USERS,
    }
    serializer_class = MemberSerializer
    queryset = Membership.objects.none()
    lookup_field = "user_id"
    lookup_value_regex = r"\d+"
    pagination_class = None

    def get_queryset(self):
        return account_selectors.member_list(project=self.project)

    def list(self, request: Request, project: str) -> Response:
        return Response(MemberSerializer(self.get_queryset(), many=True).data)

    def retrieve(self, request: Request, project: str, user_id: str) -> Response:
        return Response(MemberSerializer(self.get_object()).data)

    @extend_schema(request=MemberAddSerializer, responses={201: MemberSerializer})
    def create(self, request: Request, project: str) -> Response:
        data = MemberAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = account_selectors.user_by_username(username=data.validated_data["username"])
        membership = services.membership_set(project=self.project, user=user, role=data.validated_data["role"],
                                             actor=request.user)
        return Response(MemberSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MemberRoleSerializer, responses=MemberSerializer)
    def update(self, request: Request, project: str, user_id: str, partial: bool = False) -> Response:
        data = MemberRoleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.membership_set(project=self.project, user=self.get_object().user,
                                             role=data.validated_data["role"], actor=request.user)
        return Response(MemberSerializer(membership).data)

    @extend_schema(request=MemberRoleSerializer, responses=MemberSerializer)
    def partial_update(self, request: Request, project: str, user_id: str) -> Response:
        return self.update(request, project, user_id, partial=True)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, project: str, user_id: str) -> Response:
        services.membership_remove(project=self.project, user=self.get_object().user, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoleMatrixViewSet(viewsets.ViewSet):
    """The role × activity matrix every permission check reads."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=RoleMatrixRowSerializer(many=True))
    def list(self, request: Request) -> Response:
        return Response(RoleMatrixRowSerializer(matrix(), many=True).data)


@extend_schema(parameters=[
    OpenApiParameter("user", OpenApiTypes.STR, description="Exact username of the actor"),
    OpenApiParameter("action", OpenApiTypes.STR, description="Part of the action name"),
    OpenApiParameter("project", OpenApiTypes.STR, description="Project slug"),
])
class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """Every write: who, what, when. Studio administrators only."""

    permission_classes = [IsSiteAdmin]
    serializer_class = AuditEventSerializer
    queryset = AuditEvent.objects.none()

    def get_queryset(self):
        params = self.request.query_params
        return account_selectors.audit_filtered(
            user=self.request.user, username=params.get("user", ""), action=params.get("action", ""),
            project_slug=params.get("project", ""),
        )
