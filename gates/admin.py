"""Admin for gates: governance staff order and parameterize a dataset's cascade
(validated like the API: an error names the step and the parameter); runs and
their evidence are read-only, written by the services only."""
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from registry import permissions
from registry.admin import ServiceSaveAdmin
from registry.admin_scope import GovernedAdmin

from . import services
from .models import FidelityReport, GateCascade, GateRun, GateStep, GateStepResult


class GateStepFormSet(forms.BaseInlineFormSet):
    def steps(self):
        """The kept rows in position order, as the service takes them."""
        kept = [form.cleaned_data for form in self.forms
                if form.cleaned_data and not form.cleaned_data.get("DELETE")]
        return [{"gate": row["gate"], "params": row.get("params") or {}}
                for row in sorted(kept, key=lambda row: row["position"])]

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        positions = [form.cleaned_data["position"] for form in self.forms
                     if form.cleaned_data and not form.cleaned_data.get("DELETE")]
        if len(set(positions)) != len(positions):
            raise ValidationError("Two steps share a position; give each step its own.")
        try:
            services.validate_steps(self.steps())
        except ValidationError as error:
            raise ValidationError(error.message_dict["steps"]) from None


class GateStepInline(admin.TabularInline):
    """Editable by whoever may edit the cascade (the permission table's rule for
    cascades, not model permissions); saved by the service with the cascade."""

    model = GateStep
    formset = GateStepFormSet
    fields = ["position", "gate", "params"]
    ordering = ["position"]
    extra = 1

    def has_view_permission(self, request, obj=None):
        return permissions.can(request.user, permissions.ADMIN, obj if obj is not None else GateCascade)

    def has_change_permission(self, request, obj=None):
        action = permissions.CHANGE if obj is not None else permissions.ADD
        return permissions.can(request.user, action, obj if obj is not None else GateCascade)

    has_add_permission = has_delete_permission = has_change_permission


@admin.register(GateCascade)
class GateCascadeAdmin(ServiceSaveAdmin):
    """Saving goes through services.configure_cascade, which creates the cascade,
    renumbers the steps 1..n in the order given and bumps the revision (with history)."""

    service_actions = frozenset({permissions.ADD, permissions.CHANGE})
    list_display = ["dataset", "revision", "updated_by", "updated_at"]
    search_fields = ["dataset__slug"]
    fields = ["dataset", "revision", "updated_by", "updated_at"]
    readonly_fields = ["revision", "updated_by", "updated_at"]
    inlines = [GateStepInline]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "dataset"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        """The cascade is saved with its steps, in save_related."""

    def save_related(self, request, form, formsets, change):
        (formset,) = [formset for formset in formsets if formset.model is GateStep]
        saved = self.call_service(services.configure_cascade, actor=request.user, dataset=form.instance.dataset,
                                  steps=formset.steps())
        form.instance.__dict__.update(saved.__dict__)
        # The service replaced the rows; the step history, not the admin log, itemizes the change.
        formset.new_objects = formset.changed_objects = formset.deleted_objects = []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "dataset":
            field.queryset = permissions.restrict(field.queryset, request.user, "configure_gates").filter(
                gate_cascade__isnull=True)
        return field


class GateStepResultInline(admin.TabularInline):
    model = GateStepResult
    fields = ["position", "gate", "params", "count_in", "count_out", "seconds", "metrics"]
    readonly_fields = fields
    ordering = ["position"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(GateRun)
class GateRunAdmin(GovernedAdmin):
    list_display = ["__str__", "version", "status", "progress", "pool_count", "accepted_count", "created_by",
                    "finished_at"]
    list_filter = ["status"]
    search_fields = ["version__dataset__slug"]
    inlines = [GateStepResultInline]


@admin.register(FidelityReport)
class FidelityReportAdmin(GovernedAdmin):
    list_display = ["__str__", "version", "run", "anchor_version", "created_at"]
    search_fields = ["version__dataset__slug"]
