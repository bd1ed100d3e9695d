from django.contrib import admin

from registry.admin_scope import RoleBasedAdmin, TenantScopedAdmin
from registry.choices import Role
from registry.models import Membership

from . import services
from .models import ScorecardPolicy, ScorecardSnapshot


def edits_policy(user):
    """The policy is registry-wide: superusers and governance reviewers edit it."""
    return user.is_superuser or (
        user.is_staff and Membership.objects.filter(user=user, role=Role.GOVERNANCE_REVIEWER).exists()
    )


@admin.register(ScorecardPolicy)
class ScorecardPolicyAdmin(RoleBasedAdmin):
    list_display = ["use_cell", "harm", "cheap_verifier", "max_synthetic_ratio", "missing_blocks", "required_checks",
                    "updated_at"]
    list_filter = ["use_cell", "harm", "cheap_verifier", "missing_blocks"]
    readonly_fields = ["updated_at"]

    @admin.display(description="required checks")
    def required_checks(self, policy):
        return len(policy.checks)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and edits_policy(request.user)

    def has_add_permission(self, request):
        return super().has_add_permission(request) and edits_policy(request.user)

    def save_model(self, request, obj, form, change):
        # The form validated the cell (unknown check codes name the code); the
        # service re-validates under a row lock and attributes the history row.
        changes = {name: form.cleaned_data[name] for name in (form.changed_data if change else form.cleaned_data)}
        form.instance = services.update_policy(
            actor=request.user, policy=ScorecardPolicy.objects.get(pk=obj.pk) if change else ScorecardPolicy(), **changes
        )


@admin.register(ScorecardSnapshot)
class ScorecardSnapshotAdmin(TenantScopedAdmin):
    """The scorecard's history: written by the scorecard itself, read-only here."""

    list_display = ["version", "use", "code", "failing", "created_at"]
    list_filter = ["use"]
    list_select_related = ["version__dataset"]
    search_fields = ["version__dataset__slug"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
