from django.contrib import admin

from . import services
from .admin_scope import RoleBasedAdmin, TenantScopedAdmin
from .models import Dataset, DatasetVersion, Generator, Manifest, Membership, PromptTemplate, Tenant


@admin.register(Tenant)
class TenantAdmin(TenantScopedAdmin):
    list_display = ["slug", "name", "created_at"]
    search_fields = ["slug", "name"]


@admin.register(Membership)
class MembershipAdmin(TenantScopedAdmin):
    list_display = ["user", "tenant", "role", "created_at"]
    list_filter = ["role", ("tenant", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["user__username", "tenant__slug"]


class VersionInline(admin.TabularInline):
    model = DatasetVersion
    fields = ["number", "state", "state_changed_at", "created_by"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Dataset)
class DatasetAdmin(TenantScopedAdmin):
    list_display = ["slug", "name", "tenant", "kind", "modality", "owner", "updated_at"]
    list_filter = [("tenant", admin.RelatedOnlyFieldListFilter), "kind", "modality"]
    search_fields = ["slug", "name", "description"]
    inlines = [VersionInline]


class ManifestInline(admin.StackedInline):
    model = Manifest
    can_delete = False
    readonly_fields = ["content_hash"]
    filter_horizontal = ["tenant_scope"]

    def has_change_permission(self, request, obj=None):
        # Manifests change through update_manifest (drafts only), which re-hashes.
        return False


@admin.register(Generator)
class GeneratorAdmin(RoleBasedAdmin):
    list_display = ["name", "version", "provider", "created_at"]
    search_fields = ["name", "provider"]


@admin.register(PromptTemplate)
class PromptTemplateAdmin(TenantScopedAdmin):
    list_display = ["name", "version", "tenant", "body_sha256", "created_at"]
    list_filter = [("tenant", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "body"]
    readonly_fields = ["body_sha256", "created_by", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        # Template bodies are immutable once stored: a change is a new version.
        return [*self.readonly_fields, "tenant", "name", "version", "body"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if not change:
            form.instance = services.create_prompt_template(
                actor=request.user, tenant=obj.tenant, name=obj.name, body=obj.body
            )

    def get_exclude(self, request, obj=None):
        return ["version"] if obj is None else []


@admin.register(DatasetVersion)
class DatasetVersionAdmin(TenantScopedAdmin):
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

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
