"""CAREFUL E evidence: evaluation sets, leakage scans, generator-provenance checks.

Each check reads stored rows (designations, the latest scan / check rows and
their stored counts) in a constant number of queries; nothing is recounted.
"""
from django.db.models import Q
from django.urls import reverse

from registry.choices import Use
from scorecard.checks import CheckResult, Status, careful_check, missing

from . import selectors
from .models import EvaluationSet, ModelFamily


def _families_of(version):
    """Families the version is an eval set of, was scanned against, or was mixed into."""
    return ModelFamily.objects.filter(
        Q(evaluation_sets__version=version)
        | Q(evaluation_sets__scans__candidates=version)
        | Q(mixes__components__version=version)
    ).values("pk")


@careful_check("E", "E.eval_set_real", "A real, human-labeled evaluation set is designated for the model family")
def eval_set_real(version, use, params):
    designations = list(
        EvaluationSet.objects.filter(active=True, family__in=_families_of(version)).select_related(
            "family", "version__dataset"
        )
    )
    if not designations:
        return missing("No model family with a designated evaluation set covers this version yet.")
    allowed_synthetic = use == Use.RED_TEAM
    bad = [d for d in designations if not d.is_real and not allowed_synthetic]
    shown = bad[0] if bad else designations[0]
    names = ", ".join(f"{d.family} → {d.version}" for d in designations)
    return CheckResult(
        Status.FAIL if bad else Status.PASS,
        f"Evaluation set not real (red-team cell) for {shown.family}" if bad else f"Real evaluation sets: {names}",
        value=len(designations) - len(bad), threshold=len(designations),
        evidence_url=reverse("modelfamily-page", args=[shown.family_id]),
    )


@careful_check("E", "E.leakage_clean", "The latest leakage scan covering this version found no leaks")
def leakage_clean(version, use, params):
    scans = selectors.latest_scans_covering(version)
    if not scans:
        return missing("No completed leakage scan covers this version.")
    leaky = [scan for scan in scans if scan.total_pairs]
    shown = leaky[0] if leaky else scans[0]
    verdict = selectors.scan_failure(shown) if leaky else (
        f"{len(scans)} scan(s) clean: 0 exact, near or seed pairs over {shown.eval_items} eval items"
    )
    return CheckResult(
        Status.FAIL if leaky else Status.PASS, verdict, value=sum(s.total_pairs for s in scans), threshold=0,
        evidence_url=reverse("leakagescan-page", args=[shown.pk]),
        evidence={"scans": [s.pk for s in scans]},
    )


@careful_check("E", "E.generator_provenance", "No eval item shares the training data's generator lineage")
def generator_provenance(version, use, params):
    checks = selectors.latest_provenance_checks_covering(version)
    if not checks:
        return missing("No generator-provenance check covers this version.")
    failed = [check for check in checks if not check.passed]
    shown = failed[0] if failed else checks[0]
    return CheckResult(
        Status.FAIL if failed else Status.PASS,
        selectors.provenance_failure(shown) if failed else f"{len(checks)} provenance check(s) clean",
        value=sum(c.synthetic_eval_items + c.shared_generator_items for c in checks), threshold=0,
        evidence_url=reverse("provenancecheck-page", args=[shown.pk]),
        evidence={"checks": [c.pk for c in checks]},
    )
