"""Catalog reads. Each takes the user, so scope is part of the signature."""
import datetime

from django.db.models import Count, OuterRef, Prefetch, Q, Subquery
from django.utils import timezone

from .models import Dataset, DatasetVersion, Example, Generator, IngestionJob, PromptTemplate, VersionLineage


def _latest_version(field):
    latest = DatasetVersion.objects.filter(dataset=OuterRef("pk")).order_by("-number")
    return Subquery(latest.values(field)[:1])


def catalog(user):
    """Datasets the user may see, each annotated with its latest version's
    number, state, expiry and stored scorecard letters, in one query whatever
    the catalog's size."""
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
        .annotate(latest_scorecard_code=_latest_scorecard_code())
    )


def _latest_scorecard_code():
    """The stored CAREFUL letters of the latest version for its use cell (scorecard app)."""
    from scorecard.models import ScorecardSnapshot

    latest = ScorecardSnapshot.objects.filter(
        version_id=OuterRef("latest_version_id"), use=OuterRef("latest_use_cell")
    ).order_by("-created_at", "-id")
    return Subquery(latest.values("code")[:1])


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


# -- Lineage ------------------------------------------------------------------

def examples(user):
    return Example.objects.visible_to(user).select_related("version__dataset", "generator", "prompt_template")


def ingestion_jobs(user):
    return IngestionJob.objects.visible_to(user).select_related("version__dataset", "created_by")


def _named_counts(counts, model, label):
    """{id: rows} -> [(name, rows)], most rows first, names in one query."""
    names = {str(obj.pk): label(obj) for obj in model.objects.filter(pk__in=[int(key) for key in counts])}
    return sorted(((names.get(key, f"#{key}"), rows) for key, rows in counts.items()), key=lambda item: -item[1])


def _stored_lineage(version):
    """The version's aggregates (all zero before its first ingestion)."""
    return VersionLineage.objects.filter(version=version).first() or VersionLineage(version=version)


def lineage_summary(version):
    """The version's stored aggregates, names resolved (three queries, whatever
    the number of examples). Completeness is the share of synthetic rows with
    complete provenance; None when the version has no synthetic rows."""
    lineage = _stored_lineage(version)
    by_count = lambda counts: sorted(counts.items(), key=lambda item: (-item[1], item[0]))  # noqa: E731
    return {
        "total": lineage.total,
        "synthetic": lineage.synthetic,
        "real": lineage.by_origin.get("real", 0),
        "synthetic_complete": lineage.synthetic_complete,
        "completeness": lineage.completeness,
        "prompt_hash_only": lineage.prompt_hash_only,
        "by_origin": by_count(lineage.by_origin),
        "by_generator": _named_counts(lineage.by_generator, Generator, str),
        "by_template": _named_counts(lineage.by_template, PromptTemplate, lambda t: f"{t.name} v{t.version}"),
        "by_intended_use": by_count(lineage.by_intended_use),
        "by_label": by_count(lineage.by_label),
        "by_flag": by_count(lineage.by_flag),
    }


def example_detail_queryset(user):
    return Example.objects.visible_to(user).select_related(
        "version__dataset", "generator", "prompt_template__tenant", "prompt_template__created_by",
        "seed_example__version__dataset",
    )


def example_detail(user, pk):
    """One example with its full lineage: generator, template body, seed example."""
    return example_detail_queryset(user).get(pk=pk)


def previous_version(user, version):
    """The version before ``version`` in its dataset (DoesNotExist for v1)."""
    return versions(user).filter(dataset=version.dataset_id, number__lt=version.number).order_by("-number")[:1].get()


def lineage_vocabulary(version):
    """The generators and templates the version's examples use (filter choices)."""
    lineage = _stored_lineage(version)
    return {
        "generators": Generator.objects.filter(pk__in=[int(key) for key in lineage.by_generator]),
        "templates": PromptTemplate.objects.filter(pk__in=[int(key) for key in lineage.by_template]),
    }
