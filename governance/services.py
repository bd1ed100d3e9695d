"""The approval workflow, use authorization and the lifecycle jobs.

Every state change of a dataset version goes through one function here. Each
runs in ``transaction.atomic()``, locks the version row (``select_for_update``)
before it reads the state, refuses illegal moves with ``Conflict``, records who,
when and why (a Transition row and the version's history), and sends
``registry.signals.version_state_changed`` inside the transaction; e-mails go
out only after commit.

Approval is automatic: the sign-off that completes the required roles (for the
current manifest hash) approves the version in the same transaction, unless the
scorecard still fails a letter; ``approve`` is the explicit form of the same
step, for when the scorecard or the policy changed after the last sign-off.
"""
import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from registry import permissions
from registry.choices import Role, Use, VersionState
from registry.errors import Conflict, NotFound
from registry.models import DatasetVersion, Membership, Tenant
from registry.services import save_with_history
from registry.signals import version_state_changed, versions_state_changed

from . import selectors
from .models import (
    Channel, Decision, ExpiryNotice, ExportRecord, Notice, NoticeKind, SignOff, SignOffRequirement, Transition,
    UseDecision,
)

# action -> (states it starts from, state it ends in)
TRANSITIONS = {
    "submit": ({VersionState.DRAFT}, VersionState.IN_REVIEW),
    "approve": ({VersionState.IN_REVIEW}, VersionState.APPROVED),
    "request_changes": ({VersionState.IN_REVIEW}, VersionState.DRAFT),
    "reject": ({VersionState.IN_REVIEW}, VersionState.RETIRED),
    "suspend": ({VersionState.APPROVED}, VersionState.SUSPENDED),
    "reinstate": ({VersionState.SUSPENDED}, VersionState.APPROVED),
    "retire": (set(VersionState) - {VersionState.RETIRED}, VersionState.RETIRED),
    "expire": ({VersionState.APPROVED}, VersionState.EXPIRED),
}
ACTION_LABELS = {
    "submit": "submitted for review", "approve": "approved", "request_changes": "sent back for changes",
    "reject": "rejected", "suspend": "suspended", "reinstate": "reinstated", "retire": "retired",
    "expire": "expired",
}
NOTICE_KINDS = {
    "approve": NoticeKind.APPROVED, "request_changes": NoticeKind.CHANGES_REQUESTED, "reject": NoticeKind.REJECTED,
    "suspend": NoticeKind.SUSPENDED, "retire": NoticeKind.RETIRED,
}
EXPIRY_CHUNK = 1000


# Building blocks

def _lock(version):
    try:
        # of=self: lock the version row only (the manifest join is nullable for PostgreSQL).
        locked = DatasetVersion.objects.select_for_update(of=("self",)).select_related("dataset", "manifest")
        return locked.get(pk=version.pk)
    except DatasetVersion.DoesNotExist:
        raise NotFound("No such version.")


def _check_state(version, action, sources=None):
    sources = sources or TRANSITIONS[action][0]
    if version.state not in sources:
        needs = " or ".join(sorted(VersionState(s).label.lower() for s in sources))
        raise Conflict(
            f"Cannot {action.replace('_', ' ')} {version}: it is {version.get_state_display().lower()}"
            f" (needs {needs}).",
            code=f"illegal_{action}",
        )


def _require_text(field, value, what):
    if not (value or "").strip():
        raise ValidationError({field: f"A {what} is required."})
    return value.strip()


def _check_governor(actor, version, action):
    permissions.require(actor, action, version, message=(
        f"Only governance staff of {version.dataset.tenant.slug} may {action.replace('_', ' ')} {version}."))


def _move(version, action, *, actor, reason="", **fields):
    """Change the state, write the Transition and history, send the signal."""
    old_state, new_state = version.state, TRANSITIONS[action][1]
    now = timezone.now()
    version.state, version.state_changed_at = new_state, now
    for name, value in fields.items():
        setattr(version, name, value)
    save_with_history(version, actor, ACTION_LABELS[action] + (f": {reason}" if reason else ""))
    Transition.objects.create(
        version=version, from_state=old_state, to_state=new_state, actor=actor, action=action, reason=reason, at=now
    )
    version_state_changed.send(
        sender=DatasetVersion, version=version, old_state=old_state, new_state=new_state, actor=actor, reason=reason
    )
    return version


