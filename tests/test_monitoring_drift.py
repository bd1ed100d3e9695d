"""Evidently drift through the registry (kept few and small: each Evidently
run costs seconds): a planted shift is flagged, unchanged data is not, the
stored numbers are Evidently's own, and a rare slice's shift is caught while
the aggregate holds."""
import pytest
from django.urls import reverse

from monitoring import services
from monitoring.models import RunStatus

from .monitoring_helpers import COLUMNS, make_baseline, make_production_monitor, tickets

pytestmark = pytest.mark.django_db


def _run(actor, monitor, current, capture):
    services.post_production_batch(actor=actor, monitor=monitor, frame=current)
    with capture(execute=True):
        run = services.request_run(actor=actor, monitor=monitor)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE, run.error
    return run


def test_a_planted_shift_in_one_column_is_flagged_and_unchanged_data_is_not(
    alice, charlie, client, tenant_a, version_a, django_capture_on_commit_callbacks
):
    baseline = make_baseline(alice, tenant_a, tickets(600, seed=1))
    steady = make_production_monitor(alice, version_a, baseline, name="steady", drift_share=0.25)
    shifted = make_production_monitor(alice, version_a, baseline, name="shifted", drift_share=0.25)

    unchanged = _run(alice, steady, tickets(600, seed=2), django_capture_on_commit_callbacks)
    moved = _run(alice, shifted, tickets(600, seed=2, amount_shift=12), django_capture_on_commit_callbacks)

    assert unchanged.outcome == "pass" and unchanged.drifted_columns == [] and unchanged.alert is None
    assert moved.outcome == "fail" and moved.drifted_columns == ["amount"]
    assert moved.drift_share == pytest.approx(0.25)
    assert moved.alert is not None and "amount" in moved.alert.summary
    assert moved.reports["aggregate"]["html"].endswith(".html.gz")
    report_url = reverse("monitorreport-page", args=[moved.pk, "aggregate"])
    client.force_login(alice)
    report = client.get(report_url)
    assert report.status_code == 200 and report["Content-Security-Policy"].startswith("sandbox")
    assert b"amount" in report.content
    client.force_login(charlie)
    assert client.get(report_url).status_code == 404


def test_stored_results_are_identical_to_calling_evidently_directly(alice, tenant_a, version_a,
                                                                    django_capture_on_commit_callbacks):
    from evidently import Dataset, Report

    from monitoring import drift, frames

    reference, current = tickets(500, seed=3), tickets(500, seed=4, amount_shift=5)
    baseline = make_baseline(alice, tenant_a, reference)
    methods = {"amount": {"method": "wasserstein", "threshold": 0.1}, "channel": {"method": "psi"}}
    monitor = make_production_monitor(alice, version_a, baseline, column_methods=methods)
    run = _run(alice, monitor, current, django_capture_on_commit_callbacks)

    definition = drift.data_definition(COLUMNS)
    names = [column["name"] for column in COLUMNS]
    direct = Report([drift.preset(COLUMNS, column_methods=methods, drift_share=0.5)], include_tests=True).run(
        current_data=Dataset.from_pandas(frames.typed(current, COLUMNS)[names], data_definition=definition),
        reference_data=Dataset.from_pandas(frames.typed(reference, COLUMNS)[names], data_definition=definition),
    )
    expected, share = drift.read_snapshot(direct)
    stored = {name: {k: v for k, v in entry.items() if k != "severity"} for name, entry in run.column_metrics.items()}
    assert stored == expected
    assert run.drift_share == share
    assert run.column_metrics["amount"]["method"] == "wasserstein"


def test_a_shift_in_one_rare_slice_is_flagged_while_the_aggregate_passes(alice, tenant_a, version_a,
                                                                          django_capture_on_commit_callbacks):
    baseline = make_baseline(alice, tenant_a, tickets(1500, seed=5))
    monitor = make_production_monitor(
        alice, version_a, baseline, kind="slice", columns=["amount", "length", "channel"], drift_share=0.3,
        slices=[{"name": "rare", "filter": "label in ['rare_intent']"},
                {"name": "chat", "filter": "channel == 'chat'"}],
    )
    run = _run(alice, monitor, tickets(1500, seed=6, rare_length_shift=60), django_capture_on_commit_callbacks)

    assert run.drifted_columns == []  # the aggregate holds
    assert run.slice_metrics["rare"]["failed"] and run.slice_metrics["rare"]["drifted"] == ["length"]
    assert not run.slice_metrics["chat"]["failed"]
    assert run.outcome == "fail" and "rare" in run.alert.summary
    assert set(run.reports) == {"aggregate", "rare", "chat"}
