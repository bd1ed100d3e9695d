"""Monitor runs on a real Celery worker (Redis in CI): a run completes once
per scheduled time, and a worker killed mid-run leaves nothing half-stored."""
import datetime
import time

import pytest

from monitoring import services
from monitoring.models import MonitorRun, RunStatus

from .conftest import wait_until
from .monitoring_helpers import make_baseline, make_production_monitor, tickets

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
AT = datetime.datetime(2026, 11, 24, 6, 0, tzinfo=datetime.timezone.utc)


def _monitor(alice, tenant_a, version_a, rows):
    baseline = make_baseline(alice, tenant_a, tickets(rows, seed=1))
    monitor = make_production_monitor(alice, version_a, baseline, drift_share=0.25)
    services.post_production_batch(actor=alice, monitor=monitor, frame=tickets(rows, seed=2, amount_shift=12),
                                   started_at=AT - datetime.timedelta(hours=1), ended_at=AT)
    return monitor


def test_a_monitor_runs_on_a_real_worker_once_per_scheduled_time(celery_worker_process, alice, tenant_a, version_a):
    monitor = _monitor(alice, tenant_a, version_a, 400)
    first = services.request_run(actor=alice, monitor=monitor, scheduled_for=AT)
    again = services.request_run(actor=alice, monitor=monitor, scheduled_for=AT)
    assert first.pk == again.pk
    assert wait_until(lambda: MonitorRun.objects.get(pk=first.pk).status == RunStatus.DONE, timeout=90)
    run = MonitorRun.objects.get(pk=first.pk)
    assert run.outcome == "fail" and run.drifted_columns == ["amount"] and run.attempts == 1
    assert MonitorRun.objects.filter(monitor=monitor).count() == 1


def test_a_worker_killed_mid_run_leaves_nothing_half_stored(celery_worker_process, alice, tenant_a, version_a,
                                                             tmp_path):
    monitor = _monitor(alice, tenant_a, version_a, 3000)
    run = services.request_run(actor=alice, monitor=monitor, scheduled_for=AT)
    assert wait_until(lambda: MonitorRun.objects.get(pk=run.pk).status == RunStatus.RUNNING, timeout=60)
    time.sleep(1.0)  # inside the job: Evidently alone takes seconds to import in a fresh worker
    celery_worker_process.kill()
    killed = MonitorRun.objects.get(pk=run.pk)
    assert killed.status == RunStatus.RUNNING and killed.outcome == "" and killed.alert is None
    assert killed.column_metrics == {} and killed.reports == {} and killed.timings == {}
    assert not monitor.alerts.exists()

    celery_worker_process.start()
    assert services.reclaim_stale_runs(older_than=datetime.timedelta(0)) == [run.pk]
    assert wait_until(lambda: MonitorRun.objects.get(pk=run.pk).status == RunStatus.DONE, timeout=90)
    done = MonitorRun.objects.get(pk=run.pk)
    assert done.attempts == 2 and done.outcome == "fail" and set(done.reports) == {"aggregate"}
    assert monitor.alerts.count() == 1
