"""The admin for governance and legal staff: a review queue, review pages with
approve / reject / request-changes buttons, bulk suspend and retire (with a
reason), and read-only sign-offs, transitions and use decisions.

Every button and action calls the same services as the API, so the same checks
apply; their refusals (Conflict, ValidationError, PermissionDenied) become
admin messages. Staff see only the tenants they govern (GovernedAdmin).
"""
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from registry.admin import REFUSALS, DatasetVersionAdmin, ManifestInline, ServiceSaveAdmin, refusal_message
from registry import permissions
from registry.admin_scope import GovernedAdmin
from registry.models import DatasetVersion, Tenant
from registry.selectors import expiring_within_q
from scorecard.services import render_summary_html

from . import selectors, services
from .models import Decision, ExportRecord, SignOff, SignOffRequirement, Transition, UseDecision

EXPIRING_DAYS = 30




class GovernedTenantFilter(admin.SimpleListFilter):
    """Tenant filter listing only tenants the user governs (the stock related
    filter would list every tenant's name)."""

    title = "tenant"
    parameter_name = "tenant"

    def lookups(self, request, model_admin):
        return [(t.slug, t.name) for t in Tenant.objects.restrict(request.user, permissions.ADMIN)]

    def queryset(self, request, queryset):
        return queryset.filter(dataset__tenant__slug=self.value()) if self.value() else queryset


class ExpiringFilter(admin.SimpleListFilter):
    title = "expiry"
    parameter_name = "expiring"

    def lookups(self, request, model_admin):
        return [(str(EXPIRING_DAYS), f"Expiring within {EXPIRING_DAYS} days")]

    def queryset(self, request, queryset):
        if self.value() == str(EXPIRING_DAYS):
            return queryset.filter(expiring_within_q(EXPIRING_DAYS, "manifest__expires_at"))
        return queryset


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SignOffInline(ReadOnlyInline):
    model = SignOff
    fields = readonly_fields = ["created_at", "reviewer", "role", "decision", "comment", "manifest_hash"]


class TransitionInline(ReadOnlyInline):
    model = Transition
    fields = readonly_fields = ["at", "action", "from_state", "to_state", "actor", "reason"]


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), max_length=10000)


admin.site.unregister(DatasetVersion)


