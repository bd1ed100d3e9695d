from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from registry.api.fields import MaskedDataField, MaskedTextField
from training.serializers import VersionRefSerializer, version_field

from .models import FidelityReport, GateRun, GateStepResult, Rejection


class StepSerializer(serializers.Serializer):
    gate = serializers.CharField(max_length=64, help_text="A registered gate name (format, exact_dedup, …).")
    params = serializers.DictField(required=False, default=dict, help_text="Overrides of the gate's defaults.")


class CascadeSerializer(serializers.Serializer):
    """A dataset's cascade. ``configured`` is false while the dataset has none:
    ``steps`` is then the default cascade of its latest version's use cell."""

    dataset = serializers.CharField(read_only=True)
    configured = serializers.BooleanField(read_only=True)
    revision = serializers.IntegerField(read_only=True, allow_null=True)
    use_cell = serializers.CharField(read_only=True, allow_null=True, help_text="The cell whose default is shown.")
    steps = StepSerializer(many=True)
    updated_by = serializers.CharField(read_only=True, allow_null=True)
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)


class StepResultSerializer(serializers.ModelSerializer):
    rejected = serializers.IntegerField(read_only=True)

    class Meta:
        model = GateStepResult
        fields = ["position", "gate", "params", "count_in", "count_out", "rejected", "seconds", "metrics"]
        read_only_fields = fields


class GateRunSerializer(serializers.ModelSerializer):
    version = VersionRefSerializer(read_only=True)
    anchor_version = VersionRefSerializer(read_only=True, allow_null=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)
    results = StepResultSerializer(many=True, read_only=True)
    fidelity_report = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta:
        model = GateRun
        fields = [
            "id", "version", "status", "progress", "steps", "cascade_revision", "seed", "software", "anchor_version",
            "pool_count", "accepted_count", "error", "failed_position", "attempts", "results", "fidelity_report",
            "created_by", "created_at", "started_at", "finished_at", "duration_seconds", "links",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_fidelity_report(self, run):
        report = getattr(run, "fidelity_report", None)
        return report.pk if report else None

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
    def get_links(self, run):
        request = self.context.get("request")

        def absolute(name, *args):
            url = reverse(name, args=args)
            return request.build_absolute_uri(url) if request else url

        return {
            "self": absolute("gaterun-detail", run.pk),
            "rejections": absolute("gaterun-rejections", run.pk),
            "rejections_csv": absolute("gaterun-rejections-csv", run.pk),
            "page": absolute("gaterun-page", run.pk),
        }


class GateRunCreateSerializer(serializers.Serializer):
    version = version_field()
    seed = serializers.IntegerField(required=False, default=0, min_value=0, max_value=2**63 - 1)


class RejectionSerializer(serializers.ModelSerializer):
    ordinal = serializers.IntegerField(source="example.ordinal", read_only=True)
    label = serializers.CharField(source="example.label", read_only=True)
    text = MaskedTextField(source="example.text", tenant="run.version.dataset.tenant_id")
    data = MaskedDataField(source="example.data", tenant="run.version.dataset.tenant_id")

    class Meta:
        model = Rejection
        fields = ["example", "ordinal", "position", "gate", "reason", "details", "label", "text", "data"]
        read_only_fields = fields


class VersionGatesSerializer(serializers.Serializer):
    """Where a version stands with the gates."""

    version = VersionRefSerializer(read_only=True)
    examples = serializers.IntegerField(read_only=True)
    latest_run = GateRunSerializer(read_only=True, allow_null=True)
    accepted_run = serializers.IntegerField(read_only=True, allow_null=True,
                                            help_text="The succeeded run the accepted pool comes from.")
    accepted = serializers.IntegerField(read_only=True, allow_null=True,
                                        help_text="Accepted pool size: not rejected by that run nor by a human.")
    funnel = serializers.ListField(child=serializers.DictField(), read_only=True)


class FidelityReportSerializer(serializers.ModelSerializer):
    version = VersionRefSerializer(read_only=True)
    anchor_version = VersionRefSerializer(read_only=True)

    class Meta:
        model = FidelityReport
        fields = ["id", "version", "run", "anchor_version", "results", "created_at"]
        read_only_fields = fields
