"""Runs are idempotent per (monitor, scheduled time), never half-stored, and
reclaimed when a worker dies; schedules, the API, pages, CLI and the L checks
around them. Coverage monitors keep these fast (no Evidently)."""
import datetime
import io
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from monitoring import services
from monitoring.careful_checks import monitors_configured, monitors_healthy
from monitoring.models import MonitorRun, RunStatus
from registry.choices import Role
from scorecard.checks import Status

from .factories import make_user
from .monitoring_helpers import blobs, make_coverage_monitor, make_baseline, run_now, tickets

pytestmark = pytest.mark.django_db
AT = datetime.datetime(2026, 11, 24, 6, 0, tzinfo=datetime.timezone.utc)


def test_one_run_per_monitor_and_scheduled_time(alice, tenant_a, version_a, django_capture_on_commit_callbacks):
    monitor = make_coverage_monitor(alice, tenant_a, version_a)
    services.post_production_batch(actor=alice, monitor=monitor, frame=blobs(100, seed=2),
                                   started_at=AT - datetime.timedelta(hours=1), ended_at=AT)
    first = run_now(alice, monitor, django_capture_on_commit_callbacks, scheduled_for=AT)
    again = run_now(alice, monitor, django_capture_on_commit_callbacks, scheduled_for=AT)
    assert first.pk == again.pk and again.status == RunStatus.DONE and again.attempts == 1
    services.execute_run(run_id=first.pk)  # a redelivered message finds the run done
    assert MonitorRun.objects.get(pk=first.pk).attempts == 1
    beat = services.run_scheduled(monitor_id=monitor.pk, now=AT + datetime.timedelta(seconds=30))
    assert beat.pk == first.pk  # the beat tick of the same minute is the same run


