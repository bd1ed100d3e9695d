"""The CAREFUL scorecard of a version for a use, computed from evidence.

Each letter takes the worst status of the checks its use cell's policy
requires; a required code no app has registered yet is "missing evidence: no
evidence source yet". Evidence, not intention: a required letter *blocks*
(approval, use authorization, the CLI) when it fails **or when its evidence is
missing**, unless a governance reviewer who is not the version's author
recorded a waiver for that letter, valid today and given for the current
manifest hash; the letter then shows "waived", with who, why and until when.
A waiver never covers a failure a governance rule decides itself (state,
prohibited use, passed expiry), nor a missing real anchor.

Queries are constant in the number of examples: checks read stored aggregates
and evidence rows. History: ``record_snapshot`` writes a row only when the
verdict changed; it runs on every view (page, API, badge, CLI) and after
commits that change catalog evidence (manifest, lineage aggregates, sign-offs,
state changes; see receivers.py).
"""
import datetime
import hashlib
import json
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from registry import audit, permissions
from registry.choices import Use
from registry.errors import Conflict
from registry.models import DatasetVersion

from .checks import CHECKS, LETTERS, SEVERITY, CheckResult, Status, missing, title_of, worst
from .models import NOT_REQUIRED, STATUS_CHAR, ScorecardPolicy, ScorecardSnapshot, Waiver
from .policy_defaults import default_policy


@dataclass
class CheckRow(CheckResult):
    """A check's result as the scorecard shows it: with its code, title and
    whether any app provides it yet."""

    code: str = ""
    title: str = ""
    has_source: bool = True

    def as_dict(self):
        return {"code": self.code, "title": self.title, "status": str(self.status), "verdict": self.verdict,
                "value": self.value, "threshold": self.threshold, "evidence_url": self.evidence_url,
                "evidence": self.evidence, "has_source": self.has_source, "decided_by": self.decided_by}


@dataclass
class LetterRow:
    letter: str
    question: str
    checks: list
    status: str = NOT_REQUIRED
    verdict: str = ""
    blocking: bool = False
    # Blocking on evidence alone, leaving out failures a governance rule already decides.
    blocking_on_evidence: bool = False
    # The waiver that covers this letter now, or the latest one that no longer does.
    waiver: object = None
    underlying: str = ""  # the status a waiver covers
    lapsed_waiver: object = None
    lapsed_because: str = ""

    @property
    def required(self):
        return bool(self.checks)

    def as_dict(self):
        return {"letter": self.letter, "question": self.question, "required": self.required,
                "status": str(self.status), "verdict": self.verdict, "blocking": self.blocking,
                "waiver": waiver_dict(self.waiver) if self.waiver else None,
                "lapsed_waiver": ({**waiver_dict(self.lapsed_waiver), "problem": self.lapsed_because}
                                  if self.lapsed_waiver else None),
                "checks": [check.as_dict() for check in self.checks]}


def waiver_dict(waiver):
    return {"id": waiver.pk, "letter": waiver.letter, "reason": waiver.reason,
            "expires_at": waiver.expires_at.isoformat(), "granted_by": waiver.granted_by.get_username(),
            "created_at": waiver.created_at.isoformat(), "manifest_hash": waiver.manifest_hash}


@dataclass
class Scorecard:
    version: DatasetVersion
    use: str
    policy: ScorecardPolicy
    letters: list

    @property
    def failing(self):
        return [row.letter for row in self.letters if row.blocking]

    @property
    def allowed(self):
        return not self.failing

    @property
    def failing_on_evidence(self):
        return [row.letter for row in self.letters if row.blocking_on_evidence]

    @property
    def code(self):
        """One character per letter: p w m f, or - where the cell requires nothing."""
        return "".join(STATUS_CHAR.get(row.status, "-") for row in self.letters)

    @property
    def signature(self):
        statuses = {row.letter: str(row.status) for row in self.letters}
        statuses.update({check.code: str(check.status) for row in self.letters for check in row.checks})
        return hashlib.sha256(json.dumps(statuses, sort_keys=True).encode()).hexdigest()

    def as_dict(self):
        version = self.version
        return {
            "dataset": version.dataset.slug, "version": version.number, "version_id": version.pk,
            "state": version.state, "use": self.use, "allowed": self.allowed, "failing_letters": self.failing,
            "code": self.code,
            "policy": {"use_cell": self.policy.use_cell, "harm": self.policy.harm,
                       "cheap_verifier": self.policy.cheap_verifier,
                       "max_synthetic_ratio": self.policy.max_synthetic_ratio},
            "letters": [row.as_dict() for row in self.letters],
        }