def notify(*, users, kind, message, version=None, email_subject=None):
    """In-app notices now (they commit with the caller's transaction); e-mail
    after commit, so a rolled-back action never mails anyone."""
    users = {user.pk: user for user in users if user is not None}.values()
    Notice.objects.bulk_create([Notice(user=user, kind=kind, message=message, version=version) for user in users])
    recipients = sorted({user.email for user in users if user.email})
    if email_subject and recipients:
        transaction.on_commit(lambda: send_mail(email_subject, message, None, recipients, fail_silently=True))


def mark_notices_read(*, user, notice_ids=None):
    """Mark the user's unread notices (all, or those listed) read; returns how many."""
    notices = Notice.objects.filter(user=user, read_at__isnull=True)
    if notice_ids is not None:
        notices = notices.filter(pk__in=notice_ids)
    return notices.update(read_at=timezone.now())


def _owners(version):
    return [version.dataset.owner, version.manifest.owner, version.submitted_by]


def _reviewers(version):
    roles = selectors.required_roles(version.manifest.use_cell)
    memberships = Membership.objects.filter(tenant_id=version.dataset.tenant_id, role__in=roles).select_related("user")
    return [m.user for m in memberships if m.user_id != version.submitted_by_id]


def _notify_owners(version, action, reason):
    message = f"{version} was {ACTION_LABELS[action]}" + (f": {reason}" if reason else ".")
    notify(users=_owners(version), kind=NOTICE_KINDS[action], message=message, version=version,
           email_subject=f"[Careful Registry] {version} {ACTION_LABELS[action]}")


# The workflow

@transaction.atomic
def submit_for_review(*, actor, version, comment=""):
    """Draft -> in review. Needs a writer of the dataset and a complete purpose worksheet."""
    version = _lock(version)
    permissions.require(actor, "submit", version,
                        message="Only contributors of this dataset's tenant may submit it for review.")
    _check_state(version, "submit")
    manifest = getattr(version, "manifest", None)
    if manifest is None:
        raise ValidationError({"manifest": "A version needs a manifest before review."})
    if not manifest.purpose_complete:
        missing = [name for name in manifest.PURPOSE_FIELDS if not getattr(manifest, name).strip()]
        raise ValidationError({name: "The purpose worksheet must be complete before review." for name in missing})
    _move(version, "submit", actor=actor, reason=comment.strip(), submitted_by=actor)
    notify(users=_reviewers(version), kind=NoticeKind.REVIEW_REQUESTED,
           message=f"{version} waits for your review (submitted by {actor}).", version=version,
           email_subject=f"[Careful Registry] {version} waits for review")
    return version


def _check_reviewer(actor, version, role, decision):
    """The separation-of-duties rules, checked under the version's row lock.
    A reviewer who approved may still send the version back or reject it."""
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}."})
    required = selectors.required_roles(version.manifest.use_cell)
    if role not in required:
        raise ValidationError({"role": f"{version} does not need a {role} sign-off (needs {', '.join(required)})."})
    if role not in permissions.roles_in(actor, version.dataset.tenant):
        raise PermissionDenied(f"You are not a {Role(role).label.lower()} of {version.dataset.tenant.slug}.")
    if version.submitted_by_id == actor.pk:
        raise PermissionDenied("You submitted this version; someone else must sign it off.")
    if decision != Decision.APPROVE:
        return
    approvals = selectors.current_approvals(version)
    mine = [s.role for s in approvals.values() if s.reviewer_id == actor.pk]
    if mine:
        raise Conflict(
            f"You already signed off {version} as {mine[0]}; one person cannot fill two required roles.",
            code="one_role_per_person",
        )
    if role in approvals:
        raise Conflict(f"The {role} sign-off for this manifest was already given by {approvals[role].reviewer}.",
                       code="role_already_signed")


