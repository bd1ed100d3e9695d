"""The catalog in the admin. Every write goes through a service (tenants,
role grants and revocations, dataset edits, generators, prompt templates);
the permission table decides who sees and who may (``GovernedAdmin``)."""
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from . import services
from .admin_scope import GovernedAdmin
from .errors import Conflict
from .models import (
    Dataset, DatasetVersion, Generator, Manifest, Membership, PromptTemplate, RegistryMembership, Tenant,
)
from .permissions import ADD, CHANGE, DELETE

REFUSALS = (Conflict, ValidationError, PermissionDenied)


def refusal_message(error):
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return getattr(error, "message", None) or str(error)


class ServiceRefused(Exception):
    """A service refused what an admin form asked (its refusal is the cause)."""


class ServiceSaveAdmin(GovernedAdmin):
    """An admin whose save (and delete) calls a service: the service's refusal
    becomes an error message, and nothing is written (the admin's transaction
    rolls back). The admin's own permission refusals stay 403."""

    def save_through_service(self, request, obj, form, change):
        raise NotImplementedError

    def delete_through_service(self, request, obj):
        raise NotImplementedError

    @staticmethod
    def call_service(service, *args, **kwargs):
        try:
            return service(*args, **kwargs)
        except REFUSALS as error:
            raise ServiceRefused(refusal_message(error)) from error

    def save_model(self, request, obj, form, change):
        saved = self.call_service(self.save_through_service, request, obj, form, change)
        # The admin goes on with ``obj`` (message, redirect): make it the saved row.
        obj.__dict__.update(saved.__dict__)

    def save_related(self, request, form, formsets, change):
        """The service saved relations itself (or the admin has none)."""

    def delete_model(self, request, obj):
        self.call_service(self.delete_through_service, request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    def _refused(self, request, error):
        self.message_user(request, f"Refused: {error}", messages.ERROR)
        return self.response_post_save_change(request, None)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as error:
            return self._refused(request, error)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ServiceRefused as error:
            return self._refused(request, error)

    def changelist_view(self, request, extra_context=None):
        try:
            return super().changelist_view(request, extra_context)
        except ServiceRefused as error:  # the bulk delete action
            return self._refused(request, error)

    def log_addition(self, request, obj, message):
        # The service wrote the history and the audit row; the admin log would be a
        # second, partial copy.
        return None

    log_change = log_deletion = log_addition


@admin.register(Tenant)
class TenantAdmin(ServiceSaveAdmin):
    """Tenants are created by registry admins; a tenant's identity never changes."""

    service_actions = frozenset({ADD})
    list_display = ["slug", "name", "created_at"]
    search_fields = ["slug", "name"]

    def save_through_service(self, request, obj, form, change):
        return services.create_tenant(actor=request.user, slug=obj.slug, name=obj.name)


@admin.register(Membership)
class MembershipAdmin(ServiceSaveAdmin):
    """Roles are granted (add) and revoked (delete) through grant_role / revoke_role,
    by the tenant's admins; a role is never edited in place."""

    service_actions = frozenset({ADD, DELETE})
    list_display = ["user", "tenant", "role", "created_at"]
    list_filter = ["role", ("tenant", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["user__username", "tenant__slug"]

    def save_through_service(self, request, obj, form, change):
        return services.grant_role(actor=request.user, tenant=obj.tenant, user=obj.user, role=obj.role)

    def delete_through_service(self, request, obj):
        services.revoke_role(actor=request.user, membership=obj)


@admin.register(RegistryMembership)
class RegistryMembershipAdmin(ServiceSaveAdmin):
    """Registry-wide roles: granted by superusers only (the service checks)."""

    service_actions = frozenset({ADD})
    list_display = ["user", "role", "created_at"]
    list_filter = ["role"]

    def save_through_service(self, request, obj, form, change):
        return services.grant_registry_role(actor=request.user, user=obj.user, role=obj.role)


class VersionInline(admin.TabularInline):
    model = DatasetVersion
    fields = ["number", "state", "state_changed_at", "created_by"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Dataset)
class DatasetAdmin(ServiceSaveAdmin):
    """Name, description and owner change through update_dataset (its writers);
    slug, kind, tenant and modality are the dataset's identity."""

    service_actions = frozenset({CHANGE})
    list_display = ["slug", "name", "tenant", "kind", "modality", "owner", "updated_at"]
    list_filter = [("tenant", admin.RelatedOnlyFieldListFilter), "kind", "modality"]
    search_fields = ["slug", "name", "description"]
    readonly_fields = ["slug", "tenant", "kind", "modality", "created_at", "updated_at"]
    fields = ["slug", "tenant", "kind", "modality", "name", "description", "owner", "created_at", "updated_at"]
    inlines = [VersionInline]

    def save_through_service(self, request, obj, form, change):
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        return services.update_dataset(actor=request.user, dataset=Dataset.objects.get(pk=obj.pk), **changes)


class ManifestInline(admin.StackedInline):
    """Manifests change through update_manifest (drafts only, re-hashed): read-only here."""

    model = Manifest
    can_delete = False
    readonly_fields = ["content_hash"]
    filter_horizontal = ["tenant_scope"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Generator)
class GeneratorAdmin(ServiceSaveAdmin):
    """The shared vocabulary: contributors register a name@version; only the
    vocabulary steward changes an entry, and only its provider."""

    service_actions = frozenset({ADD, CHANGE})
    list_display = ["name", "version", "provider", "created_at"]
    search_fields = ["name", "provider"]

    def get_readonly_fields(self, request, obj=None):
        return ["name", "version", "created_at"] if obj else ["created_at"]

    def save_through_service(self, request, obj, form, change):
        if change:
            return services.update_generator(actor=request.user, generator=obj, provider=obj.provider)
        return services.register_generator(actor=request.user, name=obj.name, version=obj.version,
                                           provider=obj.provider)


@admin.register(PromptTemplate)
class PromptTemplateAdmin(ServiceSaveAdmin):
    """Template bodies are immutable once stored: a change is a new version."""

    service_actions = frozenset({ADD})
    list_display = ["name", "version", "tenant", "body_sha256", "created_at"]
    list_filter = [("tenant", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "body"]
    readonly_fields = ["body_sha256", "created_by", "created_at"]

    def get_exclude(self, request, obj=None):
        return ["version"] if obj is None else []

    def save_through_service(self, request, obj, form, change):
        return services.create_prompt_template(actor=request.user, tenant=obj.tenant, name=obj.name, body=obj.body)


@admin.register(DatasetVersion)
class DatasetVersionAdmin(GovernedAdmin):
    """Versions are created through the service (API, CLI, pages); state moves
    only through governance actions, never by editing the field."""

    list_display = ["__str__", "state", "needs_review", "created_by", "created_at", "state_changed_at"]
    list_filter = ["state", ("dataset__tenant", admin.RelatedOnlyFieldListFilter), "manifest__use_cell"]
    search_fields = ["dataset__slug", "dataset__name"]
    readonly_fields = [
        "dataset", "number", "state", "notes", "created_by", "created_at", "submitted_by",
        "state_changed_at", "retired_reason", "needs_review",
    ]
    inlines = [ManifestInline]