def test_a_run_whose_claim_was_taken_over_stores_nothing(alice, tenant_a, version_a):
    monitor = make_coverage_monitor(alice, tenant_a, version_a)
    services.post_production_batch(actor=alice, monitor=monitor, frame=blobs(100, seed=2, far_share=0.5))
    run = MonitorRun.objects.create(monitor=monitor, scheduled_for=timezone.now())
    stale_token = services._claim(run.pk)
    # The worker holding ``stale_token`` "dies"; the redelivered task takes the run over.
    services.execute_run(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE and run.attempts == 2 and run.alert.failing_runs == 1
    stored = services._finish(run, stale_token, status=RunStatus.DONE, outcome="pass", fields={"coverage": {}},
                              timings={}, started=0)
    run.refresh_from_db()
    assert stored is False and run.outcome == "fail" and run.coverage["uncovered_share"] > 0.4


def test_stale_running_runs_are_requeued_then_given_up(alice, tenant_a, version_a, django_capture_on_commit_callbacks):
    monitor = make_coverage_monitor(alice, tenant_a, version_a)
    services.post_production_batch(actor=alice, monitor=monitor, frame=blobs(100, seed=2))
    run = MonitorRun.objects.create(monitor=monitor, scheduled_for=timezone.now())
    services._claim(run.pk)
    assert services.reclaim_stale_runs() == []  # fresh claims are left alone
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reclaim_stale_runs(older_than=datetime.timedelta(0)) == [run.pk]
    run.refresh_from_db()
    assert run.status == RunStatus.DONE and run.outcome == "pass"
    lost = MonitorRun.objects.create(monitor=monitor, scheduled_for=AT, status=RunStatus.RUNNING, attempts=3,
                                     claimed_at=AT)
    services.reclaim_stale_runs()
    lost.refresh_from_db()
    assert lost.status == RunStatus.ERROR and "Worker lost" in lost.error


def test_a_schedule_is_a_periodic_task_kept_in_step_with_the_monitor(alice, tenant_a, version_a):
    monitor = make_coverage_monitor(alice, tenant_a, version_a, schedule="15 */6 * * *")
    task = PeriodicTask.objects.get(pk=monitor.periodic_task_id)
    assert task.task == "monitoring.tasks.run_scheduled_monitor_task" and task.crontab.hour == "*/6"
    assert json.loads(task.kwargs) == {"monitor_id": monitor.pk}
    services.update_monitor(actor=alice, monitor=monitor, enabled=False)
    assert not PeriodicTask.objects.get(pk=task.pk).enabled
    services.update_monitor(actor=alice, monitor=monitor, schedule="")
    assert not PeriodicTask.objects.filter(pk=task.pk).exists()
    with pytest.raises(ValidationError, match="crontab"):
        services.update_monitor(actor=alice, monitor=monitor, schedule="every day")


@pytest.mark.parametrize("expression, message", [
    ("__import__('os').system('x')", "comparisons"),
    ("label.upper() == 'A'", "column op value"),
    ("nope == 1", "unknown column"),
    ("label in 'abc'", "non-empty list"),
    ("label == ", "syntax"),
])
def test_slice_filters_are_validated_on_save_never_evaluated(alice, tenant_a, version_a, expression, message):
    baseline = make_baseline(alice, tenant_a, tickets(50, seed=1))
    with pytest.raises(ValidationError, match=message):
        services.create_monitor(actor=alice, version=version_a, name="s", baseline_version=baseline, kind="slice",
                                source="production", slices=[{"name": "bad", "filter": expression}])


def test_api_baseline_monitor_batch_run_report_and_scope(api, alice, charlie, tenant_a, version_a,
                                                         django_capture_on_commit_callbacks):
    client = api(alice)
    baseline = client.post("/api/baselines/", {"tenant": tenant_a.slug, "name": "real"}, format="json").json()
    csv = io.BytesIO(tickets(120, seed=1).to_csv(index=False).encode())
    csv.name = "sample.csv"
    columns = json.dumps([{"name": "amount", "type": "numeric"}, {"name": "label", "type": "categorical"}])
    created = client.post(f"/api/baselines/{baseline['id']}/versions/", {"file": csv, "columns": columns},
                          format="multipart")
    assert created.status_code == 201, created.json()
    bv = created.json()
    assert bv["row_count"] == 120 and bv["stats"]["amount"]["count"] == 120
    assert Path(settings.MEDIA_ROOT, "monitoring", "baselines").is_dir()
    monitor = client.post("/api/monitors/", {
        "version": version_a.pk, "name": "prod", "kind": "coverage", "source": "production",
        "baseline_version": bv["id"], "coverage_clusters": 3,
    }, format="json")
    assert monitor.status_code == 201, monitor.json()
    monitor_id = monitor.json()["id"]
    rows = tickets(40, seed=2)[["amount", "label"]].to_dict("records")
    batch = client.post(f"/api/monitors/{monitor_id}/batches/", {"rows": rows}, format="json")
    assert batch.status_code == 201 and batch.json()["row_count"] == 40
    bad = client.post(f"/api/monitors/{monitor_id}/batches/", {"rows": [{"label": "x"}]}, format="json")
    assert bad.status_code == 400 and "columns" in bad.json()
    with django_capture_on_commit_callbacks(execute=True):
        run = client.post(f"/api/monitors/{monitor_id}/run/", {}, format="json")
    assert run.status_code == 202
    run_id = run.json()["id"]
    assert client.get(f"/api/monitor-runs/{run_id}/").json()["status"] == "done"
    assert client.get(f"/api/monitor-runs/{run_id}/report/").status_code == 404  # coverage runs have no Evidently report
    outsider = api(charlie)
    for url in (f"/api/monitors/{monitor_id}/", f"/api/monitor-runs/{run_id}/", f"/api/baselines/{baseline['id']}/"):
        assert outsider.get(url).status_code == 404
    refused = outsider.post("/api/monitors/", {"version": version_a.pk, "name": "x", "baseline_version": bv["id"]},
                            format="json")
    assert refused.status_code == 400 and "version" in refused.json()


def test_cli_posts_a_batch(alice, tenant_a, version_a, tmp_path):
    monitor = make_coverage_monitor(alice, tenant_a, version_a)
    path = tmp_path / "prod.jsonl"
    blobs(30, seed=4).to_json(path, orient="records", lines=True)
    out = io.StringIO()
    call_command("post_production_batch", f"{version_a.dataset.slug}:v{version_a.number}:{monitor.name}", str(path),
                 "--actor", "alice", "--started-at", "2026-11-23T00:00Z", "--ended-at", "2026-11-24T00:00Z", stdout=out)
    assert "30 rows" in out.getvalue() and monitor.batches.get().row_count == 30


def test_l_checks_and_pages_follow_the_runs(client, alice, tenant_a, version_a, django_capture_on_commit_callbacks):
    assert monitors_configured(version_a, "training", {}).status == Status.MISSING
    monitor = make_coverage_monitor(alice, tenant_a, version_a)
    assert monitors_healthy(version_a, "training", {}).status == Status.MISSING
    drift = make_baseline(alice, tenant_a, tickets(50, seed=1), name="real-sample")
    services.create_monitor(actor=alice, version=version_a, name="slices", baseline_version=drift, kind="slice",
                            source="production", slices=[{"name": "rare", "filter": "label == 'rare_intent'"}])
    assert monitors_configured(version_a, "training", {}).status == Status.PASS
    run = run_now(alice, monitor, django_capture_on_commit_callbacks, blobs(100, seed=5, far_share=0.4))
    assert monitors_healthy(version_a, "training", {}).status == Status.FAIL
    gwen = make_user("gwen", tenant=tenant_a, roles=[Role.GOVERNANCE_REVIEWER])
    services.acknowledge_alert(actor=gwen, alert=run.alert)
    assert monitors_healthy(version_a, "training", {}).status == Status.FAIL, "acknowledging clears nothing"
    client.force_login(alice)
    page = client.get(reverse("datasetmonitoring-page", args=[version_a.dataset.slug]))
    assert page.status_code == 200 and b"<svg" in page.content and f"alert #{run.alert_id}".encode() in page.content
    assert client.get(reverse("monitorrun-page", args=[run.pk])).status_code == 200
    resolved = client.post(reverse("alert-page", args=[run.alert_id]), {"action": "resolve",
                                                                        "resolution": "false_positive"})
    assert resolved.status_code == 302
    run.alert.refresh_from_db()
    assert run.alert.resolution == "false_positive"
