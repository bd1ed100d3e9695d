from django.contrib import admin, messages

from registry import permissions
from registry.admin import REFUSALS, ServiceSaveAdmin, refusal_message
from registry.admin_scope import GovernedAdmin

from . import services
from .models import ScorecardPolicy, ScorecardSnapshot, Waiver


@admin.register(ScorecardPolicy)
class ScorecardPolicyAdmin(ServiceSaveAdmin):
    """The registry-wide policy: every governor reads it; policy admins edit it
    (services.update_policy, with history and audit)."""

    service_actions = frozenset({permissions.ADD, permissions.CHANGE})
    list_display = ["use_cell", "harm", "cheap_verifier", "max_synthetic_ratio", "required_checks",
                    "updated_at"]
    list_filter = ["use_cell", "harm", "cheap_verifier"]
    readonly_fields = ["updated_at"]

    @admin.display(description="required checks")
    def required_checks(self, policy):
        return len(policy.checks)

    def save_through_service(self, request, obj, form, change):
        # The form validated the cell (unknown check codes name the code); the
        # service re-validates under a row lock and attributes the history row.
        changes = {name: form.cleaned_data[name] for name in (form.changed_data if change else form.cleaned_data)}
        return services.update_policy(
            actor=request.user, policy=ScorecardPolicy.objects.get(pk=obj.pk) if change else ScorecardPolicy(), **changes
        )


@admin.register(ScorecardSnapshot)
class ScorecardSnapshotAdmin(GovernedAdmin):
    """The scorecard's history: written by the scorecard itself, read-only here."""

    list_display = ["version", "use", "code", "failing", "created_at"]
    list_filter = ["use"]
    list_select_related = ["version__dataset"]
    search_fields = ["version__dataset__slug"]


@admin.register(Waiver)
class WaiverAdmin(ServiceSaveAdmin):
    """Governance reviewers record a waiver here (services.grant_waiver checks the
    letter, the reason, the expiry and separation of duties); they never change."""

    service_actions = frozenset({permissions.ADD})
    list_display = ["version", "letter", "expires_at", "granted_by", "created_at", "revoked_at"]
    list_filter = ["letter"]
    list_select_related = ["version__dataset", "granted_by"]
    search_fields = ["version__dataset__slug", "reason"]
    fields = ["version", "letter", "reason", "expires_at"]
    actions = ["revoke_selected"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["version", "letter", "reason", "expires_at", "manifest_hash", "granted_by", "created_at",
                "revoked_at", "revoked_by", "revoke_reason"]

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj) if obj else self.fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "version":
            field.queryset = field.queryset.model.objects.restrict(request.user, "waive").select_related("dataset")
        return field

    def save_through_service(self, request, obj, form, change):
        return services.grant_waiver(actor=request.user, version=obj.version, letter=obj.letter, reason=obj.reason,
                                     expires_at=obj.expires_at)

    @admin.action(description="Revoke selected waivers (reason: 'revoked in the admin')")
    def revoke_selected(self, request, queryset):
        for waiver in queryset.filter(revoked_at__isnull=True):
            try:
                services.revoke_waiver(actor=request.user, waiver=waiver, reason="revoked in the admin")
            except REFUSALS as error:
                self.message_user(request, f"Refused for {waiver}: {refusal_message(error)}", messages.ERROR)