def _reviewer_role(actor, version):
    """The required role ``actor`` would sign as: the first open one they hold."""
    held = permissions.roles_in(actor, version.dataset.tenant)
    approvals = selectors.current_approvals(version)
    required = selectors.required_roles(version.manifest.use_cell)
    candidates = [r for r in required if r in held and r not in approvals] or [r for r in required if r in held]
    if not candidates:
        raise PermissionDenied(f"You hold none of the roles {version} needs ({', '.join(required)}).")
    return candidates[0]


@transaction.atomic
def sign_off(*, actor, version, decision, comment="", role=None):
    """Record a reviewer's decision for the current manifest hash.

    approve: counts toward the required roles, and approves the version when it
    completes them; request_changes: back to draft; reject: the version is
    retired with the comment as its reason. Refusals need a comment."""
    version = _lock(version)
    if decision not in Decision.values:
        raise ValidationError({"decision": f"Choose one of {', '.join(Decision.values)}."})
    _check_state(version, "sign_off", sources={VersionState.IN_REVIEW})
    _check_governor(actor, version, "sign_off")
    role = role or _reviewer_role(actor, version)
    _check_reviewer(actor, version, role, decision)
    if decision != Decision.APPROVE:
        comment = _require_text("comment", comment, "comment explaining the decision")
    signoff = SignOff.objects.create(
        version=version, reviewer=actor, role=role, decision=decision, comment=(comment or "").strip(),
        manifest_hash=version.manifest.content_hash,
    )
    if decision == Decision.APPROVE:
        _approve_if_ready(version, actor)
    elif decision == Decision.REQUEST_CHANGES:
        _move(version, "request_changes", actor=actor, reason=comment)
        _notify_owners(version, "request_changes", comment)
    else:
        _move(version, "reject", actor=actor, reason=comment, retired_reason=f"Rejected in review: {comment}")
        _notify_owners(version, "reject", comment)
    return signoff


def _approval_blockers(version):
    status = selectors.signoff_status(version)
    blockers = []
    if status.missing:
        blockers.append(f"missing sign-off(s) for this manifest: {', '.join(status.missing)}")
    reviewers = [s.reviewer_id for s in status.approvals.values() if s.role in status.required]
    if len(set(reviewers)) != len(reviewers):
        blockers.append("one person filled two required roles")
    if selectors.expiry_passed(version.manifest):
        blockers.append(f"its expiry date {version.manifest.expires_at.isoformat()} has passed")
    try:
        letters = selectors.failing_letters(version, version.manifest.use_cell)
    except selectors.ScorecardUnavailable as error:
        blockers.append(f"the CAREFUL scorecard could not be computed ({error})")
    else:
        if letters:
            blockers.append(f"CAREFUL letter(s) {', '.join(letters)} do not pass for {version.manifest.use_cell}")
    return blockers


def _approve_if_ready(version, actor):
    if _approval_blockers(version):
        return False
    _move(version, "approve", actor=actor, reason="all required sign-offs given")
    _notify_owners(version, "approve", "")
    return True


@transaction.atomic
def approve(*, actor, version, comment=""):
    """In review -> approved, when every required role approved the current
    manifest and the scorecard (if any) passes for the use cell."""
    version = _lock(version)
    _check_state(version, "approve")
    _check_governor(actor, version, "approve")
    if version.submitted_by_id == actor.pk:
        raise PermissionDenied("You submitted this version; someone else must approve it.")
    blockers = _approval_blockers(version)
    if blockers:
        raise Conflict(f"Cannot approve {version}: " + "; ".join(blockers) + ".", code="approval_blocked")
    _move(version, "approve", actor=actor, reason=comment.strip() or "all required sign-offs given")
    _notify_owners(version, "approve", comment.strip())
    return version


def request_changes(*, actor, version, comment, role=None):
    """In review -> draft, recorded as the reviewer's sign-off."""
    sign_off(actor=actor, version=version, decision=Decision.REQUEST_CHANGES, comment=comment, role=role)
    return DatasetVersion.objects.get(pk=version.pk)


def reject(*, actor, version, comment, role=None):
    """In review -> retired: this content will not be approved (comment required)."""
    sign_off(actor=actor, version=version, decision=Decision.REJECT, comment=comment, role=role)
    return DatasetVersion.objects.get(pk=version.pk)


