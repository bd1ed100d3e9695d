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
    story = demo.base_story()
    extend_demo(story)
    monitoring = story.extra["monitoring"]
    run = monitoring["drift_monitor"].runs.get()
    assert monitoring["baseline_version"].row_count == 38
    assert run.status == RunStatus.DONE and run.outcome in ("pass", "fail") and "aggregate" in run.reports
    synthetic_version = story.synthetic.versions.get()
    assert monitors_configured(synthetic_version, "training", {}).status == Status.PASS
