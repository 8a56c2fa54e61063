from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from apps.accounts.models import ApiToken
from apps.core.models import Membership

User = get_user_model()


class TokenSerializer(serializers.ModelSerializer):
    prefix = serializers.CharField(source="display_prefix", read_only=True)
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at", "is_active"]
        read_only_fields = ["id", "prefix", "created_at", "last_used_at", "revoked_at", "is_active"]


class TokenCreatedSerializer(TokenSerializer):
    key = serializers.CharField(read_only=True, help_text="The token itself. Shown in this response only.")

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "key"]


class UserSerializer(serializers.ModelSerializer):
    site_admin = serializers.BooleanField(source="is_superuser", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "email", "site_admin", "is_active", "last_login", "date_joined"]
        read_only_fields = fields


class UserCreateSerializer(serializers.Serializer):
    username = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=150)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    password = serializers.CharField(
        required=False, allow_blank=True, default="", write_only=True, style={"input_type": "password"},
        help_text="Leave out to have one generated; it is returned once, in the response.",
    )
    site_admin = serializers.BooleanField(required=False, default=False)


class UserCreatedSerializer(UserSerializer):
    generated_password = serializers.CharField(read_only=True, help_text="Only when none was given; shown once.")

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "generated_password"]
        read_only_fields = fields


class MembershipBriefSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    project_name = serializers.CharField(source="project.name", read_only=True)
    role_label = serializers.CharField(source="get_role_display", read_only=True)

    class Meta:
        model = Membership
        fields = ["project", "project_name", "role", "role_label"]
        read_only_fields = fields


class MeSerializer(UserSerializer):
    memberships = MembershipBriefSerializer(many=True, read_only=True)

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "memberships"]
        read_only_fields = fields
