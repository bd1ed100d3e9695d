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


@careful_check("L", "L.monitors_healthy", "Latest monitor runs healthy (or the alert handled)")
def monitors_healthy(version, use, params):
    latest = MonitorRun.objects.filter(monitor=OuterRef("pk"), status=RunStatus.DONE).order_by("-scheduled_for", "-id")
    monitors = list(Monitor.objects.filter(version=version, enabled=True).annotate(
        latest_outcome=Subquery(latest.values("outcome")[:1])).values_list("name", "latest_outcome"))
    url = _evidence_url(version)
    if not monitors:
        return missing("No monitor watches this version.", evidence_url=url)
    ran = [(name, outcome) for name, outcome in monitors if outcome]
    if not ran:
        return missing("No monitor has finished a run yet.", evidence_url=url)
    alerts = list(Alert.objects.filter(version=version, status__in=OPEN_ALERT_STATES).select_related("monitor"))
    unhandled = [a for a in alerts if a.status == AlertStatus.OPEN and a.assignee_id is None]
    if unhandled:
        return CheckResult(Status.FAIL, f"Open alert on {', '.join(a.monitor.name for a in unhandled)}: "
                           f"{unhandled[0].summary}", value=len(unhandled), threshold=0, evidence_url=url)
    failing = [name for name, outcome in ran if outcome == "fail"]
    if alerts or failing:
        names = ", ".join(sorted({a.monitor.name for a in alerts} | set(failing)))
        return CheckResult(Status.WARN, f"Failing monitor(s) {names}: the alert is being handled.",
                           value=len(failing), threshold=0, evidence_url=url)
    return CheckResult(Status.PASS, f"Latest runs pass ({len(ran)} of {len(monitors)} monitors have run).",
                       value=0, threshold=0, evidence_url=url)
