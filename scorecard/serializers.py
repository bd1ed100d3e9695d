"""Shapes of the scorecard API (documented in OpenAPI; the data are plain dicts
from Scorecard.as_dict and snapshots)."""
from rest_framework import serializers

from .models import ScorecardPolicy, ScorecardSnapshot


class CheckSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField(help_text="pass, warn, missing or fail.")
    verdict = serializers.CharField()
    value = serializers.JSONField(allow_null=True)
    threshold = serializers.JSONField(allow_null=True)
    evidence_url = serializers.CharField(allow_null=True)
    evidence = serializers.DictField()
    has_source = serializers.BooleanField(help_text="False: no app provides this check yet.")
    decided_by = serializers.CharField(help_text="The governance denial code that already enforces this failure.")


class LetterSerializer(serializers.Serializer):
    letter = serializers.CharField()
    question = serializers.CharField()
    required = serializers.BooleanField()
    status = serializers.CharField(help_text="pass, warn, missing, fail, or na (the use cell requires no check of this letter).")
    verdict = serializers.CharField()
    blocking = serializers.BooleanField()
    checks = CheckSerializer(many=True)


class CellPolicySerializer(serializers.Serializer):
    use_cell = serializers.CharField()
    harm = serializers.CharField()
    cheap_verifier = serializers.BooleanField()
    max_synthetic_ratio = serializers.FloatField(allow_null=True)
    missing_blocks = serializers.BooleanField()


class ScorecardSerializer(serializers.Serializer):
    dataset = serializers.CharField()
    version = serializers.IntegerField()
    version_id = serializers.IntegerField()
    state = serializers.CharField()
    use = serializers.CharField()
    allowed = serializers.BooleanField(help_text="No letter blocks this use.")
    failing_letters = serializers.ListField(child=serializers.CharField())
    code = serializers.CharField(help_text="One character per letter: p(ass) w(arn) m(issing) f(ail) -(not required).")
    policy = CellPolicySerializer()
    letters = LetterSerializer(many=True)


class SnapshotSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScorecardSnapshot
        fields = ["id", "use", "code", "letters", "checks", "failing", "policy", "policy_updated_at", "created_at"]


class PolicySerializer(serializers.ModelSerializer):
    # Plain strings: the Use and Harm choice sets are documented once, by the registry's schemas.
    use_cell = serializers.CharField(read_only=True)
    harm = serializers.CharField(read_only=True)

    class Meta:
        model = ScorecardPolicy
        fields = ["id", "use_cell", "harm", "cheap_verifier", "checks", "max_synthetic_ratio", "missing_blocks",
                  "notes", "updated_at"]
