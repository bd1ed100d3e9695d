"""CAREFUL L evidence: monitors configured against real baselines, and the
health of their latest runs. Two queries per check, whatever the history."""
from django.db.models import OuterRef, Subquery
from django.urls import reverse

from registry.choices import REAL_KINDS
from scorecard.checks import CheckResult, Status, careful_check, missing

from .models import OPEN_ALERT_STATES, Alert, AlertStatus, BaselineSource, Monitor, MonitorKind, MonitorRun, RunStatus


def _evidence_url(version):
    return reverse("datasetmonitoring-page", args=[version.dataset.slug])


def is_real_baseline(baseline_version):
    """An uploaded real sample, or a version of a real dataset (never a synthetic one or a training mix)."""
    if baseline_version.source == BaselineSource.UPLOAD:
        return True
    source = baseline_version.source_version
    return source is not None and source.dataset.kind in REAL_KINDS


@careful_check("L", "L.monitors_configured", "Drift and slice monitors configured against a real baseline")
def monitors_configured(version, use, params):
    monitors = list(Monitor.objects.filter(version=version, enabled=True).select_related(
        "baseline_version__source_version__dataset"))
    if not monitors:
        return missing("No monitor watches this version.", evidence_url=_evidence_url(version))
    real = [m for m in monitors if m.kind != MonitorKind.COVERAGE and is_real_baseline(m.baseline_version)]
    drift = [m.name for m in real]
    sliced = [m.name for m in real if m.slices]
    url = _evidence_url(version)
    if not real:
        return CheckResult(Status.FAIL, "No drift monitor compares against a real baseline.", value=0, threshold=1,
                           evidence_url=url)
    if not sliced:
        return CheckResult(Status.WARN, f"Drift monitored ({', '.join(drift)}) but no slice is watched.",
                           value=len(drift), threshold="drift and slices", evidence_url=url)
    return CheckResult(Status.PASS, f"Drift monitors {', '.join(drift)}; slices watched by {', '.join(sliced)}.",
                       value=len(real), threshold="drift and slices", evidence_url=url)


@careful_check("L", "L.monitors_healthy", "Latest monitor runs pass")
def monitors_healthy(version, use, params):
    """The latest finished run of every enabled monitor. A failing run fails L
    until a later run passes (or a governance reviewer waives L): acknowledging
    or assigning the alert records that someone is on it, and clears nothing."""
    latest = MonitorRun.objects.filter(monitor=OuterRef("pk"), status=RunStatus.DONE).order_by("-scheduled_for", "-id")
    monitors = list(Monitor.objects.filter(version=version, enabled=True).annotate(
        latest_outcome=Subquery(latest.values("outcome")[:1])).values_list("name", "latest_outcome"))
    url = _evidence_url(version)
    if not monitors:
        return missing("No monitor watches this version.", evidence_url=url)
    ran = [(name, outcome) for name, outcome in monitors if outcome]
    if not ran:
        return missing("No monitor has finished a run yet.", evidence_url=url)
    failing = sorted(name for name, outcome in ran if outcome == "fail")
    alerts = list(Alert.objects.filter(version=version, status__in=OPEN_ALERT_STATES).select_related(
        "monitor", "acknowledged_by"))
    if failing:
        handled = [f"alert #{a.pk} acknowledged by {a.acknowledged_by}" for a in alerts
                   if a.status == AlertStatus.ACKNOWLEDGED and a.monitor.name in failing]
        note = f" ({'; '.join(handled)}: only a passing run or a waiver clears L)" if handled else ""
        summary = next((a.summary for a in alerts if a.monitor.name in failing), "its latest run failed")
        return CheckResult(Status.FAIL, f"Failing monitor(s) {', '.join(failing)}: {summary}{note}",
                           value=len(failing), threshold=0, evidence_url=url)
    not_run = len(monitors) - len(ran)
    if alerts:
        return CheckResult(Status.WARN, f"Latest runs pass; alert(s) on {', '.join(sorted({a.monitor.name for a in alerts}))}"
                           " still open: resolve them.", value=0, threshold=0, evidence_url=url)
    return CheckResult(Status.PASS, f"Latest runs pass ({len(ran)} of {len(monitors)} monitors have run"
                       + (f"; {not_run} not yet" if not_run else "") + ").", value=0, threshold=0, evidence_url=url)
