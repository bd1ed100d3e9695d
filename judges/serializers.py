from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from registry.api.fields import FiniteFloatField, MaskedTextField, ScopedSlugRelatedField
from registry.models import Dataset
from training.serializers import VersionRefSerializer, version_field

from .models import AutoDecision, HumanDecision, JudgePanel, JudgeScore, ReviewItem, ScoreUpload


class JudgePanelSerializer(serializers.ModelSerializer):
    dataset = ScopedSlugRelatedField(slug_field="slug", queryset=Dataset.objects.all(),
                                     scope=Dataset.objects.visible_to)
    judges = serializers.ListField(child=serializers.CharField(max_length=100), min_length=2, max_length=50)
    scale_min = FiniteFloatField(required=False)
    scale_max = FiniteFloatField(required=False)
    disagreement_threshold = FiniteFloatField(min_value=0, max_value=1, required=False)
    accept_threshold = FiniteFloatField(min_value=0, max_value=1, required=False)
    calibration_rate = FiniteFloatField(min_value=0, max_value=1, required=False)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = JudgePanel
        fields = ["id", "dataset", "judges", "scale_min", "scale_max", "disagreement_threshold",
                  "accept_threshold", "calibration_rate", "seed", "created_by", "created_at", "updated_at"]
        read_only_fields = ["id", "created_by", "created_at", "updated_at"]
        validators = []


class ScoreRowSerializer(serializers.Serializer):
    """One score (documentation of the JSON rows; validated line by line by the service)."""

    example = serializers.CharField(help_text="The example's ordinal in the version, or its content hash.")
    judge = serializers.CharField(help_text="A judge on the dataset's panel.")
    score = serializers.FloatField(help_text="On the panel's scale.")
    rationale = serializers.CharField(required=False, allow_blank=True)


class ScoreUploadCreateSerializer(serializers.Serializer):
    version = version_field(help_text="Id of the version whose examples were judged.")
    rows = serializers.ListField(child=serializers.JSONField(), required=False, max_length=200000,
                                 help_text="JSON scores: [{example, judge, score, rationale?}, …].")
    file = serializers.FileField(required=False, help_text="Or a CSV file with columns example, judge, score, "
                                                          "rationale.")

    def validate(self, data):
        if ("rows" in data) == ("file" in data):
            raise serializers.ValidationError({"rows": "Send either rows (JSON) or a CSV file (one of the two)."})
        if "file" in data and data["file"].size > settings.MAX_UPLOAD_BYTES:
            raise serializers.ValidationError({"file": f"Larger than the {settings.MAX_UPLOAD_BYTES:,}-byte limit."})
        return data


class ScoreUploadSerializer(serializers.ModelSerializer):
    version = VersionRefSerializer(read_only=True)
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ScoreUpload
        fields = ["id", "version", "uploaded_by", "uploaded_at", "source", "file_name", "rows", "created",
                  "replaced", "unchanged", "queue"]
        read_only_fields = fields


class JudgeScoreSerializer(serializers.ModelSerializer):
    ordinal = serializers.IntegerField(source="example.ordinal", read_only=True)

    class Meta:
        model = JudgeScore
        fields = ["id", "version", "example", "ordinal", "judge", "raw_score", "score", "rationale", "upload"]
        read_only_fields = fields


# Inline enum schema: a component named after the field "decision" would collide
# with governance's sign-off decision.
@extend_schema_field({"type": "string", "description": "accept, reject or relabel"})
class DecisionField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(HumanDecision.choices, **kwargs)


class ReviewItemSerializer(serializers.ModelSerializer):
    version = VersionRefSerializer(read_only=True)
    ordinal = serializers.IntegerField(source="example.ordinal", read_only=True)
    text = MaskedTextField(source="example.text", tenant="version.dataset.tenant_id")
    label = serializers.CharField(source="example.label", read_only=True)
    reviewer = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    auto_decision = serializers.ChoiceField(AutoDecision.choices, allow_blank=True, read_only=True)
    scores = serializers.SerializerMethodField()
    decision = DecisionField(read_only=True, help_text="Empty while the item is open.")

    class Meta:
        model = ReviewItem
        fields = ["id", "version", "example", "ordinal", "text", "label", "reason", "auto_decision", "spread",
                  "mean_score", "scores", "decision", "label_correct", "corrected_label", "comment", "reviewer",
                  "decided_at", "created_at"]
        read_only_fields = fields

    def get_scores(self, item) -> dict[str, float]:
        return {score.judge: score.score for score in item.example.judge_scores.all()}


class DecisionSerializer(serializers.Serializer):
    decision = DecisionField()
    label_correct = serializers.BooleanField(required=False, allow_null=True, default=None)
    corrected_label = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    comment = serializers.CharField(required=False, allow_blank=True, max_length=10000, default="")
    override = serializers.BooleanField(required=False, default=False,
                                        help_text="Replace an earlier decision (needs a comment).")

