"""API for a person's own account (/me/, tokens) and, for site admins, users."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import selectors, services
from apps.accounts.models import ApiToken
from apps.core.api.permissions import IsSiteAdmin

from .serializers import (
    MeSerializer,
    TokenCreatedSerializer,
    TokenSerializer,
    UserCreatedSerializer,
    UserCreateSerializer,
    UserSerializer,
)

User = get_user_model()


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer, summary="The signed-in user, with their projects and roles")
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)


class TokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your personal API tokens. The key is returned once, by create; revoked tokens stay listed."""

    permission_classes = [IsAuthenticated]
    serializer_class = TokenSerializer
    queryset = ApiToken.objects.none()  # the real one, scoped to the user, comes from get_queryset()

    def get_queryset(self):
        return selectors.token_list(user=self.request.user)

    @extend_schema(request=TokenSerializer, responses={201: TokenCreatedSerializer})
    def create(self, request: Request) -> Response:
        serializer = TokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, key = services.token_create(user=request.user, name=serializer.validated_data["name"])
        token.key = key
        return Response(TokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: str) -> Response:
        services.token_revoke(user=request.user, token_id=int(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=TokenSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str) -> Response:
        return Response(TokenSerializer(services.token_revoke(user=request.user, token_id=int(pk))).data)


class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Users, for studio administrators: there is no self sign-up."""

    permission_classes = [IsSiteAdmin]
    serializer_class = UserSerializer
    queryset = User.objects.none()

    def get_queryset(self):
        return selectors.user_list(actor=self.request.user)

    @extend_schema(request=UserCreateSerializer, responses={201: UserCreatedSerializer})
    def create(self, request: Request) -> Response:
        serializer = UserCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user, generated = services.user_create(actor=request.user, **serializer.validated_data)
        user.generated_password = generated
        return Response(UserCreatedSerializer(user).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=UserSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, pk: str) -> Response:
        user = services.user_set_active(actor=request.user, user=self.get_object(), active=False)
        return Response(UserSerializer(user).data)

    @extend_schema(request=None, responses=UserSerializer)
    @action(detail=True, methods=["post"])
    def reactivate(self, request: Request, pk: str) -> Response:
        user = services.user_set_active(actor=request.user, user=self.get_object(), active=True)
        return Response(UserSerializer(user).data)
