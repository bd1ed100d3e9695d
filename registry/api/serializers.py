from django.contrib.auth import get_user_model
from rest_framework import serializers

from registry.choices import Use
from registry.models import Dataset, DatasetVersion, Generator, Manifest, PromptTemplate, Tenant

from .fields import FiniteFloatField, ScopedSlugRelatedField


class TenantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tenant
        fields = ["slug", "name", "created_at"]


class ManifestSerializer(serializers.ModelSerializer):
    intended_uses = serializers.ListField(child=serializers.ChoiceField(Use.choices), required=False)
    prohibited_uses = serializers.ListField(child=serializers.ChoiceField(Use.choices), required=False)
    max_synthetic_ratio = FiniteFloatField(min_value=0, max_value=1, allow_null=True, required=False)
    tenant_scope = serializers.SlugRelatedField(
        slug_field="slug", many=True, queryset=Tenant.objects.all(), required=False
    )
    real_anchor = ScopedSlugRelatedField(
        slug_field="slug", queryset=Dataset.objects.all(), scope=Dataset.objects.visible_to,
        allow_null=True, required=False,
    )
    owner = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.all(), required=False
    )
    purpose_complete = serializers.BooleanField(read_only=True)

    class Meta:
        model = Manifest
        fields = [
            "purpose_gap", "purpose_why_not_real", "purpose_success_criterion", "purpose_complete",
            "use_cell", "intended_uses", "prohibited_uses", "max_synthetic_ratio", "expires_at",
            "tenant_scope", "real_anchor", "eval_exclusion", "never_train_on", "allow_duplicates",
            "owner", "harm_if_wrong", "cheap_verifier", "content_hash", "updated_at",
        ]
        read_only_fields = ["content_hash", "updated_at"]


class VersionSerializer(serializers.ModelSerializer):
    dataset = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    manifest = ManifestSerializer(read_only=True)

    class Meta:
        model = DatasetVersion
        fields = [
            "id", "dataset", "number", "state", "notes", "created_by", "created_at",
            "state_changed_at", "retired_reason", "needs_review", "manifest",
        ]
        read_only_fields = fields


class VersionCreateSerializer(serializers.Serializer):
    dataset = ScopedSlugRelatedField(
        slug_field="slug", queryset=Dataset.objects.all(), scope=Dataset.objects.visible_to
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    manifest = ManifestSerializer(required=False)


class DatasetSerializer(serializers.ModelSerializer):
    tenant = ScopedSlugRelatedField(slug_field="slug", queryset=Tenant.objects.all(), scope=Tenant.objects.visible_to)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    latest_version = serializers.IntegerField(read_only=True, allow_null=True)
    latest_state = serializers.CharField(read_only=True, allow_null=True)
    latest_expires_at = serializers.DateField(read_only=True, allow_null=True)
    version_count = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Dataset
        fields = [
            "slug", "name", "description", "tenant", "owner", "kind", "modality", "created_at", "updated_at",
            "latest_version", "latest_state", "latest_expires_at", "version_count",
        ]
        read_only_fields = ["owner", "created_at", "updated_at"]
        # Uniqueness is checked by the service (one message, one place).
        extra_kwargs = {"slug": {"validators": []}}


class DatasetDetailSerializer(DatasetSerializer):
    versions = VersionSerializer(many=True, read_only=True)

    class Meta(DatasetSerializer.Meta):
        fields = DatasetSerializer.Meta.fields + ["versions"]


class DatasetUpdateSerializer(serializers.ModelSerializer):
    tenant = ScopedSlugRelatedField(slug_field="slug", queryset=Tenant.objects.all(), scope=Tenant.objects.visible_to)

    class Meta:
        model = Dataset
        fields = ["name", "description", "tenant", "kind", "modality"]


class ShareSerializer(serializers.Serializer):
    username = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.filter(is_active=True), source="user"
    )
    revoke = serializers.BooleanField(default=False)


class GeneratorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Generator
        fields = ["id", "name", "version", "provider", "created_at"]
        read_only_fields = ["id", "created_at"]
        validators = []


class PromptTemplateSerializer(serializers.ModelSerializer):
    tenant = ScopedSlugRelatedField(slug_field="slug", queryset=Tenant.objects.all(), scope=Tenant.objects.visible_to)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = PromptTemplate
        fields = ["id", "tenant", "name", "version", "body", "body_sha256", "created_by", "created_at"]
        read_only_fields = ["id", "version", "body_sha256", "created_by", "created_at"]


