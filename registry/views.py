"""Server-rendered catalog pages. Same selectors and FilterSet as the API."""
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_safe

from . import selectors
from .choices import VersionState
from .filters import DatasetFilter, tenant_choices
from .models import Dataset, DatasetVersion


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
