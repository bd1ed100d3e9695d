"""The admin asks the permission table, like every other entry point.

Rows come from ``permissions.restrict(queryset, user, "admin")``: the
governance console shows staff the tenants they govern (an object outside
it is not found). Every admin is read-only unless it lists an action in
``service_actions`` *and* its save or action calls the service for it; even
then the table decides who may. simple-history's revert is disabled (posting
a history form would write around the services), and its history pages are
scoped like the change page.
"""
from django.contrib.admin import ModelAdmin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from simple_history.admin import SimpleHistoryAdmin

from . import permissions
from .models import RegistryMembership, Tenant
from .permissions import ADD, ADMIN, CHANGE, DELETE, VIEW


def in_console(user):
    """Staff who govern at least one tenant or hold a registry role: the admin's audience."""
    return user.is_active and user.is_staff and (
        user.is_superuser or permissions.can(user, ADMIN, Tenant) or RegistryMembership.objects.filter(user=user).exists())


class GovernedAdmin(SimpleHistoryAdmin):
    """Base of every admin of the project's models."""

    # Which of add / change / delete this admin performs through a service.
    service_actions = frozenset()

    def __init__(self, model, admin_site):
        super().__init__(model, admin_site)
        # Models without simple-history (append-only logs, job evidence) show the stock history page.
        self.has_simple_history = hasattr(model._meta, "simple_history_manager_attribute")
        if not self.has_simple_history:
            self.object_history_template = "admin/object_history.html"

    def get_queryset(self, request):
        return permissions.restrict(super().get_queryset(request), request.user, ADMIN)

    def _staff(self, request):
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request):
        return self._staff(request) and permissions.can(request.user, ADMIN, self.model)

    def has_view_permission(self, request, obj=None):
        if not self.has_module_permission(request):
            return False
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def _may(self, request, action, obj=None):
        # Writing in the console needs the console first (the table's "admin").
        if action not in self.service_actions or not self.has_module_permission(request):
            return False
        return permissions.can(request.user, action, obj if obj is not None else self.model)

    def has_add_permission(self, request, obj=None):
        return self._may(request, ADD)

    def has_change_permission(self, request, obj=None):
        return self._may(request, CHANGE, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may(request, DELETE, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if DELETE not in self.service_actions:
            actions.pop("delete_selected", None)
        return actions

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        """Choices are only what the user may act in (tenants) or see (the rest)."""
        related = db_field.related_model
        if related is Tenant:
            kwargs["queryset"] = permissions.tenants_where(request.user, self.model, ADD)
        elif hasattr(related, "SCOPE_DATASET_PATH") or hasattr(related, "SCOPE_TENANT_FIELD"):
            kwargs["queryset"] = permissions.restrict(related._default_manager.all(), request.user, VIEW)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # History: scoped, read-only.

    def revert_disabled(self, request, obj=None):
        return True

    def _object_in_scope(self, request, object_id):
        obj = self.get_queryset(request).filter(pk=unquote(object_id)).first()
        if obj is None:
            raise Http404("No such object in the tenants you govern.")
        return obj

    def history_view(self, request, object_id, extra_context=None):
        self._object_in_scope(request, object_id)
        if not self.has_simple_history:
            return ModelAdmin.history_view(self, request, object_id, extra_context)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._object_in_scope(request, object_id)
        if request.method != "GET":
            raise PermissionDenied("History is read-only: a revert would write around the services.")
        return super().history_form_view(request, object_id, version_id, extra_context)
