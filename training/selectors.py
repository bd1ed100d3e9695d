"""Reads of the training app. Scoped reads take the user; the evidence reads
(isolation_failures, the guard) take a version and a constant number of queries."""
from dataclasses import dataclass

from django.db import connection
from django.db.models import Prefetch, Q
from django.urls import reverse

from registry.models import DatasetVersion, Example

from .models import (
    EvaluationSet, GeneratorProvenanceCheck, JobStatus, LeakagePair, LeakageScan, MixBuild, MixComponent,
    ModelFamily, TrainingMix,
)

# The guard's row check: every flagged row of the candidate versions, in one
# set-based query. Served by the partial index training_example_flagged
# (migration 0002), which holds only flagged rows in (version, id) order, so the
# cost follows the number of flagged rows, not the size of the versions.
GUARD_SQL = (
    "SELECT id, version_id, ordinal, eval_exclusion, never_train_on FROM registry_example "
    "WHERE (eval_exclusion OR never_train_on) AND version_id IN ({ids}) ORDER BY version_id, id LIMIT %s"
)
GUARD_COUNT_SQL = (
    "SELECT COUNT(*) FROM registry_example WHERE (eval_exclusion OR never_train_on) AND version_id IN ({ids})"
)


def _in_list(version_ids):
    return ", ".join(str(int(pk)) for pk in version_ids)


def flagged_rows(version_ids, *, limit=20):
    """(first ``limit`` flagged rows as dicts, total flagged count)."""
    if not version_ids:
        return [], 0
    with connection.cursor() as cursor:
        cursor.execute(GUARD_SQL.format(ids=_in_list(version_ids)), [limit])
        rows = [
            {"example_id": r[0], "version_id": r[1], "ordinal": r[2], "eval_exclusion": bool(r[3]),
             "never_train_on": bool(r[4])}
            for r in cursor.fetchall()
        ]
        if len(rows) < limit:
            return rows, len(rows)
        cursor.execute(GUARD_COUNT_SQL.format(ids=_in_list(version_ids)))
        return rows, cursor.fetchone()[0]


@dataclass(frozen=True)
class IsolationFailure:
    """Why a version may not be used for training (E): shown where approval is refused."""

    code: str
    message: str
    evidence_url: str

    def __str__(self):
        return self.message


def _latest_per_evaluation_set(queryset, *, version, training_field, newest_first):
    """The newest row per evaluation set among those covering ``version`` (as a
    training version or as the eval version): one query."""
    rows = queryset.filter(Q(**{training_field: version}) | Q(evaluation_set__version=version))
    latest = {}
    for row in rows.distinct().order_by(f"-{newest_first}", "-id"):
        latest.setdefault(row.evaluation_set_id, row)
    return list(latest.values())


def latest_scans_covering(version):
    """A scan that errored is no evidence either way and is skipped."""
    return _latest_per_evaluation_set(
        LeakageScan.objects.filter(status=JobStatus.SUCCEEDED), version=version, training_field="candidates",
        newest_first="finished_at",
    )


def latest_provenance_checks_covering(version):
    return _latest_per_evaluation_set(
        GeneratorProvenanceCheck.objects.all(), version=version, training_field="training_versions",
        newest_first="created_at",
    )


def scan_failure(scan):
    if scan.total_pairs:
        return (
            f"Leakage scan #{scan.pk} found {scan.exact_pairs} exact, {scan.near_pairs} near-duplicate and "
            f"{scan.seed_pairs} seed pair(s) with the evaluation set ({scan.leaked_eval_items} eval item(s) leaked)."
        )
    return None


def provenance_failure(check):
    if check.passed:
        return None
    return (
        f"Generator-provenance check #{check.pk} failed: {check.synthetic_eval_items} eval item(s) with synthetic "
        f"lineage, {check.shared_generator_items} from a generator that also produced training data."
    )


