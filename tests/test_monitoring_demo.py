"""The demo's monitoring part: a real baseline from the anchor, a drift and a
slice monitor on the synthetic version, and one finished run."""
import pytest

from monitoring.careful_checks import monitors_configured
from monitoring.demo import extend_demo
from monitoring.models import RunStatus
from registry import demo
from scorecard.checks import Status

pytestmark = pytest.mark.django_db


def test_demo_monitors_the_synthetic_version_against_the_real_anchor(tenant_a):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_user("demo-admin", is_superuser=True)
    tenants = {slug: demo.Tenant.objects.create(slug=slug, name=slug) for slug in ("support-ops", "risk-lab")}
    users = {}
    for username, tenant_slug, roles, is_staff in demo.DEMO_USERS:
        users[username] = get_user_model().objects.create_user(username, is_staff=is_staff)
        for role in roles:
            demo.Membership.objects.create(user=users[username], tenant=tenants[tenant_slug], role=role)
    story = demo._create_story(admin, users, tenants)
    extend_demo(story)
    monitoring = story.extra["monitoring"]
    run = monitoring["drift_monitor"].runs.get()
    assert monitoring["baseline_version"].row_count == 38
    assert run.status == RunStatus.DONE and run.outcome in ("pass", "fail") and "aggregate" in run.reports
    synthetic_version = story.synthetic.versions.get()
    assert monitors_configured(synthetic_version, "training", {}).status == Status.PASS
