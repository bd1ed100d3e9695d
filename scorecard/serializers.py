"""Shapes of the scorecard API (documented in OpenAPI; the data are plain dicts
from Scorecard.as_dict and snapshots)."""
from rest_framework import serializers

from training.serializers import VersionRefSerializer, version_field

from .checks import LETTERS
from .models import ScorecardPolicy, ScorecardSnapshot, Waiver


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
    status = serializers.CharField(help_text="pass, warn, missing, fail, waived, or na (the use cell requires no "
                                             "check of this letter).")
    verdict = serializers.CharField()
    blocking = serializers.BooleanField()
    waiver = serializers.DictField(allow_null=True, help_text="The waiver covering this letter now.")
    lapsed_waiver = serializers.DictField(allow_null=True, help_text="The latest waiver that no longer covers it, "
                                                                     "with its problem (expired, revoked, old manifest).")
    checks = CheckSerializer(many=True)


class CellPolicySerializer(serializers.Serializer):
    use_cell = serializers.CharField()
    harm = serializers.CharField()
    cheap_verifier = serializers.BooleanField()
    max_synthetic_ratio = serializers.FloatField(allow_null=True)


class ScorecardSerializer(serializers.Serializer):
    dataset = serializers.CharField()
    version = serializers.IntegerField()
    version_id = serializers.IntegerField()
    state = serializers.CharField()
    use = serializers.CharField()
    allowed = serializers.BooleanField(help_text="No letter blocks this use.")
    failing_letters = serializers.ListField(child=serializers.CharField())
    code = serializers.CharField(help_text="One character per letter: p(ass) w(arn) v (waived) m(issing) f(ail) "
                                           "-(not required).")
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
        fields = ["id", "use_cell", "harm", "cheap_verifier", "checks", "max_synthetic_ratio",
                  "notes", "updated_at"]


class WaiverSerializer(serializers.ModelSerializer):
    version = VersionRefSerializer(read_only=True)
    granted_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    revoked_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    active = serializers.SerializerMethodField(help_text="Covers the version today, for its current manifest.")

    class Meta:
        model = Waiver
        fields = ["id", "version", "letter", "reason", "expires_at", "manifest_hash", "granted_by", "created_at",
                  "revoked_at", "revoked_by", "revoke_reason", "active"]
        read_only_fields = fields

    def get_active(self, waiver) -> bool:
        return not waiver.problem(waiver.version.manifest.content_hash)


class WaiverCreateSerializer(serializers.Serializer):
    version = version_field(help_text="Id of the version whose letter is waived.")
    letter = serializers.ChoiceField(choices=list(LETTERS))
    reason = serializers.CharField(max_length=10000)
    expires_at = serializers.DateField(help_text="Valid through this date (at most 90 days ahead).")


class RevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=10000)
