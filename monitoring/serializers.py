import json

from django.contrib.auth import get_user_model
from rest_framework import serializers

from registry.api.fields import FiniteFloatField, ScopedSlugRelatedField
from registry.models import DatasetVersion, Tenant

from .models import Alert, Baseline, BaselineVersion, Monitor, MonitorRun, Outcome, ProductionBatch, Resolution


class ScopedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """An id resolved only inside the requesting user's scope (unknown otherwise)."""

    default_error_messages = {"does_not_exist": "No such object in your scope.",
                              "incorrect_type": "Give an id."}

    def __init__(self, *, scope, **kwargs):
        self.scope = scope
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return self.scope(request.user) if request else self.queryset.none()


class JSONListOrString(serializers.JSONField):
    """A JSON value that may arrive as a string (multipart forms)."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                self.fail("invalid")
        return super().to_internal_value(data)


class BaselineVersionSerializer(serializers.ModelSerializer):
    baseline = serializers.SlugRelatedField(slug_field="name", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = BaselineVersion
        fields = ["id", "baseline", "number", "source", "source_version", "source_mix", "source_file_name", "columns",
                  "target_column", "prediction_column", "file_sha256", "row_count", "stats", "notes", "created_by",
                  "created_at"]
        read_only_fields = fields


class BaselineSerializer(serializers.ModelSerializer):
    tenant = ScopedSlugRelatedField(slug_field="slug", queryset=Tenant.objects.all(), scope=Tenant.objects.visible_to)
    versions = BaselineVersionSerializer(many=True, read_only=True)

    class Meta:
        model = Baseline
        fields = ["id", "tenant", "name", "description", "created_at", "versions"]
        read_only_fields = ["created_at", "versions"]


class BaselineVersionCreateSerializer(serializers.Serializer):
    """One source: ``source_version`` (id), ``source_mix`` (id) or ``file`` (multipart)."""

    source_version = ScopedPrimaryKeyField(
        queryset=DatasetVersion.objects.all(), scope=DatasetVersion.objects.visible_to, required=False
    )
    source_mix = serializers.IntegerField(required=False)
    file = serializers.FileField(required=False)
    columns = JSONListOrString(required=False)
    target_column = serializers.CharField(required=False, allow_blank=True, max_length=200)
    prediction_column = serializers.CharField(required=False, allow_blank=True, max_length=200)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class MonitorSerializer(serializers.ModelSerializer):
    version = ScopedPrimaryKeyField(queryset=DatasetVersion.objects.all(), scope=DatasetVersion.objects.visible_to)
    baseline_version = ScopedPrimaryKeyField(
        queryset=BaselineVersion.objects.all(), scope=BaselineVersion.objects.visible_to
    )
    owner = serializers.SlugRelatedField(slug_field="username", queryset=get_user_model().objects.all(), required=False)
    drift_share = FiniteFloatField(min_value=0.0001, max_value=1, required=False)
    coverage_min_support = FiniteFloatField(min_value=0, max_value=0.9999, required=False)
    coverage_max_uncovered = FiniteFloatField(min_value=0, max_value=1, required=False)
    periodic_task = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = Monitor
        fields = ["id", "version", "name", "kind", "source", "baseline_version", "columns", "column_methods",
                  "drift_share", "slices", "min_slice_rows", "coverage_clusters", "coverage_min_support",
                  "coverage_max_uncovered", "window_hours", "sample_rows", "sample_seed", "column_chunk", "schedule",
                  "periodic_task", "owner", "severity", "enabled", "created_at"]
        read_only_fields = ["created_at", "periodic_task"]


class MonitorUpdateSerializer(MonitorSerializer):
    class Meta(MonitorSerializer.Meta):
        read_only_fields = ["version", "created_at", "periodic_task"]


class BatchSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ProductionBatch
        fields = ["id", "monitor", "started_at", "ended_at", "file_name", "file_sha256", "row_count", "created_by",
                  "created_at"]
        read_only_fields = fields


class BatchCreateSerializer(serializers.Serializer):
    """Either ``file`` (multipart CSV / Parquet / JSONL) or ``rows`` (JSON objects)."""

    file = serializers.FileField(required=False)
    rows = serializers.ListField(child=serializers.DictField(), required=False, max_length=200000)
    started_at = serializers.DateTimeField(required=False)
    ended_at = serializers.DateTimeField(required=False)


class RunSerializer(serializers.ModelSerializer):
    monitor = serializers.PrimaryKeyRelatedField(read_only=True)
    # Blank until the run finished: declared so the schema admits "".
    outcome = serializers.ChoiceField(Outcome.choices, allow_blank=True, read_only=True)

    class Meta:
        model = MonitorRun
        fields = ["id", "monitor", "scheduled_for", "trigger", "status", "outcome", "attempts", "claimed_at",
                  "finished_at", "rows_reference", "rows_current", "sampled", "drift_share", "drifted_columns",
                  "column_metrics", "slice_metrics", "coverage", "reports", "timings", "error", "alert"]
        read_only_fields = fields


class RunRequestSerializer(serializers.Serializer):
    scheduled_for = serializers.DateTimeField(required=False)


class AlertSerializer(serializers.ModelSerializer):
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    acknowledged_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    resolved_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    # Blank until resolved: declared so the schema admits "".
    resolution = serializers.ChoiceField(Resolution.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Alert
        fields = ["id", "monitor", "version", "status", "severity", "summary", "opened_at", "failing_runs",
                  "assignee", "acknowledged_by", "acknowledged_at", "resolved_by", "resolved_at", "resolution",
                  "resolution_note", "regenerated_version"]
        read_only_fields = fields


class AcknowledgeSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class AssignSerializer(serializers.Serializer):
    assignee = serializers.SlugRelatedField(slug_field="username", queryset=get_user_model().objects.all())


class ResolveSerializer(serializers.Serializer):
    resolution = serializers.ChoiceField(Resolution.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000)
