"""One read path over every governed action, for auditors.

The records already exist, each where its app keeps it: lifecycle moves
(Transition: submit, approve, suspend, retire, expire, ...), reviewers'
decisions (SignOff), use authorizations (UseDecision), bulk writes of training
data (training.AuditEntry), exports (ExportRecord), the two policies' edits
(the simple-history tables of SignOffRequirement and ScorecardPolicy) and
every other governed action (registry.AuditEvent: shares, role grants and
revocations, alert handling, review decisions, ingestions, gate runs,
waivers, generators, tenants). This module unions them into rows of (time,
actor, tenant, action, object, detail), newest first, scoped to the tenants
whose audit the user may read (the permission table's "audit" on Tenant);
registry-wide actions are shown to every auditor.
"""
import csv
import heapq
from dataclasses import astuple, dataclass, fields

from django.db.models import Q

from registry import permissions
from registry.models import AuditEvent, RegistryMembership, Tenant
from scorecard.models import ScorecardPolicy
from training.models import AuditEntry

from .models import ExportRecord, SignOff, SignOffRequirement, Transition, UseDecision

HISTORY_VERBS = {"+": "created", "~": "changed", "-": "deleted"}


@dataclass(frozen=True)
class AuditRow:
    time: object
    actor: str
    tenant: str
    action: str
    object: str
    detail: str


COLUMNS = [f.name for f in fields(AuditRow)]


def _name(user):
    return user.username if user is not None else "system"


def audited_tenants(user):
    """The tenants whose audit ``user`` may read."""
    return permissions.tenants_where(user, Tenant, "audit")


def reads_registry_events(user):
    return user.is_superuser or RegistryMembership.objects.filter(user=user).exists()


def may_read(user):
    """Whether ``user`` may open the audit log at all."""
    return audited_tenants(user).exists() or reads_registry_events(user)


def _in_audit_scope(queryset, user, path):
    return queryset.filter(**{f"{path}__in": audited_tenants(user)})


def _transitions(user):
    rows = _in_audit_scope(Transition.objects, user, "version__dataset__tenant").select_related("version__dataset__tenant", "actor").order_by("-at", "-id")
    for t in rows.iterator(chunk_size=2000):
        yield AuditRow(t.at, _name(t.actor), t.version.dataset.tenant.slug, f"transition.{t.action}", str(t.version),
                       f"{t.from_state} -> {t.to_state}" + (f": {t.reason}" if t.reason else ""))


def _signoffs(user):
    rows = _in_audit_scope(SignOff.objects, user, "version__dataset__tenant").select_related("version__dataset__tenant", "reviewer")
    for s in rows.order_by("-created_at", "-id").iterator(chunk_size=2000):
        yield AuditRow(s.created_at, _name(s.reviewer), s.version.dataset.tenant.slug, f"signoff.{s.decision}",
                       str(s.version), f"as {s.role} for manifest {s.manifest_hash[:12]}"
                       + (f": {s.comment}" if s.comment else ""))


def _use_decisions(user):
    rows = _in_audit_scope(UseDecision.objects, user, "version__dataset__tenant").select_related("version__dataset__tenant", "tenant", "asked_by")
    for d in rows.order_by("-at", "-id").iterator(chunk_size=2000):
        reasons = "; ".join(r.get("message", str(r)) if isinstance(r, dict) else str(r) for r in d.reasons)
        yield AuditRow(d.at, _name(d.asked_by), d.version.dataset.tenant.slug,
                       f"authorization.{'allowed' if d.allowed else 'denied'}", str(d.version),
                       f"{d.tenant.slug} for {d.use} via {d.channel}" + (f": {reasons}" if reasons else ""))


def _training_entries(user):
    rows = _in_audit_scope(AuditEntry.objects, user, "tenant").select_related("tenant", "actor", "version__dataset", "mix")
    for e in rows.order_by("-created_at", "-id").iterator(chunk_size=2000):
        target = e.mix or e.version
        yield AuditRow(e.created_at, _name(e.actor), e.tenant.slug, f"training.{e.action}",
                       str(target) if target else "", f"{e.rows_affected} rows")


def _exports(user):
    for x in _in_audit_scope(ExportRecord.objects, user, "tenant").select_related("tenant", "actor").iterator(
            chunk_size=2000):
        yield AuditRow(x.at, _name(x.actor), x.tenant.slug, f"export.{x.kind}", x.object_label, "")


def _events(user):
    """Tenant events to that tenant's auditors; registry-wide events (tenants,
    generators, registry roles: their actors belong to some tenant) to
    holders of a registry role only."""
    registry_wide = Q(tenant__isnull=True) if reads_registry_events(user) else Q(pk__in=[])
    scope = Q(tenant__in=audited_tenants(user)) | registry_wide
    rows = AuditEvent.objects.filter(scope)
    for e in rows.select_related("tenant").order_by("-at", "-id").iterator(chunk_size=2000):
        yield AuditRow(e.at, e.actor_name, e.tenant.slug if e.tenant_id else "", e.action, e.object_label, e.detail)


def _policy_edits(model, label):
    def rows(user):
        if not may_read(user):
            return
        history = model.history.select_related("history_user").order_by("-history_date", "-history_id")
        for h in history.iterator(chunk_size=2000):
            reason = h.history_change_reason or ""
            yield AuditRow(h.history_date, _name(h.history_user), "", f"policy.{label}.{HISTORY_VERBS[h.history_type]}",
                           str(h.instance), reason)
    return rows


SOURCES = [
    _transitions, _signoffs, _use_decisions, _training_entries, _exports, _events,
    _policy_edits(SignOffRequirement, "signoff_requirement"), _policy_edits(ScorecardPolicy, "scorecard"),
]


def audit_rows(user):
    """Every governed action in ``user``'s governed scope, newest first (streamed)."""
    return heapq.merge(*(source(user) for source in SOURCES), key=lambda row: row.time, reverse=True)


class _Echo:
    def write(self, value):
        return value


def _cell(value):
    """Text a spreadsheet would run as a formula (=, +, -, @ first) is quoted with '."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def csv_lines(rows, on_done=None):
    """The rows as CSV lines, header first, times in ISO 8601 UTC. ``on_done``
    gets the slugs of the tenants whose rows were written, once all were."""
    writer = csv.writer(_Echo())
    tenants = set()
    yield writer.writerow(COLUMNS)
    for row in rows:
        values = astuple(row)
        tenants.add(row.tenant)
        yield writer.writerow([values[0].isoformat(), *(_cell(v) for v in values[1:])])
    if on_done:
        on_done(tenants - {""})
