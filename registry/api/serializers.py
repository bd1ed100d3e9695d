from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from registry.choices import Use
from registry.models import (
    Dataset, DatasetVersion, Example, Generator, IngestionFormat, IngestionJob, Manifest, PromptTemplate, Tenant,
)

from .fields import FiniteFloatField, MaskedDataField, MaskedTextField, ScopedSlugRelatedField


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




class ExampleSerializer(serializers.ModelSerializer):
    version = serializers.PrimaryKeyRelatedField(read_only=True)
    text = MaskedTextField(tenant="version.dataset.tenant_id")
    data = MaskedDataField(tenant="version.dataset.tenant_id", allow_null=True)
    generator = serializers.StringRelatedField(allow_null=True)
    prompt_template = serializers.StringRelatedField(allow_null=True)

    class Meta:
        model = Example
        fields = [
            "id", "version", "ordinal", "text", "data", "content_hash", "dup_rank", "label", "origin", "generator",
            "prompt_template", "prompt_hash", "seed_example", "seed_external_id", "sampling_params", "intended_use",
            "eval_exclusion", "never_train_on",
        ]
        read_only_fields = fields


class SeedExampleSerializer(serializers.ModelSerializer):
    version = serializers.StringRelatedField()
    text = MaskedTextField(tenant="version.dataset.tenant_id")
    data = MaskedDataField(tenant="version.dataset.tenant_id", allow_null=True)

    class Meta:
        model = Example
        fields = ["id", "version", "ordinal", "text", "data", "label", "origin", "content_hash"]
        read_only_fields = fields


class ExampleLineageSerializer(ExampleSerializer):
    """One example with its full lineage: generator, template body, seed example."""

    generator = GeneratorSerializer(read_only=True, allow_null=True)
    prompt_template = PromptTemplateSerializer(read_only=True, allow_null=True)
    seed_example = SeedExampleSerializer(read_only=True, allow_null=True)


class IngestionJobSerializer(serializers.ModelSerializer):
    version = serializers.PrimaryKeyRelatedField(read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = IngestionJob
        fields = [
            "id", "version", "created_by", "created_at", "source", "file_name", "file_sha256", "file_size", "format",
            "status", "rows_total", "rows_processed", "rows_written", "error_count", "errors", "counts",
            "started_at", "finished_at", "duration_seconds",
        ]
        read_only_fields = fields


@extend_schema_field(OpenApiTypes.INT)
class VersionIdField(ScopedSlugRelatedField):
    """A version id, resolved only inside the caller's scope."""


class IngestionUploadSerializer(serializers.Serializer):
    version = VersionIdField(
        slug_field="pk", queryset=DatasetVersion.objects.all(), scope=DatasetVersion.objects.visible_to,
        help_text="Id of the draft version receiving the examples.",
    )
    file = serializers.FileField(help_text="JSON Lines, CSV or Parquet (see docs/lineage.md for the fields).")
    format = serializers.ChoiceField(IngestionFormat.choices, required=False, help_text="Default: from the file name.")


class LineageSummarySerializer(serializers.Serializer):
    total = serializers.IntegerField()
    synthetic = serializers.IntegerField()
    real = serializers.IntegerField()
    synthetic_complete = serializers.IntegerField()
    completeness = serializers.FloatField(allow_null=True, help_text="Share of synthetic rows with complete lineage.")
    prompt_hash_only = serializers.IntegerField()
    by_origin = serializers.ListField(child=serializers.ListField())
    by_generator = serializers.ListField(child=serializers.ListField())
    by_template = serializers.ListField(child=serializers.ListField())
    by_intended_use = serializers.ListField(child=serializers.ListField())
    by_label = serializers.ListField(child=serializers.ListField())
    by_flag = serializers.ListField(child=serializers.ListField())


class DistributionChangeSerializer(serializers.Serializer):
    key = serializers.CharField()
    old = serializers.IntegerField()
    new = serializers.IntegerField()
    delta = serializers.IntegerField()


class VersionDiffSerializer(serializers.Serializer):
    old = serializers.DictField()
    new = serializers.DictField()
    manifest_changes = serializers.ListField(child=serializers.DictField())
    examples = serializers.DictField()
    labels = DistributionChangeSerializer(many=True)
    origins = DistributionChangeSerializer(many=True)
    generators = DistributionChangeSerializer(many=True)
    templates = DistributionChangeSerializer(many=True)
    completeness = serializers.DictField()