def _staff_move(*, actor, version, action, reason):
    """A governance-staff action that needs a reason (suspend, retire)."""
    version = _lock(version)
    _check_state(version, action)
    _check_governor(actor, version, action)
    reason = _require_text("reason", reason, "reason")
    fields = {"retired_reason": reason} if action == "retire" else {}
    _move(version, action, actor=actor, reason=reason, **fields)
    _notify_owners(version, action, reason)
    return version


@transaction.atomic
def suspend(*, actor, version, reason):
    """Approved -> suspended: no use is authorized until reinstated."""
    return _staff_move(actor=actor, version=version, action="suspend", reason=reason)


@transaction.atomic
def reinstate(*, actor, version, comment=""):
    """Suspended -> approved, unless it expired meanwhile (then only retirement is left)."""
    version = _lock(version)
    _check_state(version, "reinstate")
    _check_governor(actor, version, "reinstate")
    if selectors.expiry_passed(version.manifest):
        raise Conflict(f"{version} passed its expiry date {version.manifest.expires_at.isoformat()} while suspended;"
                       " retire it.", code="expired_while_suspended")
    return _move(version, "reinstate", actor=actor, reason=comment.strip())


@transaction.atomic
def retire_version(*, actor, version, reason):
    """Any state -> retired. The record and its history stay; every use is refused."""
    return _staff_move(actor=actor, version=version, action="retire", reason=reason)


# The clock

def _claim_due(today, limit):
    """Compare-and-set: flip up to ``limit`` approved versions whose expiry date
    is before ``today`` to expired, in one UPDATE, and return the claimed ids.
    A version a concurrent action moved (suspended, retired) no longer matches
    ``state = approved`` when the UPDATE re-checks it, so it is left alone."""
    version_table = DatasetVersion._meta.db_table
    manifest_table = DatasetVersion.manifest.related.related_model._meta.db_table
    sql = (
        f"UPDATE {version_table} SET state = %s, state_changed_at = %s "
        f"WHERE state = %s AND id IN (SELECT m.version_id FROM {manifest_table} m "
        f"JOIN {version_table} v ON v.id = m.version_id WHERE v.state = %s AND m.expires_at < %s LIMIT %s) "
        "RETURNING id"
    )
    now = timezone.now()
    approved, expired = VersionState.APPROVED.value, VersionState.EXPIRED.value
    with connection.cursor() as cursor:
        cursor.execute(sql, [expired, now, approved, approved, today, limit])
        return [row[0] for row in cursor.fetchall()], now


def expire_due_versions(*, chunk_size=EXPIRY_CHUNK):
    """Expire every approved version past its expiry date; returns how many.

    Set-based: per chunk one UPDATE claims the rows, then one INSERT each writes
    their Transition rows, their history rows (bulk paths write no history by
    themselves) and the owners' notices. Each chunk is one transaction, so a
    crash loses nothing: committed chunks are complete, the rest is claimed by
    the next run. Running it again changes nothing more."""
    today = timezone.localdate()
    total = 0
    while True:
        with transaction.atomic():
            claimed, now = _claim_due(today, chunk_size)
            if not claimed:
                return total
            _record_expiry(claimed, now)
        total += len(claimed)


def _record_expiry(claimed, now):
    versions = list(
        DatasetVersion.objects.filter(pk__in=claimed).select_related("dataset", "dataset__owner", "manifest__owner")
    )
    reason = "expiry date passed"
    Transition.objects.bulk_create([
        Transition(version=v, from_state=VersionState.APPROVED, to_state=VersionState.EXPIRED, action="expire",
                   reason=reason, at=now)
        for v in versions
    ])
    DatasetVersion.history.bulk_history_create(versions, update=True, default_change_reason=f"expired: {reason}",
                                               default_date=now)
    Notice.objects.bulk_create([
        Notice(user=user, kind=NoticeKind.EXPIRED, version=v,
               message=f"{v} expired on {v.manifest.expires_at.isoformat()}; it may no longer be used.")
        for v in versions for user in {v.dataset.owner, v.manifest.owner}
    ])
    # One signal for the chunk: receivers work in bulk (a per-version signal cost a scorecard each).
    versions_state_changed.send(sender=DatasetVersion, versions=versions, old_state=VersionState.APPROVED,
                                new_state=VersionState.EXPIRED, actor=None, reason=reason)


