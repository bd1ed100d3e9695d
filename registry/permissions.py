"""The permission table: for every governed model and action, which role in
which tenant (or which registry-wide role) may do it.

Everything asks this module: pages, the REST API, the admin, management
commands and tasks (through the services they call). Scoped reads are
``restrict(queryset, user, action)``, like NetBox's ``RestrictedQuerySet``;
a single object is ``can(user, action, obj)`` / ``require(...)``; creating
something inside a tenant is ``can(user, "add", Model, tenant=tenant)``.

A (model, action) pair the table does not list is refused for everyone but
superusers (fail closed). Rules name roles only; separation of duties (the
author of a version may not sign it off, waive its letters or review its
examples) is a property of the object and stays in the service that acts.
"""
from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, Q

from .choices import RegistryRole, Role

# Actions
VIEW = "view"  # pages and API
ADMIN = "admin"  # see it in the governance console (Django admin)
ADD, CHANGE, DELETE = "add", "change", "delete"

# Role groups (tenant roles)
MEMBERS = frozenset(Role.values)
WRITERS = frozenset({Role.CONTRIBUTOR, Role.TENANT_ADMIN})
GOVERNORS = frozenset({Role.GOVERNANCE_REVIEWER, Role.LEGAL_REVIEWER, Role.TENANT_ADMIN})
REVIEWERS = frozenset({Role.GOVERNANCE_REVIEWER})
TENANT_ADMINS = frozenset({Role.TENANT_ADMIN})
# Who reads example content unmasked: everyone who works on the data, not viewers
# and not users a dataset was shared with.
RAW_READERS = WRITERS | GOVERNORS
NOBODY = frozenset()


@dataclass(frozen=True)
class Rule:
    """Who may: holders of ``roles`` in the object's tenant (for a model with no
    tenant, in any tenant), users an object was ``shared`` with (datasets and
    what belongs to them), and holders of ``registry`` roles, everywhere."""

    roles: frozenset = NOBODY
    registry: frozenset = NOBODY
    shared: bool = False


READ = Rule(MEMBERS, shared=True)
CONSOLE = Rule(GOVERNORS)
EVIDENCE = {VIEW: READ, ADMIN: CONSOLE}  # written by jobs and services, read by all who see the dataset
REGISTRY_ADMINS = frozenset({RegistryRole.REGISTRY_ADMIN})
POLICY_ADMINS = frozenset({RegistryRole.POLICY_ADMIN})
STEWARDS = frozenset({RegistryRole.VOCABULARY_STEWARD})
ALL_REGISTRY_ROLES = frozenset(RegistryRole.values)
SHARED_VOCABULARY = Rule(MEMBERS, registry=ALL_REGISTRY_ROLES)
REGISTRY_CONSOLE = Rule(GOVERNORS, registry=ALL_REGISTRY_ROLES)
ROLE_GRANTS = Rule(TENANT_ADMINS, registry=REGISTRY_ADMINS)


def _policy(view=SHARED_VOCABULARY):
    """A registry-wide policy: everyone reads it, policy admins change it."""
    edit = Rule(registry=POLICY_ADMINS)
    return {VIEW: view, ADMIN: REGISTRY_CONSOLE, ADD: edit, CHANGE: edit, DELETE: edit, "edit_policy": edit}


