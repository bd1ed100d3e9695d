"""Server-rendered catalog pages. Same selectors and FilterSet as the API."""
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_safe

from gates.masking import masked_diff

from . import diff, permissions, selectors
from .choices import VersionState
from .filters import DatasetFilter, ExampleFilter, tenant_choices
from .models import Dataset, DatasetVersion, Example, IngestionJob


@require_safe
@login_required
def catalog(request):
    filterset = DatasetFilter(request.GET, queryset=selectors.catalog(request.user).order_by("slug"))
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "registry/catalog.html",
        {
            "filter": filterset,
            "page": page,
            "tenants": tenant_choices(request.user),
            "states": VersionState.choices,
            "querystring": query.urlencode(),
        },
    )


@require_safe
@login_required
def dataset_detail(request, slug):
    try:
        dataset = selectors.dataset_detail(request.user, slug)
    except Dataset.DoesNotExist:
        raise Http404("No such dataset.")
    return render(request, "registry/dataset_detail.html", {"dataset": dataset})


@require_safe
@login_required
def version_detail(request, slug, number):
    try:
        version = selectors.version_detail(request.user, slug, number)
    except DatasetVersion.DoesNotExist:
        raise Http404("No such version.")
    return render(request, "registry/version_detail.html", {"version": version, "dataset": version.dataset})


# -- Lineage pages -------------------------------------------------------------

def _version_or_404(user, slug, number):
    try:
        return selectors.version_detail(user, slug, number)
    except DatasetVersion.DoesNotExist:
        raise Http404("No such version.")


@require_safe
@login_required
def version_lineage(request, slug, number):
    version = _version_or_404(request.user, slug, number)
    return render(request, "registry/version_lineage.html", {
        "version": version, "dataset": version.dataset, "summary": selectors.lineage_summary(version),
        "jobs": selectors.ingestion_jobs(request.user).filter(version=version)[:20],
    })


@require_safe
@login_required
def version_examples(request, slug, number):
    version = _version_or_404(request.user, slug, number)
    queryset = selectors.examples(request.user).filter(version=version).order_by("ordinal")
    filterset = ExampleFilter(request.GET, queryset=queryset)
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "registry/version_examples.html", {
        "version": version, "dataset": version.dataset, "filter": filterset, "page": page,
        "querystring": query.urlencode(), "vocabulary": selectors.lineage_vocabulary(version),
        "raw": permissions.can(request.user, "view_raw", version),
    })


@require_safe
@login_required
def example_detail(request, slug, number, ordinal):
    version = _version_or_404(request.user, slug, number)
    try:
        example = selectors.example_detail_queryset(request.user).get(version=version, ordinal=ordinal)
    except Example.DoesNotExist:
        raise Http404("No such example.")
    seed = example.seed_example
    return render(request, "registry/example_detail.html", {
        "version": version, "dataset": version.dataset, "example": example,
        "raw": permissions.can(request.user, "view_raw", version),
        "seed_raw": seed is not None and permissions.can(request.user, "view_raw", seed.version),
    })


@require_safe
@login_required
def version_diff(request, slug, number):
    version = _version_or_404(request.user, slug, number)
    against = request.GET.get("against")
    try:
        old = (selectors.version_detail(request.user, slug, int(against)) if against
               else selectors.previous_version(request.user, version))
    except (ValueError, DatasetVersion.DoesNotExist):
        old = None
    raw = permissions.can(request.user, "view_raw", version)
    context = {"version": version, "dataset": version.dataset, "old": old,
               "diff": masked_diff(diff.version_diff(old, version), raw) if old else None}
    return render(request, "registry/version_diff.html", context)


@require_safe
@login_required
def ingestion_job(request, pk):
    try:
        job = selectors.ingestion_jobs(request.user).get(pk=pk)
    except IngestionJob.DoesNotExist:
        raise Http404("No such ingestion job.")
    return render(request, "registry/ingestion_job.html", {"job": job, "version": job.version})
