"""Monitoring in the admin: read-only views for governance staff of the tenant
(changes go through the services: API, pages, CLI). Each scheduled monitor's
beat entry is its django-celery-beat PeriodicTask, editable under Periodic tasks."""
from django.contrib import admin

from registry.admin_scope import GovernedAdmin

from .models import Alert, Baseline, BaselineVersion, Monitor, MonitorRun, ProductionBatch


@admin.register(Baseline)
class BaselineAdmin(GovernedAdmin):
    list_display = ["name", "tenant", "created_by", "created_at"]
    search_fields = ["name"]


@admin.register(BaselineVersion)
class BaselineVersionAdmin(GovernedAdmin):
    list_display = ["__str__", "source", "row_count", "created_by", "created_at"]
    list_filter = ["source"]


@admin.register(Monitor)
class MonitorAdmin(GovernedAdmin):
    list_display = ["name", "kind", "version", "baseline_version", "schedule", "periodic_task", "owner", "severity",
                    "enabled"]
    list_filter = ["kind", "source", "severity", "enabled"]
    search_fields = ["name"]


@admin.register(ProductionBatch)
class ProductionBatchAdmin(GovernedAdmin):
    list_display = ["__str__", "started_at", "ended_at", "row_count", "created_by"]


@admin.register(MonitorRun)
class MonitorRunAdmin(GovernedAdmin):
    list_display = ["__str__", "status", "outcome", "drift_share", "attempts", "finished_at"]
    list_filter = ["status", "outcome"]
    exclude = ["claim_token"]


@admin.register(Alert)
class AlertAdmin(GovernedAdmin):
    list_display = ["__str__", "version", "status", "severity", "failing_runs", "opened_at", "resolution"]
    list_filter = ["status", "severity", "resolution"]