def validate_use(use):
    if use not in Use.values:
        raise ValidationError({"use": f"Unknown use {use!r}; choose from {', '.join(Use.values)}."})
    return use


def policy_for(manifest, use):
    """The stored policy of the manifest's cell for ``use`` (one query); the
    shipped default if governance deleted that row."""
    cell = {"use_cell": use, "harm": manifest.harm_if_wrong, "cheap_verifier": manifest.cheap_verifier}
    policy = ScorecardPolicy.objects.filter(**cell).first()
    if policy is None:
        checks, ratio, notes = default_policy(use, manifest.harm_if_wrong, manifest.cheap_verifier)
        policy = ScorecardPolicy(**cell, checks=checks, max_synthetic_ratio=ratio, notes=notes)
    return policy


def loaded_version(version):
    """The version with everything the catalog checks read (two queries)."""
    return (
        DatasetVersion.objects.select_related("dataset__tenant", "manifest__real_anchor", "manifest__owner")
        .prefetch_related("manifest__tenant_scope").get(pk=version.pk)
    )


def _run_check(code, version, use, params):
    spec = CHECKS.get(code)
    if spec is None:
        result = missing("No evidence source yet: no app provides this check.")
    else:
        result = spec.func(version, use, params)
    fields = {**vars(result), "status": Status(result.status)}
    return CheckRow(**fields, code=code, title=title_of(code), has_source=spec is not None)


def _letter_verdict(row):
    shown = max(row.checks, key=lambda check: SEVERITY[check.status])
    if shown.status == Status.PASS and len(row.checks) > 1:
        return f"All {len(row.checks)} checks pass."
    others = sum(1 for check in row.checks if check.status == shown.status) - 1
    return shown.verdict + (f" (+{others} more {shown.status.label.lower()})" if others else "")


def _blocks(checks):
    """Evidence, not intention: a failing or a missing check blocks alike."""
    return any(check.status in (Status.FAIL, Status.MISSING) for check in checks)


# A letter whose blocking check is one of these cannot be waived: without a real
# anchor there is nothing to measure against.
UNWAIVABLE_CHECKS = {"A.real_anchor"}


def waivable(row):
    """Whether a waiver may cover ``row``'s block: only evidence the registry
    measures, not governance decisions or a missing anchor."""
    blocking = [check for check in row.checks if check.status in (Status.FAIL, Status.MISSING)]
    return all(not check.decided_by and check.code not in UNWAIVABLE_CHECKS for check in blocking)


def _apply_waivers(row, waivers, manifest_hash, today):
    """Turn a blocking letter into "waived" if a waiver covers it today."""
    if not row.blocking:
        return
    for waiver in waivers:
        problem = waiver.problem(manifest_hash, today)
        if not problem and waivable(row):
            row.underlying, row.status, row.waiver = row.status, Status.WAIVED, waiver
            row.blocking = row.blocking_on_evidence = False
            row.verdict = (f"Waived by {waiver.granted_by} until {waiver.expires_at.isoformat()}: {waiver.reason} "
                           f"(evidence: {row.verdict})")
            return
        if row.lapsed_waiver is None:
            row.lapsed_waiver, row.lapsed_because = waiver, problem or "not waivable"
    if row.lapsed_waiver is not None:
        row.verdict += f" (waiver #{row.lapsed_waiver.pk} {row.lapsed_because})"