def notify_expiring(days=None):
    """Tell owners (notice + e-mail) that an approved version expires within
    ``days`` (settings.EXPIRY_NOTICE_DAYS); once per version and expiry date.
    One transaction per version: a crash re-sends nothing already claimed."""
    days = settings.EXPIRY_NOTICE_DAYS if days is None else days
    today = timezone.localdate()
    already_sent = ExpiryNotice.objects.filter(version=OuterRef("pk"), expires_at=OuterRef("manifest__expires_at"))
    due = selectors.expiring_between(today, today + datetime.timedelta(days=days)).filter(~Exists(already_sent))
    sent = 0
    for version in due.select_related("dataset", "dataset__owner", "manifest", "manifest__owner"):
        with transaction.atomic():
            _, created = ExpiryNotice.objects.get_or_create(version=version, expires_at=version.manifest.expires_at)
            if not created:
                continue
            left = (version.manifest.expires_at - today).days
            notify(users=[version.dataset.owner, version.manifest.owner], kind=NoticeKind.EXPIRY_SOON,
                   message=f"{version} expires on {version.manifest.expires_at.isoformat()} (in {left} days). "
                           "Regenerate or renew it before then, or it will be refused for every use.",
                   version=version, email_subject=f"[Careful Registry] {version} expires in {left} days")
            sent += 1
    return sent


# Use authorization

def authorize_use(*, actor, tenant, version, use, channel=Channel.PYTHON):
    """May ``tenant`` use ``version`` for ``use``? Logs and returns the UseDecision
    (``allowed``, ``reasons``). ``actor`` None is a trusted caller (CLI operator);
    otherwise both tenant and version must be in the actor's scope."""
    if use not in Use.values:
        raise ValidationError({"use": f"Unknown use {use!r}; choose from {', '.join(Use.values)}."})
    if actor is not None:
        if not Tenant.objects.visible_to(actor).filter(pk=tenant.pk).exists():
            raise ValidationError({"tenant": "No such tenant in your scope."})
        if not DatasetVersion.objects.visible_to(actor).filter(pk=version.pk).exists():
            raise NotFound("No such version.")
    version = DatasetVersion.objects.select_related("dataset__tenant", "manifest").get(pk=version.pk)
    denials = selectors.use_denials(version=version, tenant=tenant, use=use)
    return UseDecision.objects.create(
        asked_by=actor, tenant=tenant, version=version, use=use, allowed=not denials,
        reasons=[d.as_dict() for d in denials], channel=channel,
    )


# The sign-off policy

@transaction.atomic
def require_signoff_role(*, actor, use_cell, role):
    """Versions of ``use_cell`` need ``role``'s approval from now on (policy admins)."""
    permissions.require(actor, "edit_policy", SignOffRequirement, message="Only policy admins change the sign-off policy.")
    if use_cell not in Use.values:
        raise ValidationError({"use_cell": f"Unknown use {use_cell!r}."})
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}."})
    if SignOffRequirement.objects.filter(use_cell=use_cell, role=role).exists():
        raise ValidationError({"role": f"{use_cell} already requires {role}."})
    requirement = SignOffRequirement(use_cell=use_cell, role=role)
    save_with_history(requirement, actor, "required")
    return requirement


@transaction.atomic
def drop_signoff_role(*, actor, requirement):
    permissions.require(actor, "edit_policy", SignOffRequirement, message="Only policy admins change the sign-off policy.")
    requirement = SignOffRequirement.objects.select_for_update().get(pk=requirement.pk)
    requirement._history_user, requirement._change_reason = actor, "no longer required"
    requirement.delete()


# Exports

def record_export(*, actor, tenants, kind, object_label):
    """Log that ``actor`` downloaded ``object_label`` holding data of ``tenants``
    (one ExportRecord per tenant, so each tenant's auditors see it)."""
    ExportRecord.objects.bulk_create([
        ExportRecord(tenant=tenant, actor=actor, kind=kind, object_label=str(object_label)[:255])
        for tenant in {tenant.pk: tenant for tenant in tenants}.values()
    ])