@admin.register(DatasetVersion)
class GovernedVersionAdmin(DatasetVersionAdmin):
    """Versions for governance staff: state moves only through the review
    page and the bulk actions, never by editing or reverting history."""

    list_display = ["__str__", "tenant", "state", "use_cell", "expires_at", "needs_review", "state_changed_at"]
    list_filter = [GovernedTenantFilter, "state", "manifest__use_cell", ExpiringFilter, "needs_review"]
    list_select_related = ["dataset__tenant", "manifest"]
    readonly_fields = [*DatasetVersionAdmin.readonly_fields, "review_link"]
    inlines = [ManifestInline, SignOffInline, TransitionInline]
    actions = ["suspend_selected", "retire_selected"]
    change_list_template = "governance/admin/version_change_list.html"

    @admin.display(ordering="dataset__tenant__slug")
    def tenant(self, version):
        return version.dataset.tenant.slug

    @admin.display(ordering="manifest__use_cell", description="use cell")
    def use_cell(self, version):
        return version.manifest.get_use_cell_display()

    @admin.display(ordering="manifest__expires_at", description="expires")
    def expires_at(self, version):
        return version.manifest.expires_at

    @admin.display(description="review")
    def review_link(self, version):
        url = reverse("admin:governance_review", args=[version.pk])
        return format_html('<a href="{}">Review page (manifest, sign-offs, scorecard)</a>', url)

    def revert_disabled(self, request, obj=None):
        # Reverting a history row would move the state around the workflow.
        return True

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("review-queue/", wrap(self.review_queue_view), name="governance_review_queue"),
            path("<int:pk>/review/", wrap(self.review_view), name="governance_review"),
            path("<int:pk>/review/decide/", wrap(require_POST(self.decide_view)), name="governance_decide"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "review_queue_size": len(selectors.review_queue(request.user))}
        return super().changelist_view(request, extra_context)

    # The review queue and review page

    def _context(self, request, title):
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title}

    def review_queue_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        queue = selectors.review_queue(request.user)
        return TemplateResponse(request, "governance/admin/review_queue.html",
                                {**self._context(request, "Review queue"), "queue": queue})

    def _governed_version(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        version = (
            self.get_queryset(request).select_related("dataset__tenant", "manifest__owner", "submitted_by")
            .filter(pk=pk).first()
        )
        if version is None:
            raise Http404("No such version in the tenants you govern.")
        return version

    def review_view(self, request, pk):
        version = self._governed_version(request, pk)
        manifest = version.manifest
        scorecard = render_summary_html(version, manifest.use_cell)
        status = selectors.signoff_status(version)
        signoffs = list(version.signoffs.select_related("reviewer"))
        for signoff in signoffs:
            signoff.is_current = signoff.manifest_hash == manifest.content_hash
        return TemplateResponse(request, "governance/admin/review.html", {
            **self._context(request, f"Review {version}"),
            "version": version, "m": manifest,
            "status_rows": [(role, status.approvals.get(role)) for role in status.required],
            "signoffs": signoffs, "transitions": version.transitions.select_related("actor"),
            "scorecard_html": mark_safe(scorecard) if scorecard else None,
            "decisions": Decision.choices, "can_decide": version.state == "in_review",
        })

    def decide_view(self, request, pk):
        version = self._governed_version(request, pk)
        try:
            signoff = services.sign_off(
                actor=request.user, version=version, decision=request.POST.get("decision", ""),
                comment=request.POST.get("comment", ""), role=request.POST.get("role") or None,
            )
        except REFUSALS as error:
            self.message_user(request, f"Refused: {refusal_message(error)}", messages.ERROR)
            return redirect("admin:governance_review", pk=version.pk)
        version.refresh_from_db()
        self.message_user(
            request, f"{signoff.get_decision_display()} recorded as {signoff.get_role_display()}; "
                     f"{version} is now {version.get_state_display().lower()}.", messages.SUCCESS,
        )
        return redirect("admin:governance_review_queue")

    # Bulk actions (no bulk approve: approval needs each version's sign-offs)

    @admin.action(description="Suspend selected versions (asks for a reason)")
    def suspend_selected(self, request, queryset):
        return self._bulk_with_reason(request, queryset, services.suspend, "suspend_selected", "Suspend")

    @admin.action(description="Retire selected versions (asks for a reason)")
    def retire_selected(self, request, queryset):
        return self._bulk_with_reason(request, queryset, services.retire_version, "retire_selected", "Retire")

    def _bulk_with_reason(self, request, queryset, service, action_name, verb):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            done, refused = 0, []
            # One service call (one transaction) per version: a refusal spares the others.
            for version in queryset:
                try:
                    service(actor=request.user, version=version, reason=form.cleaned_data["reason"])
                    done += 1
                except REFUSALS as error:
                    refused.append(f"{version}: {refusal_message(error)}")
            if done:
                self.message_user(request, f"{verb}: {done} version(s) done.", messages.SUCCESS)
            for message in refused:
                self.message_user(request, f"Refused: {message}", messages.ERROR)
            return None
        return TemplateResponse(request, "governance/admin/reason_form.html", {
            **self._context(request, f"{verb} {queryset.count()} version(s)"),
            "form": form, "queryset": queryset, "action": action_name, "verb": verb,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        })


class AppendOnlyAdmin(GovernedAdmin):
    """Read-only log rows: no add, change or delete for anyone (GovernedAdmin's
    default). The rows are their own history (the stock history page)."""


@admin.register(SignOff)
class SignOffAdmin(AppendOnlyAdmin):
    list_display = ["version", "reviewer", "role", "decision", "created_at", "manifest_hash"]
    list_filter = ["role", "decision"]
    list_select_related = ["version__dataset", "reviewer"]
    search_fields = ["version__dataset__slug", "reviewer__username", "comment"]


@admin.register(Transition)
class TransitionAdmin(AppendOnlyAdmin):
    list_display = ["version", "action", "from_state", "to_state", "actor", "at"]
    list_filter = ["action", "to_state"]
    list_select_related = ["version__dataset", "actor"]
    search_fields = ["version__dataset__slug", "reason"]


@admin.register(UseDecision)
class UseDecisionAdmin(AppendOnlyAdmin):
    list_display = ["at", "tenant", "version", "use", "allowed", "asked_by", "channel"]
    list_filter = ["use", "allowed", "channel"]
    list_select_related = ["tenant", "version__dataset", "asked_by"]
    search_fields = ["version__dataset__slug"]


@admin.register(ExportRecord)
class ExportRecordAdmin(AppendOnlyAdmin):
    list_display = ["at", "tenant", "kind", "object_label", "actor"]
    list_filter = ["kind"]
    list_select_related = ["tenant", "actor"]
    search_fields = ["object_label", "actor__username"]


@admin.register(SignOffRequirement)
class SignOffRequirementAdmin(ServiceSaveAdmin):
    """The registry-wide sign-off policy: governance staff read it; policy admins
    add and remove required roles (services, with history and audit)."""

    service_actions = frozenset({permissions.ADD, permissions.DELETE})
    list_display = ["use_cell", "role", "created_at"]
    list_filter = ["use_cell", "role"]

    def save_through_service(self, request, obj, form, change):
        return services.require_signoff_role(actor=request.user, use_cell=obj.use_cell, role=obj.role)

    def delete_through_service(self, request, obj):
        services.drop_signoff_role(actor=request.user, requirement=obj)
