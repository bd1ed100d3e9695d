from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers

from registry.api.fields import MaskedTextField, ScopedSlugRelatedField
from registry.models import DatasetVersion, Tenant

from .models import (
    EvaluationSet, GeneratorProvenanceCheck, LeakagePair, LeakageScan, MixBuild, MixComponent, ModelFamily,
    TrainingMix,
)


class ScopedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A reference by id resolved only inside the requesting user's scope: an
    object of another tenant reads as unknown, never as forbidden."""

    default_error_messages = {"does_not_exist": "No such object in your scope: {pk_value}."}

    def __init__(self, *, scope, **kwargs):
        self.scope = scope
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return self.scope(request.user) if request else self.queryset.none()


def version_field(**kwargs):
    return ScopedPrimaryKeyField(
        queryset=DatasetVersion.objects.all(), scope=DatasetVersion.objects.visible_to, **kwargs
    )


def tenant_field():
    return ScopedSlugRelatedField(slug_field="slug", queryset=Tenant.objects.all(), scope=Tenant.objects.visible_to)


class VersionRefSerializer(serializers.ModelSerializer):
    dataset = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = DatasetVersion
        fields = ["id", "dataset", "number", "state"]
        read_only_fields = fields


class ModelFamilySerializer(serializers.ModelSerializer):
    tenant = tenant_field()
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ModelFamily
        fields = ["id", "tenant", "name", "description", "created_by", "created_at"]
        read_only_fields = ["id", "created_by", "created_at"]
        validators = []


class VersionIdInRefOutField(ScopedPrimaryKeyField):
    """Takes a version id; shows the version's reference (id, dataset, number, state)."""

    def use_pk_only_optimization(self):
        return False

    def to_representation(self, value):
        return VersionRefSerializer(value).data


class VersionIdInRefOutSchema(OpenApiSerializerFieldExtension):
    """The schema says so too: an integer in requests, a VersionRef in responses."""

    target_class = VersionIdInRefOutField

    def map_serializer_field(self, auto_schema, direction):
        if direction == "request":
            return build_basic_type(OpenApiTypes.INT)
        return auto_schema.resolve_serializer(VersionRefSerializer, direction).ref


class EvaluationSetSerializer(serializers.ModelSerializer):
    family = ScopedPrimaryKeyField(queryset=ModelFamily.objects.all(), scope=ModelFamily.objects.visible_to)
    version = VersionIdInRefOutField(queryset=DatasetVersion.objects.all(), scope=DatasetVersion.objects.visible_to)
    designated_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = EvaluationSet
        fields = ["id", "family", "version", "active", "is_real", "use_cell", "rows_flagged", "designated_by",
                  "designated_at"]
        read_only_fields = ["id", "active", "is_real", "use_cell", "rows_flagged", "designated_by", "designated_at"]
        validators = []


def evaluation_set_field():
    return ScopedPrimaryKeyField(queryset=EvaluationSet.objects.all(), scope=EvaluationSet.objects.visible_to)


class LeakageScanSerializer(serializers.ModelSerializer):
    candidates = VersionRefSerializer(many=True, read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    is_clean = serializers.BooleanField(read_only=True)

    class Meta:
        model = LeakageScan
        fields = [
            "id", "evaluation_set", "candidates", "status", "params", "eval_items", "candidate_items",
            "exact_pairs", "near_pairs", "seed_pairs", "leaked_eval_items", "is_clean", "progress", "error",
            "created_by", "created_at", "started_at", "finished_at",
        ]
        read_only_fields = fields


class LeakageScanCreateSerializer(serializers.Serializer):
    evaluation_set = evaluation_set_field()
    candidates = serializers.ListField(child=version_field(), min_length=1, max_length=50)
    threshold = serializers.FloatField(min_value=0.1, max_value=1.0, required=False)


class LeakagePairSerializer(serializers.ModelSerializer):
    # A plain string in the schema: an enum named "kind" would collide with the dataset kind.
    kind = serializers.CharField(read_only=True, help_text="exact, near or seed")
    eval_text = MaskedTextField(source="eval_example.text", tenant="eval_example.version.dataset.tenant_id")
    training_text = MaskedTextField(source="training_example.text", tenant="training_example.version.dataset.tenant_id")
    training_version = serializers.IntegerField(source="training_example.version_id", read_only=True)

    class Meta:
        model = LeakagePair
        fields = ["kind", "similarity", "eval_example", "eval_text", "training_example", "training_version",
                  "training_text"]
        read_only_fields = fields


class ProvenanceCheckSerializer(serializers.ModelSerializer):
    training_versions = VersionRefSerializer(many=True, read_only=True)
    shared_generators = serializers.StringRelatedField(many=True, read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = GeneratorProvenanceCheck
        fields = ["id", "evaluation_set", "training_versions", "passed", "synthetic_eval_items",
                  "shared_generator_items", "shared_generators", "findings", "created_by", "created_at"]
        read_only_fields = fields


class ProvenanceCheckCreateSerializer(serializers.Serializer):
    evaluation_set = evaluation_set_field()
    candidates = serializers.ListField(child=version_field(), required=False, max_length=50)


class MixComponentSerializer(serializers.ModelSerializer):
    version = VersionRefSerializer(read_only=True)

    class Meta:
        model = MixComponent
        fields = ["version", "manifest_hash", "max_synthetic_ratio", "pool_count", "selected_count"]
        read_only_fields = fields


class TrainingMixSerializer(serializers.ModelSerializer):
    tenant = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    family = serializers.SlugRelatedField(slug_field="name", read_only=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    components = MixComponentSerializer(many=True, read_only=True)

    class Meta:
        model = TrainingMix
        fields = [
            "id", "tenant", "family", "name", "purpose", "owner", "seed", "max_synthetic_ratio", "synthetic_ratio",
            "total_count", "synthetic_count", "real_count", "synthetic_pool_count", "labels_before", "labels_after",
            "content_hash", "affected", "affected_reason", "components", "created_at",
        ]
        read_only_fields = fields


class MixBuildSerializer(serializers.ModelSerializer):
    tenant = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = MixBuild
        fields = ["id", "tenant", "requested_by", "params", "status", "error", "mix", "created_at", "finished_at"]
        read_only_fields = fields


class MixBuildCreateSerializer(serializers.Serializer):
    tenant = tenant_field()
    family = ScopedPrimaryKeyField(queryset=ModelFamily.objects.all(), scope=ModelFamily.objects.visible_to)
    name = serializers.SlugField(max_length=100)
    purpose = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    components = serializers.ListField(child=version_field(), min_length=1, max_length=50)
    seed = serializers.IntegerField(required=False, default=0, min_value=0, max_value=2**62)
