"""Monitoring reads. Each takes the user, so scope is part of the signature."""
from django.db.models import Prefetch

from .models import OPEN_ALERT_STATES, Alert, Baseline, BaselineVersion, Monitor, MonitorRun, ProductionBatch


def baselines(user):
    return Baseline.objects.visible_to(user).select_related("tenant", "created_by").prefetch_related(
        Prefetch("versions", queryset=BaselineVersion.objects.select_related("source_version__dataset"))
    )


def baseline_versions(user):
    return BaselineVersion.objects.visible_to(user).select_related(
        "baseline__tenant", "source_version__dataset", "source_mix", "created_by"
    )


def monitors(user):
    return Monitor.objects.visible_to(user).select_related(
        "version__dataset", "baseline_version__baseline", "owner", "periodic_task"
    )


def batches(user):
    return ProductionBatch.objects.visible_to(user).select_related("monitor", "created_by")


def runs(user):
    return MonitorRun.objects.visible_to(user).select_related("monitor__version__dataset", "alert")


def alerts(user):
    return Alert.objects.visible_to(user).select_related("monitor", "version__dataset", "assignee")


def open_alerts(user):
    return alerts(user).filter(status__in=OPEN_ALERT_STATES)


def dataset_runs(user, dataset, limit=60):
    """The latest runs of every monitor of the dataset's versions, oldest first (for charts)."""
    latest = runs(user).filter(monitor__version__dataset=dataset).order_by("-scheduled_for", "-id")[:limit]
    return list(reversed(latest))