TABLE = {
    "registry.tenant": {
        VIEW: Rule(MEMBERS, registry=REGISTRY_ADMINS), ADMIN: Rule(GOVERNORS, registry=REGISTRY_ADMINS),
        ADD: Rule(registry=REGISTRY_ADMINS), CHANGE: Rule(registry=REGISTRY_ADMINS),
        # Reading the tenant's unified audit log (and its CSV export).
        "audit": Rule(GOVERNORS),
    },
    "registry.membership": {
        VIEW: Rule(GOVERNORS, registry=REGISTRY_ADMINS), ADMIN: Rule(GOVERNORS, registry=REGISTRY_ADMINS),
        # Only a tenant's admins give and take its roles (registry admins seat the first one).
        # Adding a membership is granting a role; deleting one, revoking it.
        "grant_role": ROLE_GRANTS, ADD: ROLE_GRANTS, "revoke_role": ROLE_GRANTS, DELETE: ROLE_GRANTS,
    },
    # Registry-wide roles are granted by superusers only.
    "registry.registrymembership": {VIEW: Rule(registry=REGISTRY_ADMINS), ADMIN: Rule(registry=REGISTRY_ADMINS)},
    "registry.dataset": {
        VIEW: READ, ADMIN: CONSOLE, ADD: Rule(WRITERS), CHANGE: Rule(WRITERS), "share": Rule(WRITERS),
        # Cascade and judge-panel configuration belong to the dataset.
        "configure_gates": Rule(WRITERS | GOVERNORS), "configure_judges": Rule(WRITERS),
    },
    "registry.datasetversion": {
        VIEW: READ, ADMIN: CONSOLE, ADD: Rule(WRITERS), CHANGE: Rule(WRITERS), "submit": Rule(WRITERS),
        # Filling content and evidence of a version.
        "ingest": Rule(WRITERS), "upload_scores": Rule(WRITERS), "configure_monitors": Rule(WRITERS),
        "flag_rows": Rule(WRITERS), "run_gates": Rule(WRITERS | GOVERNORS),
        # Governance: the service also checks the specific role a sign-off fills.
        "sign_off": Rule(GOVERNORS), "approve": Rule(GOVERNORS), "suspend": Rule(GOVERNORS),
        "reinstate": Rule(GOVERNORS), "retire": Rule(GOVERNORS),
        "waive": Rule(REVIEWERS), "review_examples": Rule(REVIEWERS),
        "view_raw": Rule(RAW_READERS),
    },
    "registry.manifest": EVIDENCE,
    "registry.versionlineage": EVIDENCE,
    "registry.ingestionjob": EVIDENCE,
    "registry.example": {**EVIDENCE, "view_raw": Rule(RAW_READERS)},
    "registry.generator": {
        VIEW: SHARED_VOCABULARY, ADMIN: REGISTRY_CONSOLE,
        # A new name@version changes nobody's lineage: any contributor may add one.
        # Changing an entry every tenant's lineage points at needs the steward.
        ADD: Rule(WRITERS, registry=STEWARDS), CHANGE: Rule(registry=STEWARDS),
    },
    "registry.prompttemplate": {VIEW: Rule(MEMBERS), ADMIN: CONSOLE, ADD: Rule(WRITERS)},
    "governance.signoff": EVIDENCE,
    "governance.transition": EVIDENCE,
    "governance.usedecision": EVIDENCE,
    "governance.exportrecord": {VIEW: Rule(GOVERNORS), ADMIN: CONSOLE},
    "governance.signoffrequirement": _policy(),
    "scorecard.scorecardpolicy": _policy(),
    "scorecard.scorecardsnapshot": EVIDENCE,
    "scorecard.waiver": {**EVIDENCE, ADD: Rule(REVIEWERS)},
    "gates.gatecascade": {**EVIDENCE, ADD: Rule(WRITERS | GOVERNORS), CHANGE: Rule(WRITERS | GOVERNORS)},
    "gates.gatestep": EVIDENCE,
    "gates.gaterun": EVIDENCE,
    "gates.gatestepresult": EVIDENCE,
    "gates.rejection": {**EVIDENCE, "view_raw": Rule(RAW_READERS)},
    "gates.fidelityreport": EVIDENCE,
    "judges.judgepanel": {**EVIDENCE, ADD: Rule(WRITERS), CHANGE: Rule(WRITERS)},
    "judges.scoreupload": EVIDENCE,
    "judges.judgescore": EVIDENCE,
    "judges.versionjudging": EVIDENCE,
    "judges.reviewitem": {**EVIDENCE, CHANGE: Rule(REVIEWERS)},
    "training.modelfamily": {VIEW: Rule(MEMBERS), ADMIN: CONSOLE, ADD: Rule(WRITERS)},
    "training.evaluationset": {VIEW: Rule(MEMBERS), ADMIN: CONSOLE, ADD: Rule(WRITERS)},
    "training.leakagescan": {VIEW: Rule(MEMBERS), ADMIN: CONSOLE, ADD: Rule(WRITERS)},
    "training.leakagepair": {VIEW: Rule(MEMBERS), ADMIN: CONSOLE},
    "training.generatorprovenancecheck": {VIEW: Rule(MEMBERS), ADMIN: CONSOLE, ADD: Rule(WRITERS)},
    "training.trainingmix": {VIEW: Rule(MEMBERS), ADMIN: CONSOLE, ADD: Rule(WRITERS), "export": Rule(RAW_READERS)},
    "training.mixbuild": {VIEW: Rule(MEMBERS), ADMIN: CONSOLE, ADD: Rule(WRITERS)},
    "training.auditentry": {VIEW: Rule(GOVERNORS), ADMIN: CONSOLE},
    "monitoring.baseline": {VIEW: Rule(MEMBERS), ADMIN: CONSOLE, ADD: Rule(WRITERS), CHANGE: Rule(WRITERS)},
    "monitoring.baselineversion": {VIEW: Rule(MEMBERS), ADMIN: CONSOLE},
    "monitoring.monitor": {**EVIDENCE, CHANGE: Rule(WRITERS), "run": Rule(WRITERS), "post_batch": Rule(WRITERS)},
    "monitoring.productionbatch": EVIDENCE,
    "monitoring.monitorrun": EVIDENCE,
    "monitoring.alert": {
        **EVIDENCE,
        # Acknowledging says "a governance reviewer has seen it"; it never clears L.
        "acknowledge": Rule(REVIEWERS), "assign": Rule(WRITERS | GOVERNORS), "resolve": Rule(WRITERS | GOVERNORS),
    },
}


def rule_for(model, action):
    """The table's rule, or None: not in the table means refused (fail closed)."""
    return TABLE.get(model._meta.label_lower, {}).get(action)


# -- Who holds what -----------------------------------------------------------

