"""Test data built through the services, as users would build it."""
import datetime
import itertools

from django.contrib.auth import get_user_model
from django.utils import timezone

from registry import services
from registry.choices import Role, Use
from registry.models import Membership, Tenant

_seq = itertools.count(1)


def make_user(username=None, *, tenant=None, roles=(Role.CONTRIBUTOR,), is_staff=False, password="pw-Careful-123"):
    user = get_user_model().objects.create_user(
        username=username or f"user{next(_seq)}", password=password, is_staff=is_staff
    )
    for role in roles if tenant else ():
        Membership.objects.create(user=user, tenant=tenant, role=role)
    return user


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
