"""Test data built through the services, as users would build it."""
import datetime
import itertools

from django.contrib.auth import get_user_model
from django.utils import timezone

from registry import services
from registry.choices import RegistryRole, Role, Use
from registry.models import Membership, RegistryMembership, Tenant

_seq = itertools.count(1)


def make_user(username=None, *, tenant=None, roles=(Role.CONTRIBUTOR,), is_staff=False, password="pw-Careful-123"):
    user = get_user_model().objects.create_user(
        username=username or f"user{next(_seq)}", password=password, is_staff=is_staff
    )
    for role in roles if tenant else ():
        Membership.objects.create(user=user, tenant=tenant, role=role)
    return user


def make_registry_user(role, username=None):
    """A user holding a registry-wide role (policy admin, vocabulary steward, registry admin)."""
    user = make_user(username or f"{role.replace('_', '-')}-{next(_seq)}", is_staff=True)
    RegistryMembership.objects.create(user=user, role=role)
    return user


def policy_admin():
    """The registry's policy admin (made once per test database)."""
    existing = RegistryMembership.objects.filter(role=RegistryRole.POLICY_ADMIN).select_related("user").first()
    return existing.user if existing else make_registry_user(RegistryRole.POLICY_ADMIN, "policy-admin")


# The evidence a version holds from its manifest and its sign-offs alone.
WORKFLOW_EVIDENCE = {
    "C.purpose_worksheet": {}, "C.legal_signoff": {}, "A.ratio_cap_set": {}, "R.manifest_hashed": {},
    "U.uses_declared": {}, "U.tenant_scope_set": {}, "U.signoffs_complete": {}, "U.lifecycle_state": {},
    "L.expiry_set": {"max_days": 365},
}


def install_workflow_policy():
    """Every cell requires only the evidence a version holds from its manifest and
    its sign-offs: for tests of the approval workflow itself (states, roles,
    separation of duties) and of what approved versions allow (mixes, frozen
    rows), where gate runs, scans and monitors are beside the point. Missing
    evidence still blocks: these checks are the ones such a version answers."""
    from scorecard.models import ScorecardPolicy
    from scorecard.policy_defaults import install_defaults

    install_defaults(ScorecardPolicy, overwrite=False)
    ScorecardPolicy.objects.update(checks=WORKFLOW_EVIDENCE)
    # What the dataset's kind and lineage say: synthetic data does not evaluate.
    ScorecardPolicy.objects.filter(use_cell=Use.EVALUATION).update(
        checks={**WORKFLOW_EVIDENCE, "E.not_synthetic_eval": {}})


def make_tenant(slug=None):
    slug = slug or f"tenant-{next(_seq)}"
    return Tenant.objects.create(slug=slug, name=slug.title())


COMPLETE_MANIFEST = {
    "purpose_gap": "Rare intents with < 40 real examples.",
    "purpose_why_not_real": "They are rare by nature.",
    "purpose_success_criterion": "Per-class recall on real held-aside tickets.",
    "use_cell": Use.TRAINING,
    "intended_uses": [Use.TRAINING],
    "prohibited_uses": [Use.EVALUATION],
    "max_synthetic_ratio": 0.3,
}


def make_dataset(actor, tenant, slug=None, *, kind="synthetic", modality="text", **kwargs):
    return services.create_dataset(
        actor=actor, tenant=tenant, slug=slug or f"ds-{next(_seq)}", name=kwargs.pop("name", "A dataset"),
        kind=kind, modality=modality, **kwargs,
    )


def make_version(actor, dataset, **manifest):
    data = {**COMPLETE_MANIFEST, "expires_at": timezone.localdate() + datetime.timedelta(days=90)}
    data.setdefault("tenant_scope", [dataset.tenant])
    data.update(manifest)
    return services.create_version(actor=actor, dataset=dataset, manifest=data)