def _registry_role_q(user, roles):
    """True where ``user`` holds one of the registry-wide ``roles`` (a subquery, so a
    scoped read stays one query)."""
    if not roles:
        return Q(pk__in=[])
    held = apps.get_model("registry", "RegistryMembership").objects.filter(user=user, role__in=roles)
    return Q(Exists(held))


def _any_tenant_role_q(user, roles):
    if not roles:
        return Q(pk__in=[])
    return Q(Exists(apps.get_model("registry", "Membership").objects.filter(user=user, role__in=roles)))


def _tenant_ids(user, roles):
    """Subquery of the tenants in which ``user`` holds one of ``roles``."""
    return apps.get_model("registry", "Membership").objects.filter(user=user, role__in=roles).values("tenant_id")


def _tenant_path(model):
    """The lookup from ``model`` to its tenant's id ("" for Tenant), or None
    for registry-wide models."""
    if model._meta.label_lower == "registry.tenant":
        return "pk"
    tenant_field = getattr(model, "SCOPE_TENANT_FIELD", None)
    if tenant_field:
        return f"{tenant_field}_id"
    path = getattr(model, "SCOPE_DATASET_PATH", None)
    if path is None:
        return None
    return f"{path}__tenant_id" if path else "tenant_id"


def _share_q(user, model):
    """Rows of datasets shared with ``user`` object by object (guardian's direct-FK tables)."""
    path = getattr(model, "SCOPE_DATASET_PATH", None)
    if path is None:
        return Q(pk__in=[])
    prefix = f"{path}__" if path else ""
    user_shares = apps.get_model("registry", "DatasetUserObjectPermission").objects.filter(
        user=user, permission__codename="view_dataset"
    )
    group_shares = apps.get_model("registry", "DatasetGroupObjectPermission").objects.filter(
        group__user=user, permission__codename="view_dataset"
    )
    return (Q(**{f"{prefix}pk__in": user_shares.values("content_object_id")})
            | Q(**{f"{prefix}pk__in": group_shares.values("content_object_id")}))


def _active(user):
    return user is not None and user.is_authenticated and user.is_active


def restrict(queryset, user, action):
    """The rows of ``queryset`` on which ``user`` may do ``action`` (one SQL query)."""
    if not _active(user):
        return queryset.none()
    if user.is_superuser:
        return queryset
    model = queryset.model
    rule = rule_for(model, action)
    if rule is None:
        return queryset.none()
    path = _tenant_path(model)
    if path is None:
        # Registry-wide rows: tenant roles count in any tenant.
        condition = _any_tenant_role_q(user, rule.roles)
    else:
        condition = Q(**{f"{path}__in": _tenant_ids(user, rule.roles)}) if rule.roles else Q(pk__in=[])
        if rule.shared:
            condition |= _share_q(user, model)
    return queryset.filter(condition | _registry_role_q(user, rule.registry))


def tenants_where(user, model, action):
    """Tenants in which ``user`` may do ``action`` on ``model`` (e.g. where to add a dataset)."""
    tenants = apps.get_model("registry", "Tenant").objects.all()
    if not _active(user):
        return tenants.none()
    if user.is_superuser:
        return tenants
    rule = rule_for(model, action)
    if rule is None:
        return tenants.none()
    in_tenant = Q(pk__in=_tenant_ids(user, rule.roles)) if rule.roles else Q(pk__in=[])
    return tenants.filter(in_tenant | _registry_role_q(user, rule.registry))


def can(user, action, target, *, tenant=None):
    """May ``user`` do ``action`` on ``target``? ``target`` is an object, or a
    model class: with ``tenant``, acting inside that tenant (adding); without,
    acting anywhere at all (a registry-wide model, or at least one tenant)."""
    if not _active(user):
        return False
    if not isinstance(target, type):
        return target.pk is not None and restrict(
            type(target)._default_manager.filter(pk=target.pk), user, action).exists()
    if tenant is not None:
        return tenants_where(user, target, action).filter(pk=tenant.pk).exists()
    rule = rule_for(target, action)
    if user.is_superuser or rule is None:
        return user.is_superuser
    anywhere = _any_tenant_role_q(user, rule.roles) | _registry_role_q(user, rule.registry)
    return get_user_model()._default_manager.filter(pk=user.pk).filter(anywhere).exists()


def require(user, action, target, *, tenant=None, message=None):
    """PermissionDenied (403) unless ``can(...)``; the message says what was refused."""
    if can(user, action, target, tenant=tenant):
        return
    if message is None:
        what = target._meta.verbose_name_plural if isinstance(target, type) else str(target)
        where = f" in tenant '{tenant.slug}'" if tenant is not None else ""
        message = f"You may not {action.replace('_', ' ')} {what}{where}."
    raise PermissionDenied(message)


def roles_in(user, tenant):
    """The tenant roles ``user`` holds in ``tenant`` (a set of Role values)."""
    if not _active(user):
        return set()
    return set(apps.get_model("registry", "Membership").objects.filter(
        user=user, tenant=tenant).values_list("role", flat=True))