def isolation_failures(version):
    """Every reason evaluation isolation blocks training on ``version``: it is a
    designated eval set, or the latest scan / provenance check covering it failed."""
    failures = [
        IsolationFailure(
            "eval_set", f"{version} is the evaluation set of {designation.family}; it is never trained on.",
            reverse("modelfamily-page", args=[designation.family_id]),
        )
        for designation in EvaluationSet.objects.filter(version=version).select_related("family")
    ]
    for scan in latest_scans_covering(version):
        message = scan_failure(scan)
        if message:
            failures.append(IsolationFailure("leakage", message, reverse("leakagescan-page", args=[scan.pk])))
    for check in latest_provenance_checks_covering(version):
        message = provenance_failure(check)
        if message:
            failures.append(
                IsolationFailure("provenance", message, reverse("provenancecheck-page", args=[check.pk]))
            )
    return failures


# Scoped reads for pages and the API.

def families(user):
    return ModelFamily.objects.visible_to(user).select_related("tenant", "created_by")


def evaluation_sets(user):
    return EvaluationSet.objects.visible_to(user).select_related(
        "family", "family__tenant", "version", "version__dataset", "designated_by"
    )


def scans(user):
    return (
        LeakageScan.objects.visible_to(user)
        .select_related("evaluation_set__family", "evaluation_set__version__dataset", "created_by")
        .prefetch_related(Prefetch("candidates", queryset=_versions()))
    )


def scan_pairs(scan):
    return LeakagePair.objects.filter(scan=scan).select_related(
        "eval_example__version__dataset", "training_example__version__dataset"
    )


def provenance_checks(user):
    return (
        GeneratorProvenanceCheck.objects.visible_to(user)
        .select_related("evaluation_set__family", "evaluation_set__version__dataset", "created_by")
        .prefetch_related(Prefetch("training_versions", queryset=_versions()), "shared_generators")
    )


def mixes(user):
    return (
        TrainingMix.objects.visible_to(user)
        .select_related("tenant", "family", "owner")
        .prefetch_related(Prefetch("components", queryset=MixComponent.objects.select_related("version__dataset")))
    )


def mix_builds(user):
    return MixBuild.objects.visible_to(user).select_related("tenant", "requested_by", "mix")


def _versions():
    return DatasetVersion.objects.select_related("dataset")


LINEAGE_FIELDS = (
    "id", "version_id", "version__dataset__slug", "version__number", "ordinal", "text", "data", "label", "origin",
    "content_hash", "generator__name", "generator__version", "prompt_template__name", "prompt_template__version",
    "prompt_hash", "seed_example_id", "seed_external_id", "sampling_params", "intended_use",
)
LINEAGE_NAMES = (
    "example_id", "version_id", "dataset", "version", "ordinal", "text", "data", "label", "origin",
    "content_hash", "generator", "generator_version", "prompt_template", "prompt_template_version",
    "prompt_hash", "seed_example_id", "seed_external_id", "sampling_params", "intended_use",
)


def mix_rows(mix, *, chunk_size=5000):
    """Each selected example of ``mix`` with its lineage, streamed in id order."""
    rows = (
        Example.objects.filter(pk__in=mix.examples.values("example_id"))
        .order_by("id")
        .values_list(*LINEAGE_FIELDS)
    )
    for values in rows.iterator(chunk_size=chunk_size):
        yield dict(zip(LINEAGE_NAMES, values))


def version_by_ref(user, ref):
    """A version named ``dataset-slug:vN`` (as the CLI takes it), in the user's scope."""
    slug, _, number = ref.rpartition(":v")
    if not slug or not number.isdigit():
        raise ValueError(f"{ref!r}: name versions as dataset-slug:vN")
    try:
        return DatasetVersion.objects.visible_to(user).get(dataset__slug=slug, number=int(number))
    except DatasetVersion.DoesNotExist:
        raise ValueError(f"{ref!r}: no such version in your scope") from None
