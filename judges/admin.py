"""The human review queue in the admin: review items of the tenants the user
governs, with the example, its label and every judge's score, a decision form
on each item and bulk accept / reject actions. Every decision goes through
``services.decide_review_item`` (its refusals become admin messages), so only
the tenant's governance reviewers decide, and a decided item changes only by
an explicit override with a comment."""
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from registry import permissions
from registry.admin import REFUSALS, ServiceSaveAdmin, refusal_message
from registry.admin_scope import GovernedAdmin
from registry.models import Dataset

from . import services
from .models import HumanDecision, JudgePanel, JudgeScore, ReviewItem



class OpenFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", "Open"), ("no", "Decided")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(decision="")
        if self.value() == "no":
            return queryset.exclude(decision="")
        return queryset


class GovernedDatasetFilter(admin.SimpleListFilter):
    """Only datasets of governed tenants that have review items (the stock
    related filter would list every tenant's datasets)."""

    title = "dataset"
    parameter_name = "dataset"

    def lookups(self, request, model_admin):
        datasets = Dataset.objects.restrict(request.user, permissions.ADMIN).filter(versions__review_items__isnull=False).distinct()
        return [(d.slug, d.slug) for d in datasets]

    def queryset(self, request, queryset):
        return queryset.filter(version__dataset__slug=self.value()) if self.value() else queryset


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=HumanDecision.choices, widget=forms.RadioSelect)
    label_correct = forms.NullBooleanField(
        required=False, help_text="Is the example's label right? (implied by accept and relabel)"
    )
    corrected_label = forms.CharField(required=False, max_length=200)
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 70}), max_length=10000)
    override = forms.BooleanField(required=False, label="Override the earlier decision")


def _scores_prefetch():
    return Prefetch("example__judge_scores", queryset=JudgeScore.objects.order_by("judge"))


@admin.register(ReviewItem)
class ReviewItemAdmin(GovernedAdmin):
    list_display = ["item", "version", "reason", "judge_scores", "label", "auto_decision", "status", "reviewer"]
    list_filter = ["reason", OpenFilter, GovernedDatasetFilter]
    list_select_related = ["version__dataset", "example", "reviewer"]
    search_fields = ["example__text", "example__label"]
    ordering = ["decision", "-reason", "-spread"]  # open first, disagreements before spot checks
    actions = ["accept_selected", "reject_selected"]
    change_form_template = "judges/admin/review_item.html"
    # The decision page (change_view) and the bulk actions call decide_review_item.
    service_actions = frozenset({permissions.CHANGE})

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related(_scores_prefetch())

    @admin.display(description="example", ordering="example__ordinal")
    def item(self, item):
        return format_html("#{} {}", item.example.ordinal, item.example.text[:50])

    @admin.display(description="label", ordering="example__label")
    def label(self, item):
        return item.example.label

    @admin.display(description="judge scores")
    def judge_scores(self, item):
        return format_html_join(" · ", "{} {}", ((s.judge, f"{s.score:.2f}") for s in item.example.judge_scores.all()))

    @admin.display(description="decision", ordering="decision")
    def status(self, item):
        if item.is_open:
            return "open"
        if item.decision == HumanDecision.RELABEL:
            return f"relabel → {item.corrected_label}"
        return item.get_decision_display()

    # The decision page replaces the stock change form.

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        item = self.get_queryset(request).select_related("version__dataset__tenant").filter(pk=object_id).first()
        if item is None:
            raise Http404("No such review item in the tenants you govern.")
        if request.method == "POST" and not self.has_change_permission(request, item):
            raise PermissionDenied("Only governance reviewers of the tenant decide review items.")
        form = DecisionForm(request.POST or None, initial={"decision": item.decision or None})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.decide_review_item(actor=request.user, item=item, **data)
            except REFUSALS as error:
                self.message_user(request, f"Refused: {refusal_message(error)}", messages.ERROR)
            else:
                self.message_user(request, f"Decision recorded for {item.example}.", messages.SUCCESS)
                return redirect(self._next_url(request, item))
        return TemplateResponse(request, self.change_form_template, {
            **self.admin_site.each_context(request), "opts": self.model._meta, "title": f"Review {item.example}",
            "item": item, "example": item.example, "scores": list(item.example.judge_scores.all()),
            "form": form, "history": item.history.select_related("history_user").order_by("-history_date")[:20],
            "panel": JudgePanel.objects.filter(dataset=item.version.dataset).first(),
        })

    def _next_url(self, request, item):
        """The next open item of the same version, else the open queue."""
        following = self.get_queryset(request).filter(version=item.version, decision="").exclude(pk=item.pk).first()
        if following:
            return reverse("admin:judges_reviewitem_change", args=[following.pk])
        return reverse("admin:judges_reviewitem_changelist") + "?open=yes"

    def _bulk(self, request, queryset, decision, label_correct):
        done, refused = 0, []
        # One service call (one transaction) per item: a refusal spares the others.
        for item in queryset.filter(decision=""):
            try:
                services.decide_review_item(actor=request.user, item=item, decision=decision,
                                            label_correct=label_correct)
                done += 1
            except REFUSALS as error:
                refused.append(f"{item.example}: {refusal_message(error)}")
        if done:
            self.message_user(request, f"{decision.capitalize()}: {done} open item(s) decided.", messages.SUCCESS)
        for message in refused[:10]:
            self.message_user(request, f"Refused: {message}", messages.ERROR)

    @admin.action(description="Accept selected open items (labels correct)")
    def accept_selected(self, request, queryset):
        self._bulk(request, queryset, HumanDecision.ACCEPT, True)

    @admin.action(description="Reject selected open items")
    def reject_selected(self, request, queryset):
        self._bulk(request, queryset, HumanDecision.REJECT, None)


class JudgePanelForm(forms.ModelForm):
    class Meta:
        model = JudgePanel
        fields = ["dataset", "judges", "scale_min", "scale_max", "disagreement_threshold", "accept_threshold",
                  "calibration_rate", "seed"]

    def clean_judges(self):
        try:
            return services.clean_judges(self.cleaned_data["judges"])
        except ValidationError as error:
            raise forms.ValidationError(error.message_dict["judges"]) from None


@admin.register(JudgePanel)
class JudgePanelAdmin(ServiceSaveAdmin):
    """Panels of governed tenants; saved through the service (which recomputes
    the open versions' queues), by those who may write the dataset."""

    service_actions = frozenset({permissions.ADD, permissions.CHANGE})
    form = JudgePanelForm
    list_display = ["dataset", "judge_names", "disagreement_threshold", "accept_threshold", "calibration_rate",
                    "seed", "updated_at"]
    list_select_related = ["dataset"]
    search_fields = ["dataset__slug"]

    @admin.display(description="judges")
    def judge_names(self, panel):
        return ", ".join(panel.judges)

    def get_readonly_fields(self, request, obj=None):
        return ["dataset"] if obj else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "dataset":
            field.queryset = Dataset.objects.restrict(request.user, "configure_judges").filter(judge_panel__isnull=True)
        return field

    def save_through_service(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in services.PANEL_FIELDS}
        return services.configure_panel(actor=request.user, dataset=form.cleaned_data.get("dataset") or obj.dataset,
                                        **fields)
