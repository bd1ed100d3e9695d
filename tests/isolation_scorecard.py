"""Scorecard routes for the tenant-isolation walk: tenant A's version, its
scorecard history, the badge (without its token: login and scope apply) and a
waiver of its C letter."""
import datetime

from django.utils import timezone

from registry.choices import Role
from scorecard import services

from .factories import make_user

VERSION_ROUTE = lambda w: {"slug": w.dataset.slug, "number": w.version.number}  # noqa: E731

ROUTE_KWARGS = {
    "scorecard-page": VERSION_ROUTE,
    "scorecard-badge-page": VERSION_ROUTE,
    "croissant-page": VERSION_ROUTE,
    "datacard-page": VERSION_ROUTE,
    "scorecard-detail": lambda w: {"pk": w.version.pk},
    "scorecard-history": lambda w: {"pk": w.version.pk},
    "scorecard-croissant": lambda w: {"pk": w.version.pk},
    "scorecard-datacard": lambda w: {"pk": w.version.pk},
    "scorecardpolicy-detail": lambda w: {"pk": w.extra["scorecard_policy"].pk},
    "waiver-detail": lambda w: {"pk": w.extra["waiver"].pk},
    "waiver-revoke": lambda w: {"pk": w.extra["waiver"].pk},
}

# Registry-wide policy: the same for every tenant, holds no tenant's data.
GLOBAL_ROUTES = {"scorecardpolicy-list", "scorecardpolicy-detail"}


def extend_world(world):
    from scorecard.models import ScorecardPolicy
    from scorecard.policy_defaults import install_defaults

    install_defaults(ScorecardPolicy, overwrite=False)  # after a transactional test's flush
    snapshot, _ = services.record_snapshot(world.version, "training")
    world.extra["scorecard_snapshot"] = snapshot
    world.extra["scorecard_policy"] = ScorecardPolicy.objects.first()
    from .isolation import MARKER  # imported late: tests.isolation imports this module

    reviewer = make_user(f"{MARKER}-waiver-reviewer", tenant=world.tenant, roles=[Role.GOVERNANCE_REVIEWER])
    world.extra["waiver"] = services.grant_waiver(
        actor=reviewer, version=world.version, letter="C", reason=f"{MARKER} legal review booked",
        expires_at=timezone.localdate() + datetime.timedelta(days=30))
