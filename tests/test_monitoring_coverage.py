"""Coverage: production landing where the training data has no support."""
import pytest

from monitoring.coverage import OUTSIDE

from .monitoring_helpers import blobs, make_coverage_monitor, run_now

pytestmark = pytest.mark.django_db


def test_coverage_finds_a_planted_uncovered_region(alice, tenant_a, version_a, django_capture_on_commit_callbacks):
    monitor = make_coverage_monitor(alice, tenant_a, version_a)
    run = run_now(alice, monitor, django_capture_on_commit_callbacks, blobs(300, seed=2, far_share=0.2))

    regions = {region["region"]: region for region in run.coverage["regions"]}
    assert regions[OUTSIDE]["production_share"] == pytest.approx(0.2, abs=0.02)
    assert run.coverage["uncovered_share"] == pytest.approx(0.2, abs=0.02)
    assert sum(r["training_share"] for r in regions.values()) == pytest.approx(1.0)
    assert run.outcome == "fail" and "of production lies in regions" in run.alert.summary


def test_production_like_the_training_data_is_covered(alice, tenant_a, version_a, django_capture_on_commit_callbacks):
    monitor = make_coverage_monitor(alice, tenant_a, version_a)
    run = run_now(alice, monitor, django_capture_on_commit_callbacks, blobs(300, seed=3))

    assert run.coverage["uncovered_share"] < 0.05
    assert run.outcome == "pass" and run.alert is None
