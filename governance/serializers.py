from rest_framework import serializers

from registry.choices import Role, Use

from .models import Decision, Notice, SignOff, Transition, UseDecision


class SignOffSerializer(serializers.ModelSerializer):
    version = serializers.PrimaryKeyRelatedField(read_only=True)
    reviewer = serializers.SlugRelatedField(slug_field="username", read_only=True)
    is_current = serializers.SerializerMethodField()

    class Meta:
        model = SignOff
        fields = ["id", "version", "reviewer", "role", "decision", "comment", "manifest_hash", "created_at",
                  "is_current"]
        read_only_fields = fields

    def get_is_current(self, signoff) -> bool:
        return signoff.manifest_hash == signoff.version.manifest.content_hash


class TransitionSerializer(serializers.ModelSerializer):
    version = serializers.PrimaryKeyRelatedField(read_only=True)
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Transition
        fields = ["id", "version", "from_state", "to_state", "action", "actor", "reason", "at"]
        read_only_fields = fields


class UseDecisionSerializer(serializers.ModelSerializer):
    version = serializers.PrimaryKeyRelatedField(read_only=True)
    tenant = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    asked_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    reasons = serializers.ListField(child=serializers.DictField(child=serializers.CharField()), read_only=True)

    class Meta:
        model = UseDecision
        fields = ["id", "version", "tenant", "use", "allowed", "reasons", "asked_by", "channel", "at"]
        read_only_fields = fields


class NoticeSerializer(serializers.ModelSerializer):
    version = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Notice
        fields = ["id", "kind", "message", "version", "created_at", "read_at"]
        read_only_fields = fields


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=10000, default="")


class RequiredCommentSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=10000)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=10000)


class SignOffRequestSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(Decision.choices)
    role = serializers.ChoiceField(Role.choices, required=False, help_text="Defaults to your first open required role.")
    comment = serializers.CharField(required=False, allow_blank=True, max_length=10000, default="")


class AuthorizeUseRequestSerializer(serializers.Serializer):
    tenant = serializers.SlugField(help_text="The tenant that wants to use the data.")
    use = serializers.ChoiceField(Use.choices)
    version_id = serializers.IntegerField(required=False, help_text="A version id, or dataset + version.")
    dataset = serializers.SlugField(required=False)
    version = serializers.IntegerField(required=False, min_value=1, help_text="The version number within dataset.")

    def validate(self, data):
        if "version_id" not in data and not ("dataset" in data and "version" in data):
            raise serializers.ValidationError({"version_id": "Give version_id, or dataset and version."})
        return data


class ReasonItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class AuthorizeUseResponseSerializer(serializers.Serializer):
    allowed = serializers.BooleanField()
    reasons = ReasonItemSerializer(many=True)
    decision_id = serializers.IntegerField()
    version_id = serializers.IntegerField()
    tenant = serializers.CharField()
    use = serializers.CharField()


class AuditRowSerializer(serializers.Serializer):
    """One governed action (governance.audit.AuditRow)."""

    time = serializers.DateTimeField()
    actor = serializers.CharField(help_text="Username, or 'system' for the clock.")
    tenant = serializers.CharField(help_text="Tenant slug; empty for registry-wide policy edits.")
    action = serializers.CharField(help_text="e.g. transition.approve, signoff.approve, authorization.denied.")
    object = serializers.CharField()
    detail = serializers.CharField()
