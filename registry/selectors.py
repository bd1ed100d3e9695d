"""Catalog reads. Each takes the user, so scope is part of the signature."""
import datetime

from django.db.models import Count, OuterRef, Prefetch, Q, Subquery
from django.utils import timezone

from .models import Dataset, DatasetVersion


def _latest_version(field):
    latest = DatasetVersion.objects.filter(dataset=OuterRef("pk")).order_by("-number")
    return Subquery(latest.values(field)[:1])


def catalog(user):
    """Datasets the user may see, each annotated with its latest version's
    number, state and expiry, in one query whatever the catalog's size."""
    version_count = (
        DatasetVersion.objects.filter(dataset=OuterRef("pk")).values("dataset").annotate(n=Count("*")).values("n")
    )
    return (
        Dataset.objects.visible_to(user)
        .select_related("tenant", "owner")
        .annotate(
            latest_version=_latest_version("number"),
            latest_version_id=_latest_version("id"),
            latest_state=_latest_version("state"),
            latest_expires_at=_latest_version("manifest__expires_at"),
            latest_use_cell=_latest_version("manifest__use_cell"),
            version_count=Subquery(version_count),
        )
    )


def expiring_within_q(days, prefix=""):
    today = timezone.localdate()
    return Q(**{f"{prefix}__gte": today, f"{prefix}__lte": today + datetime.timedelta(days=days)})


def dataset_detail(user, slug):
    """One dataset with its versions and their manifests (constant query count)."""
    return (
        Dataset.objects.visible_to(user)
        .select_related("tenant", "owner")
        .prefetch_related(versions_prefetch())
        .get(slug=slug)
    )


def versions_prefetch():
    return Prefetch(
        "versions",
        queryset=DatasetVersion.objects.select_related(
            "manifest", "manifest__real_anchor", "manifest__owner", "created_by"
        ).prefetch_related("manifest__tenant_scope"),
    )


def versions(user):
    return DatasetVersion.objects.visible_to(user).select_related(
        "dataset", "dataset__tenant", "manifest", "manifest__real_anchor", "manifest__owner", "created_by"
    ).prefetch_related("manifest__tenant_scope")


def version_detail(user, slug, number):
    return versions(user).get(dataset__slug=slug, number=number)
