"""CAREFUL evidence held by governance: sign-offs given for the current manifest."""
from registry.choices import Role
from scorecard.checks import CheckResult, Status, careful_check, missing

from . import selectors
from .models import Decision, SignOff


def _latest_by_role(version):
    """The latest sign-off per role for the current manifest hash (one query)."""
    latest = {}
    for signoff in SignOff.objects.filter(version=version, manifest_hash=version.manifest.content_hash).order_by(
        "created_at", "id"
    ):
        latest[signoff.role] = signoff
    return latest


@careful_check("C", "C.legal_signoff", "Legal review signed off the current manifest")
def legal_signoff(version, use, params):
    signoff = _latest_by_role(version).get(Role.LEGAL_REVIEWER)
    if signoff is None:
        stale = SignOff.objects.filter(version=version, role=Role.LEGAL_REVIEWER, decision=Decision.APPROVE).exists()
        if stale:
            return CheckResult(Status.FAIL, "The legal sign-off was given for an earlier manifest.", value=False)
        return missing("No legal review of this manifest yet.", value=False)
    if signoff.decision != Decision.APPROVE:
        return CheckResult(Status.FAIL, f"Legal review by {signoff.reviewer}: {signoff.get_decision_display()}.",
                           value=False, evidence={"comment": signoff.comment})
    return CheckResult(Status.PASS, f"Legal review approved by {signoff.reviewer} for this manifest.", value=True,
                       evidence={"signoff_id": signoff.pk, "at": signoff.created_at.isoformat()})


@careful_check("U", "U.signoffs_complete", "Every required role signed off the current manifest")
def signoffs_complete(version, use, params):
    status = selectors.signoff_status(version)
    given = len(status.required) - len(status.missing)
    if status.complete:
        return CheckResult(Status.PASS, f"All {given} required sign-offs given for this manifest.",
                           value=given, threshold=len(status.required))
    verdict = f"{given} of {len(status.required)} required sign-offs; missing {', '.join(status.missing)}."
    # Nothing signed yet is missing evidence; a partial set fails the check.
    return CheckResult(Status.FAIL if given else Status.MISSING, verdict, value=given, threshold=len(status.required))
