"""Tenant A's monitoring objects for the isolation walk."""
from django.utils import timezone

from monitoring import services
from monitoring.models import Alert, MonitorRun, Outcome, RunStatus

from .isolation import MARKER
from .monitoring_helpers import blobs, make_coverage_monitor


def extend_world(world):
    monitor = make_coverage_monitor(world.owner, world.tenant, world.version, name=f"{MARKER}-monitor",
                                    baseline_name=f"{MARKER}-baseline")
    batch = services.post_production_batch(actor=world.owner, monitor=monitor, frame=blobs(50, seed=1))
    alert = Alert.objects.create(monitor=monitor, version=world.version, severity="high", summary=f"{MARKER} alert")
    run = MonitorRun.objects.create(
        monitor=monitor, scheduled_for=timezone.now(), status=RunStatus.DONE, outcome=Outcome.FAIL, alert=alert,
        reports={"aggregate": {"html": "monitoring/reports/none.html.gz", "json": "monitoring/reports/none.json"}},
        error=f"{MARKER} run",
    )
    world.extra.update(monitor=monitor, baseline_version=monitor.baseline_version, batch=batch, alert=alert, run=run)


ROUTE_KWARGS = {
    "baseline-detail": lambda w: {"pk": w.extra["baseline_version"].baseline_id},
    "baseline-versions": lambda w: {"pk": w.extra["baseline_version"].baseline_id},
    "baselineversion-detail": lambda w: {"pk": w.extra["baseline_version"].pk},
    "monitor-detail": lambda w: {"pk": w.extra["monitor"].pk},
    "monitor-run": lambda w: {"pk": w.extra["monitor"].pk},
    "monitor-batches": lambda w: {"pk": w.extra["monitor"].pk},
    "productionbatch-detail": lambda w: {"pk": w.extra["batch"].pk},
    "monitorrun-detail": lambda w: {"pk": w.extra["run"].pk},
    "monitorrun-report": lambda w: {"pk": w.extra["run"].pk},
    "alert-detail": lambda w: {"pk": w.extra["alert"].pk},
    "alert-acknowledge": lambda w: {"pk": w.extra["alert"].pk},
    "alert-assign": lambda w: {"pk": w.extra["alert"].pk},
    "alert-resolve": lambda w: {"pk": w.extra["alert"].pk},
    "datasetmonitoring-page": lambda w: {"slug": w.dataset.slug},
    "monitorrun-page": lambda w: {"pk": w.extra["run"].pk},
    "monitorreport-page": lambda w: {"pk": w.extra["run"].pk, "part": "aggregate"},
    "baselineversion-page": lambda w: {"pk": w.extra["baseline_version"].pk},
    "alert-page": lambda w: {"pk": w.extra["alert"].pk},
}