def compute_scorecard(version, use):
    """The seven letters of ``version`` for ``use``, each with its required
    checks (status, value, threshold, verdict, evidence link)."""
    validate_use(use)
    version = loaded_version(version)
    policy = policy_for(version.manifest, use)
    cell = {"use": use, "harm": policy.harm, "cheap_verifier": policy.cheap_verifier,
            "max_synthetic_ratio": policy.max_synthetic_ratio}
    required = policy.required_by_letter()
    waivers = _waivers_by_letter(version)
    today = timezone.localdate()
    letters = []
    for letter, question in LETTERS.items():
        row = LetterRow(letter, question, [
            _run_check(code, version, use, {**policy.checks[code], "cell": cell}) for code in required.get(letter, [])
        ])
        if row.required:
            row.status = worst(check.status for check in row.checks)
            row.verdict = _letter_verdict(row)
            row.blocking = _blocks(row.checks)
            row.blocking_on_evidence = _blocks([check for check in row.checks if not check.decided_by])
            _apply_waivers(row, waivers.get(letter, []), version.manifest.content_hash, today)
        else:
            row.verdict = f"Not required for {Use(use).label.lower()}."
        letters.append(row)
    return Scorecard(version=version, use=use, policy=policy, letters=letters)


def _waivers_by_letter(version):
    """{letter: [waiver, newest first]} of the version (one query)."""
    grouped = {}
    for waiver in Waiver.objects.filter(version=version).select_related("granted_by", "revoked_by").order_by(
            "-created_at", "-id"):
        grouped.setdefault(waiver.letter, []).append(waiver)
    return grouped


def failing_letters(version, use):
    """Letters whose evidence blocks ``use`` of ``version``: governance refuses
    approval and use authorization while any remain. Failures a governance rule
    decides itself (state, prohibited or unintended use, passed expiry) are
    left out, as governance lists them under their own reason; the scorecard,
    its badge and the CLI still count them."""
    return compute_scorecard(version, use).failing_on_evidence


def render_summary_html(version, use, scorecard=None):
    """Seven coloured letters linking to the scorecard page (admin, review queue)."""
    scorecard = scorecard or compute_scorecard(version, use)
    return render_to_string("scorecard/_summary.html", {"scorecard": scorecard, "letters": scorecard.letters})


def _latest_snapshot(version, use):
    return ScorecardSnapshot.objects.filter(version=version, use=use).order_by("-created_at", "-id").first()


def record_snapshot(version, use, scorecard=None):
    """Store the scorecard of (version, use) if its verdict changed since the
    latest snapshot; returns (snapshot, created)."""
    scorecard = scorecard or compute_scorecard(version, use)
    latest = _latest_snapshot(version, use)
    if latest is not None and latest.signature == scorecard.signature:
        return latest, False
    with transaction.atomic():
        # Serialise writers of one version, then re-check: two views racing write one row.
        DatasetVersion.objects.select_for_update().filter(pk=version.pk).first()
        latest = _latest_snapshot(version, use)
        if latest is not None and latest.signature == scorecard.signature:
            return latest, False
        policy = scorecard.policy
        snapshot = ScorecardSnapshot.objects.create(
            version_id=version.pk, use=use, code=scorecard.code, signature=scorecard.signature,
            letters={row.letter: str(row.status) for row in scorecard.letters},
            checks={check.code: {"status": str(check.status), "verdict": check.verdict, "value": check.value,
                                 "threshold": check.threshold}
                    for row in scorecard.letters for check in row.checks},
            failing=scorecard.failing, policy=policy if policy.pk else None,
            policy_updated_at=policy.updated_at if policy.pk else None,
        )
    return snapshot, True


def computed_and_recorded(version, use):
    """What every view does: compute the live scorecard and record it if it changed."""
    scorecard = compute_scorecard(version, use)
    record_snapshot(scorecard.version, use, scorecard)
    return scorecard


def uses_to_watch(version):
    """The uses whose history a version keeps after evidence changes: its cell and intended uses."""
    manifest = version.manifest
    return sorted({manifest.use_cell, *manifest.intended_uses} & set(Use.values))


@transaction.atomic
def update_policy(*, actor, policy, **changes):
    """Change a cell's policy (policy admins: it gates every tenant); validated, with history."""
    permissions.require(actor, "edit_policy", ScorecardPolicy, message="Only policy admins change the scorecard policy.")
    if policy.pk:
        policy = ScorecardPolicy.objects.select_for_update().get(pk=policy.pk)
    for name, value in changes.items():
        setattr(policy, name, value)
    policy.full_clean()
    policy._history_user = actor
    policy.save()
    return policy


