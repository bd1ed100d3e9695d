"""CAREFUL R evidence: per-example lineage, read from the version's stored
aggregates (VersionLineage, written by each ingestion); one or two queries,
never a recount of examples."""
from django.urls import reverse

from scorecard.checks import CheckResult, Status, careful_check, missing

from .models import PromptTemplate, VersionLineage


def _lineage(version):
    lineage = VersionLineage.objects.filter(version=version).first()
    return lineage if lineage and lineage.total else None


def _evidence_url(version):
    return reverse("lineage-page", args=[version.dataset.slug, version.number])


@careful_check("R", "R.lineage_complete", "Every synthetic row has complete lineage")
def lineage_complete(version, use, params):
    """Complete: generator, prompt, seed, sampling params and intended use.
    params: {"min_share": 1.0} (the book asks for every row)."""
    lineage = _lineage(version)
    if lineage is None:
        return missing("No examples ingested yet: no lineage to check.", evidence_url=_evidence_url(version))
    threshold = params.get("min_share", 1.0)
    if not lineage.synthetic:
        return CheckResult(Status.PASS, f"No synthetic rows among {lineage.total:,}: nothing generated to trace",
                           value=None, threshold=threshold, evidence_url=_evidence_url(version))
    share = lineage.completeness
    incomplete = lineage.synthetic - lineage.synthetic_complete
    verdict = (f"{share:.0%} of {lineage.synthetic:,} synthetic rows traced" if not incomplete else
               f"{incomplete:,} of {lineage.synthetic:,} synthetic rows lack a seed, sampling params or intended use")
    return CheckResult(
        Status.PASS if share >= threshold else Status.FAIL, verdict, value=round(share, 4), threshold=threshold,
        evidence_url=_evidence_url(version),
        evidence={"synthetic": lineage.synthetic, "synthetic_complete": lineage.synthetic_complete},
    )


@careful_check("R", "R.templates_versioned", "Prompts come from the versioned template store")
def templates_versioned(version, use, params):
    """Every template the examples reference is a stored, versioned template
    (a foreign key guarantees it); rows carrying only a prompt hash warn."""
    lineage = _lineage(version)
    if lineage is None:
        return missing("No examples ingested yet: no prompts to check.", evidence_url=_evidence_url(version))
    if not lineage.synthetic:
        return CheckResult(Status.PASS, "No synthetic rows: no prompts to version", evidence_url=_evidence_url(version))
    templates = [str(t) for t in PromptTemplate.objects.filter(pk__in=[int(k) for k in lineage.by_template])]
    hash_only = lineage.prompt_hash_only
    if hash_only:
        status = Status.WARN
        verdict = f"{hash_only:,} synthetic rows carry only a prompt hash, no stored template"
    else:
        status = Status.PASS
        verdict = f"All {lineage.synthetic:,} synthetic rows use stored templates: {', '.join(templates)}"
    return CheckResult(status, verdict, value=hash_only, threshold=0, evidence_url=_evidence_url(version),
                       evidence={"templates": templates})
