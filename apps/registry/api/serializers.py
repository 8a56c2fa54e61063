"""Serializers of /api/v1/model-groups/, /api/v1/model-versions/ and /api/v1/model-cards/."""

from __future__ import annotations

from rest_framework import serializers

from engine.registry.formats import accepted_formats_text

from ..models import (
    CARD_TEXT_FIELDS,
    ApprovalEvent,
    ApprovalStatus,
    CardRevision,
    CardStatus,
    ModelAlias,
    ModelCard,
    ModelGroup,
    ModelVersion,
    RiskRating,
)


class AliasSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="version.number", read_only=True, help_text="The version's number.")
    version_id = serializers.IntegerField(read_only=True)
    set_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = ModelAlias
        fields = ["name", "version", "version_id", "set_by", "set_at"]
        read_only_fields = fields


class ModelGroupSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    aliases = AliasSerializer(many=True, read_only=True)
    latest_version = serializers.SerializerMethodField()
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = ModelGroup
        fields = ["id", "project", "name", "description", "aliases", "latest_version", "created_by", "created_at"]
        read_only_fields = fields

    def get_latest_version(self, group: ModelGroup) -> int | None:
        numbers = [version.number for version in group.versions.all()]
        return max(numbers) if numbers else None


class ModelGroupCreateSerializer(serializers.Serializer):
    project = serializers.SlugField(help_text="The project's slug.")
    name = serializers.CharField(max_length=63, help_text="Unique in the project: letters, digits, - and _.")
    description = serializers.CharField(required=False, allow_blank=True, default="")


class AliasSetSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50, help_text="A slug such as champion; moved if it exists.")
    version = serializers.IntegerField(help_text="The id of a version of this group.")


class ApprovalEventSerializer(serializers.ModelSerializer):
    by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = ApprovalEvent
        fields = ["previous", "status", "comment", "by", "at"]
        read_only_fields = fields


class ModelVersionSerializer(serializers.ModelSerializer):
    group_name = serializers.CharField(source="group.name", read_only=True)
    project = serializers.CharField(source="group.project.slug", read_only=True)
    artifact = serializers.UUIDField(source="artifact.uuid", read_only=True)
    sha256 = serializers.CharField(source="artifact.sha256", read_only=True)
    size = serializers.IntegerField(source="artifact.size", read_only=True)
    approvals = ApprovalEventSerializer(many=True, read_only=True, help_text="Newest first.")
    aliases = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    card = serializers.PrimaryKeyRelatedField(read_only=True, help_text="The model card's id.")
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = ModelVersion
        fields = ["id", "group", "group_name", "project", "number", "source", "training_job", "automl_job", "run",
                  "dataset_version", "flow_run", "format", "artifact", "sha256", "size", "algorithm", "problem_type",
                  "target", "signature", "metrics", "description", "approval_status", "approvals", "aliases", "card",
                  "created_by", "created_at"]
        read_only_fields = fields


class ModelVersionCreateSerializer(serializers.Serializer):
    group = serializers.IntegerField(help_text="The model group's id.")
    training_job = serializers.IntegerField(required=False, allow_null=True,
                                            help_text="A completed training job's id (give this or automl_job).")
    automl_job = serializers.IntegerField(required=False, allow_null=True,
                                          help_text="A completed AutoML job's id: its best model is registered.")
    description = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, attrs: dict) -> dict:
        if bool(attrs.get("training_job")) == bool(attrs.get("automl_job")):
            raise serializers.ValidationError("Give either training_job or automl_job (to upload a file, use "
                                              "/api/v1/model-versions/upload/).")
        return attrs


class ModelVersionUploadSerializer(serializers.Serializer):
    group = serializers.IntegerField(help_text="The model group's id.")
    file = serializers.FileField(help_text=f"Accepted: {accepted_formats_text()}. Pickle files are refused.")
    description = serializers.CharField(required=False, allow_blank=True, default="")


class ApprovalSetSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ApprovalStatus.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class VerifySerializer(serializers.Serializer):
    verified = serializers.BooleanField(help_text="The file matches its sha256 and loads in its format.")
    sha256 = serializers.CharField()
    format = serializers.CharField()


class CustomFieldSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=200)
    value = serializers.CharField(allow_blank=True, max_length=5000)


class ModelCardSerializer(serializers.ModelSerializer):
    model_group = serializers.CharField(source="version.group.name", read_only=True)
    version_number = serializers.IntegerField(source="version.number", read_only=True)
    custom_fields = CustomFieldSerializer(many=True, read_only=True)
    revision = serializers.SerializerMethodField(help_text="The number of the latest revision.")
    updated_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = ModelCard
        fields = ["id", "version", "model_group", "version_number", "status", "risk_rating",
                  *[name for name, _ in CARD_TEXT_FIELDS], "custom_fields", "revision", "updated_by", "updated_at"]
        read_only_fields = fields

    def get_revision(self, card: ModelCard) -> int:
        latest = card.revisions.order_by("-number").first()
        return latest.number if latest else 0


class ModelCardUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CardStatus.choices, required=False,
                                     help_text="Approved needs a role that may approve models.")
    risk_rating = serializers.ChoiceField(choices=RiskRating.choices, required=False)
    custom_fields = CustomFieldSerializer(many=True, required=False)

    overview = serializers.CharField(required=False, allow_blank=True)
    intended_uses = serializers.CharField(required=False, allow_blank=True)
    risk_explanation = serializers.CharField(required=False, allow_blank=True, help_text="Why this risk rating.")
    training_details = serializers.CharField(required=False, allow_blank=True)
    evaluation_details = serializers.CharField(required=False, allow_blank=True)
    ethical_considerations = serializers.CharField(required=False, allow_blank=True)
    caveats = serializers.CharField(required=False, allow_blank=True, help_text="Caveats and recommendations.")


class CardRevisionSerializer(serializers.ModelSerializer):
    by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = CardRevision
        fields = ["number", "content", "by", "at"]
        read_only_fields = fields
