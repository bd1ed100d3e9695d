"""Governance reads: sign-off status, use denials, the review queue."""
import logging
from dataclasses import dataclass

from django.utils import timezone

from registry.choices import VersionState
from registry.models import DatasetVersion, Membership

from .models import DEFAULT_REQUIRED_ROLES, Decision, SignOff, SignOffRequirement


logger = logging.getLogger(__name__)


class ScorecardUnavailable(Exception):
    """The scorecard could not be computed: every decision that needs it refuses."""


def failing_letters(version, use):
    """The CAREFUL letters that block ``use``. Fails closed: when the scorecard
    cannot be computed (a broken import, a check that crashes), it raises
    ScorecardUnavailable, which approval and use authorization turn into a refusal."""
    try:
        from scorecard.services import failing_letters as scorecard_failing

        return sorted(scorecard_failing(version, use))
    except Exception as error:
        logger.exception("scorecard of %s for %s could not be computed", version, use)
        raise ScorecardUnavailable(f"{type(error).__name__}: {error}") from error


def required_roles(use_cell, policy=None):
    """Roles whose approval a version of ``use_cell`` needs (sorted).
    ``policy`` is a prefetched {use_cell: roles} map, to spare a query per version."""
    if policy is None:
        policy = requirement_policy()
    return sorted(policy.get(use_cell) or DEFAULT_REQUIRED_ROLES)


def requirement_policy():
    policy = {}
    for use_cell, role in SignOffRequirement.objects.values_list("use_cell", "role"):
        policy.setdefault(use_cell, []).append(role)
    return policy


def current_approvals(version):
    """{role: SignOff} of approvals given for the version's current manifest hash."""
    signoffs = SignOff.objects.filter(
        version=version, decision=Decision.APPROVE, manifest_hash=version.manifest.content_hash
    ).select_related("reviewer")
    return {signoff.role: signoff for signoff in signoffs}


@dataclass(frozen=True)
class SignOffStatus:
    required: list
    approvals: dict

    @property
    def missing(self):
        return [role for role in self.required if role not in self.approvals]

    @property
    def complete(self):
        return not self.missing


def signoff_status(version, policy=None):
    return SignOffStatus(required_roles(version.manifest.use_cell, policy), current_approvals(version))


@dataclass(frozen=True)
class Denial:
    """One reason a tenant may not use a version for a use."""

    code: str
    message: str

    def __str__(self):
        return self.message

    def as_dict(self):
        return {"code": self.code, "message": self.message}


def expiry_passed(manifest):
    """A version is valid through its expiry date."""
    return manifest.expires_at is not None and manifest.expires_at < timezone.localdate()


STATE_DENIALS = {
    VersionState.DRAFT: ("not_approved", "is a draft, not approved"),
    VersionState.IN_REVIEW: ("not_approved", "is in review, not approved yet"),
    VersionState.SUSPENDED: ("suspended", "is suspended"),
    VersionState.EXPIRED: ("expired", "has expired"),
    VersionState.RETIRED: ("retired", "is retired"),
}


def use_denials(*, version, tenant, use):
    """Every reason ``tenant`` may not use ``version`` for ``use`` (empty: allowed).
    Read-only, no logging: exports and training mixes call it too."""
    manifest = version.manifest
    denials = []
    if version.state in STATE_DENIALS:
        code, text = STATE_DENIALS[version.state]
        suffix = f": {version.retired_reason}" if version.state == VersionState.RETIRED and version.retired_reason else ""
        denials.append(Denial(code, f"{version} {text}{suffix}."))
    if use in manifest.prohibited_uses:
        denials.append(Denial("use_prohibited", f"The manifest prohibits use for {use}."))
    if use not in manifest.intended_uses:
        intended = ", ".join(manifest.intended_uses) or "none"
        denials.append(Denial("use_not_intended", f"{use} is not among the intended uses ({intended})."))
    scope = {t.pk: t.slug for t in manifest.tenant_scope.all()} or {version.dataset.tenant_id: version.dataset.tenant.slug}
    if tenant.pk not in scope:
        denials.append(Denial(
            "tenant_out_of_scope", f"Tenant {tenant.slug} is outside the tenant scope ({', '.join(sorted(scope.values()))}).",
        ))
    if expiry_passed(manifest) and version.state != VersionState.EXPIRED:
        denials.append(Denial("expiry_passed", f"The expiry date {manifest.expires_at.isoformat()} has passed."))
    try:
        letters = failing_letters(version, use)
    except ScorecardUnavailable as error:
        denials.append(Denial("careful_unavailable", f"The CAREFUL scorecard could not be computed ({error}); "
                                                     "nothing is allowed until it can."))
    else:
        if letters:
            denials.append(Denial("careful_failing", f"CAREFUL letter(s) {', '.join(letters)} not passing for {use}."))
    return denials


def review_queue(user):
    """Versions in review, in tenants the user governs, waiting for a role the
    user holds and may still fill (not the submitter, no role filled yet for
    this manifest); oldest submission first. Four queries whatever its length."""
    in_review = list(
        DatasetVersion.objects.restrict(user, "sign_off")
        .filter(state=VersionState.IN_REVIEW)
        .select_related("dataset", "dataset__tenant", "manifest", "submitted_by")
        .order_by("state_changed_at", "pk")
    )
    if not in_review:
        return []
    roles_by_tenant = {}
    for tenant_id, role in Membership.objects.filter(user=user).values_list("tenant_id", "role"):
        roles_by_tenant.setdefault(tenant_id, set()).add(role)
    approvals = {}
    for signoff in SignOff.objects.filter(version__in=in_review, decision=Decision.APPROVE):
        approvals.setdefault(signoff.version_id, []).append(signoff)
    policy = requirement_policy()
    queue = []
    for version in in_review:
        current = [s for s in approvals.get(version.pk, []) if s.manifest_hash == version.manifest.content_hash]
        if version.submitted_by_id == user.pk or any(s.reviewer_id == user.pk for s in current):
            continue
        filled = {s.role for s in current}
        open_roles = set(required_roles(version.manifest.use_cell, policy)) - filled
        mine = sorted(open_roles & roles_by_tenant.get(version.dataset.tenant_id, set()))
        if mine:
            version.queue_roles = mine
            queue.append(version)
    return queue


def expiring_between(start, end):
    """Approved versions whose expiry date lies in [start, end]."""
    return DatasetVersion.objects.filter(
        state=VersionState.APPROVED, manifest__expires_at__gte=start, manifest__expires_at__lte=end
    )
