"""Tenant A's governance objects for the isolation walk: a version in review with
a legal sign-off, its transitions, a logged use decision and a notice."""
from governance import services
from governance.models import Decision, Notice
from registry.choices import Role

from .factories import make_user, make_version

ROUTE_KWARGS = {
    **{
        f"version-governance-{name}": (lambda w: {"pk": w.extra["governed_version"].pk})
        for name in ("submit", "sign-off", "approve", "request-changes", "reject", "suspend", "reinstate", "retire")
    },
    "signoff-detail": lambda w: {"pk": w.extra["signoff"].pk},
    "transition-detail": lambda w: {"pk": w.extra["transition"].pk},
    "usedecision-detail": lambda w: {"pk": w.extra["use_decision"].pk},
    "notice-detail": lambda w: {"pk": w.extra["notice"].pk},
    "notice-read": lambda w: {"pk": w.extra["notice"].pk},
}


def extend_world(world):
    from .isolation import MARKER  # imported late: tests.isolation imports this module

    # A version of its own: other apps add examples to version, which must stay a draft.
    version = make_version(world.owner, world.dataset, purpose_gap=f"{MARKER} gap")
    world.extra["governed_version"] = version
    legal = make_user(f"{MARKER}-legal", tenant=world.tenant, roles=[Role.LEGAL_REVIEWER], is_staff=True)
    services.submit_for_review(actor=world.owner, version=version, comment=f"{MARKER} please review")
    world.extra["signoff"] = services.sign_off(
        actor=legal, version=version, role=Role.LEGAL_REVIEWER, decision=Decision.APPROVE,
        comment=f"{MARKER} legal approval",
    )
    world.extra["transition"] = version.transitions.get()
    world.extra["use_decision"] = services.authorize_use(
        actor=world.owner, tenant=world.tenant, version=version, use="training"
    )
    world.extra["notice"] = Notice.objects.create(user=world.owner, kind="alert", message=f"{MARKER} notice")
