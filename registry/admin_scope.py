"""Tenant scope in the Django admin: staff see and edit only the tenants they govern.

Admin access follows tenant roles (governance reviewer, legal reviewer, tenant
admin) rather than global model permissions, so one membership grants exactly
one tenant's pages. Superusers see everything.
"""
from simple_history.admin import SimpleHistoryAdmin

from .models import Tenant


def governs_any_tenant(user):
    return user.is_active and user.is_staff and (user.is_superuser or Tenant.objects.governed_by(user).exists())


class RoleBasedAdmin(SimpleHistoryAdmin):
    """Admin open to staff who govern at least one tenant. Deletion is off:
    governed records are retired, never deleted."""

    def has_module_permission(self, request):
        return governs_any_tenant(request.user)

    def has_view_permission(self, request, obj=None):
        return governs_any_tenant(request.user)

    def has_change_permission(self, request, obj=None):
        return governs_any_tenant(request.user)

    def has_add_permission(self, request):
        return governs_any_tenant(request.user)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


class TenantScopedAdmin(RoleBasedAdmin):
    """Rows come from ``Model.objects.governed_by(user)``; an object outside it
    is simply not found (the admin redirects), and foreign keys to scoped
    models offer only in-scope choices."""

    def get_queryset(self, request):
        return self.model.objects.governed_by(request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if hasattr(related.objects, "governed_by"):
            kwargs["queryset"] = related.objects.governed_by(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ReadOnlyScopedAdmin(TenantScopedAdmin):
    """Evidence written by jobs (runs, scans, reports): browsable, never edited by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