# -- Waivers --------------------------------------------------------------------

# A waiver is a stopgap while evidence is produced, not a standing exemption.
MAX_WAIVER_DAYS = 90


def _blocked_letter_rows(version, letter):
    """(use, row) for each watched use in which ``letter`` blocks the version now."""
    rows = []
    for use in uses_to_watch(version):
        row = next(r for r in compute_scorecard(version, use).letters if r.letter == letter)
        if row.blocking or row.status == Status.WAIVED:
            rows.append((use, row))
    return rows


@transaction.atomic
def grant_waiver(*, actor, version, letter, reason, expires_at):
    """Record that ``letter``'s missing or failing evidence does not block
    ``version`` until ``expires_at``, for its current manifest. A governance
    reviewer of the tenant who neither created nor submitted the version."""
    version = DatasetVersion.objects.select_for_update(of=("self",)).select_related("dataset__tenant", "manifest").get(
        pk=version.pk)
    permissions.require(actor, "waive", version,
                        message=f"Only governance reviewers of {version.dataset.tenant.slug} record waivers.")
    if actor.pk in (version.created_by_id, version.submitted_by_id):
        raise PermissionDenied("You created or submitted this version; someone else must decide on a waiver.")
    if letter not in LETTERS:
        raise ValidationError({"letter": f"Choose one of {', '.join(LETTERS)}."})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the evidence may be missing (and what will produce it)."})
    today = timezone.localdate()
    latest = today + datetime.timedelta(days=MAX_WAIVER_DAYS)
    if not isinstance(expires_at, datetime.date) or expires_at < today:
        raise ValidationError({"expires_at": "A waiver needs an expiry date, today or later (YYYY-MM-DD)."})
    if expires_at > latest:
        raise ValidationError({"expires_at": f"At most {MAX_WAIVER_DAYS} days ahead ({latest.isoformat()})."})
    manifest = version.manifest
    if manifest.expires_at is not None and expires_at > manifest.expires_at:
        raise ValidationError({"expires_at": f"Not beyond the version's own expiry ({manifest.expires_at.isoformat()})."})
    blocked = _blocked_letter_rows(version, letter)
    if not blocked:
        raise ValidationError({"letter": f"{letter} blocks no use of {version}: there is nothing to waive."})
    unwaivable = [use for use, row in blocked if not waivable(row)]
    if unwaivable:
        raise ValidationError({"letter": (
            f"{letter} cannot be waived for {', '.join(unwaivable)}: its block is a governance decision or a "
            "missing real anchor, which no waiver replaces.")})
    waiver = Waiver.objects.create(version=version, letter=letter, reason=reason, expires_at=expires_at,
                                   manifest_hash=manifest.content_hash, granted_by=actor)
    audit.record(actor=actor, action="waiver.granted", obj=waiver, tenant=version.dataset.tenant,
                 label=f"{version} letter {letter}",
                 detail=f"until {expires_at.isoformat()} for manifest {manifest.content_hash[:12]}: {reason}")
    return waiver


@transaction.atomic
def revoke_waiver(*, actor, waiver, reason):
    waiver = Waiver.objects.select_for_update(of=("self",)).select_related("version__dataset__tenant").get(pk=waiver.pk)
    permissions.require(actor, "waive", waiver.version,
                        message=f"Only governance reviewers of {waiver.version.dataset.tenant.slug} revoke waivers.")
    if waiver.revoked_at is not None:
        raise Conflict(f"Waiver #{waiver.pk} was already revoked.", code="waiver_revoked")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the waiver ends early."})
    waiver.revoked_at, waiver.revoked_by, waiver.revoke_reason = timezone.now(), actor, reason
    waiver.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    audit.record(actor=actor, action="waiver.revoked", obj=waiver, tenant=waiver.version.dataset.tenant,
                 label=f"{waiver.version} letter {waiver.letter}", detail=reason)
    return waiver
