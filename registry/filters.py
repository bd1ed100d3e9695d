"""One FilterSet serves both the catalog page and the API list."""
import django_filters
from django.db.models import Q

from .choices import DatasetKind, Modality, Origin, Use, VersionState
from .models import DatasetVersion, Example, Tenant
from .selectors import expiring_within_q


class DatasetFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    tenant = django_filters.CharFilter(field_name="tenant__slug", label="Tenant")
    kind = django_filters.ChoiceFilter(choices=DatasetKind.choices, empty_label="All kinds")
    modality = django_filters.ChoiceFilter(choices=Modality.choices, empty_label="All modalities")
    state = django_filters.ChoiceFilter(
        field_name="latest_state", choices=VersionState.choices, label="State (latest version)",
        empty_label="All states",
    )
    intended_use = django_filters.ChoiceFilter(
        choices=Use.choices, method="by_intended_use", label="Intended use", empty_label="Any intended use"
    )
    expiring_within = django_filters.NumberFilter(
        method="by_expiry", min_value=0, max_value=3650, label="Expiring within (days)"
    )

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(slug__icontains=value) | Q(description__icontains=value))

    def by_intended_use(self, queryset, name, value):
        # A JSON list of known use names: the quoted name matches exactly one element.
        versions = DatasetVersion.objects.filter(manifest__intended_uses__icontains=f'"{value}"')
        return queryset.filter(pk__in=versions.values("dataset_id"))

    def by_expiry(self, queryset, name, value):
        return queryset.filter(expiring_within_q(int(value), "latest_expires_at"))


class VersionFilter(django_filters.FilterSet):
    dataset = django_filters.CharFilter(field_name="dataset__slug")
    state = django_filters.ChoiceFilter(choices=VersionState.choices)
    use_cell = django_filters.ChoiceFilter(field_name="manifest__use_cell", choices=Use.choices)
    needs_review = django_filters.BooleanFilter()

    class Meta:
        model = DatasetVersion
        fields = ["dataset", "state", "use_cell", "needs_review"]


def tenant_choices(user):
    return [(t.slug, t.name) for t in Tenant.objects.visible_to(user)]


class ExampleFilter(django_filters.FilterSet):
    """Examples list (API and page): by version, lineage and flags."""

    dataset = django_filters.CharFilter(field_name="version__dataset__slug")
    origin = django_filters.ChoiceFilter(choices=Origin.choices, empty_label="Any origin")
    generator = django_filters.NumberFilter(field_name="generator_id", label="Generator id")
    template = django_filters.NumberFilter(field_name="prompt_template_id", label="Template id")
    prompt_hash_only = django_filters.BooleanFilter(
        field_name="prompt_template", lookup_expr="isnull", label="Prompt hash without a stored template"
    )
    label = django_filters.CharFilter()
    intended_use = django_filters.ChoiceFilter(choices=Use.choices, empty_label="Any intended use")
    eval_exclusion = django_filters.BooleanFilter()
    never_train_on = django_filters.BooleanFilter()
    content_hash = django_filters.CharFilter()

    class Meta:
        model = Example
        fields = ["version", "dataset", "origin", "generator", "template", "label", "intended_use",
                  "eval_exclusion", "never_train_on", "content_hash"]
