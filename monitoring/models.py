"""Lifecycle monitoring (CAREFUL L): real baselines, drift / slice / coverage
monitors, their runs, production batches and alerts."""
from pathlib import Path

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from registry.models import DatasetVersion, Tenant, choice_check
from registry.querysets import ScopedQuerySet


# A production window beyond ten years means a typo, and overflows date arithmetic.
MAX_WINDOW_HOURS = 24 * 366 * 10

class ColumnType(models.TextChoices):
    NUMERIC = "numeric", "Numeric"
    CATEGORICAL = "categorical", "Categorical"
    TEXT = "text", "Text"
    DATETIME = "datetime", "Datetime"


class BaselineSource(models.TextChoices):
    VERSION = "version", "Dataset version"
    TRAINING_MIX = "training_mix", "Training mix"
    UPLOAD = "upload", "Uploaded sample"


class Baseline(models.Model):
    """A named real reference distribution of one tenant; its content lives in versions."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="baselines")
    name = models.SlugField(max_length=100)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = ScopedQuerySet.as_manager()
    SCOPE_TENANT_FIELD = "tenant"

    class Meta:
        ordering = ["tenant_id", "name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="baseline_unique_name")]

    def __str__(self):
        return self.name


class BaselineVersion(models.Model):
    """An immutable snapshot of a baseline: its rows stored once as Parquet under
    MEDIA_ROOT (typed by the column definition), and per-column reference
    statistics computed when it was stored. No service ever changes one."""

    baseline = models.ForeignKey(Baseline, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    source = models.CharField(max_length=16, choices=BaselineSource.choices)
    source_version = models.ForeignKey(
        DatasetVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="baseline_versions"
    )
    source_mix = models.ForeignKey(
        "training.TrainingMix", null=True, blank=True, on_delete=models.PROTECT, related_name="baseline_versions"
    )
    source_file_name = models.CharField(max_length=255, blank=True)
    # [{"name": ..., "type": numeric|categorical|text|datetime}, ...]
    columns = models.JSONField()
    target_column = models.CharField(max_length=200, blank=True)
    prediction_column = models.CharField(max_length=200, blank=True)
    stored_path = models.CharField(max_length=500, help_text="The Parquet file, relative to MEDIA_ROOT.")
    file_sha256 = models.CharField(max_length=64)
    row_count = models.PositiveIntegerField()
    stats = models.JSONField(default=dict, help_text="Per-column reference statistics.")
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE_TENANT_FIELD = "baseline__tenant"

    class Meta:
        ordering = ["baseline_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["baseline", "number"], name="baselineversion_unique_number"),
            choice_check("source", BaselineSource, "baselineversion_source_valid"),
            models.CheckConstraint(
                condition=(Q(source=BaselineSource.VERSION) & Q(source_version__isnull=False))
                | (Q(source=BaselineSource.TRAINING_MIX) & Q(source_mix__isnull=False))
                | (Q(source=BaselineSource.UPLOAD) & ~Q(source_file_name="")),
                name="baselineversion_source_named",
            ),
            models.CheckConstraint(condition=Q(row_count__gte=1), name="baselineversion_not_empty"),
        ]

    def __str__(self):
        return f"{self.baseline.name} v{self.number}"

    @property
    def path(self):
        return Path(settings.MEDIA_ROOT) / self.stored_path

    @property
    def column_names(self):
        return [column["name"] for column in self.columns]


class MonitorKind(models.TextChoices):
    DRIFT = "drift", "Drift"
    SLICE = "slice", "Slice"
    COVERAGE = "coverage", "Coverage"


class DataSource(models.TextChoices):
    VERSION = "version", "The watched version's examples"
    PRODUCTION = "production", "Production batches posted to the monitor"


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class Monitor(models.Model):
    """Compares current data (the watched version's examples, or recent
    production batches) with a baseline version: column drift (Evidently),
    per-slice drift, or production coverage of the training regions. Alerts
    open on ``version``."""

    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="monitors")
    name = models.SlugField(max_length=100)
    kind = models.CharField(max_length=16, choices=MonitorKind.choices, default=MonitorKind.DRIFT)
    source = models.CharField(max_length=16, choices=DataSource.choices, default=DataSource.VERSION)
    baseline_version = models.ForeignKey(BaselineVersion, on_delete=models.PROTECT, related_name="monitors")
    columns = models.JSONField(default=list, blank=True, help_text="Columns compared; empty means all.")
    # {"column": {"method": "psi", "threshold": 0.2}}; Evidently's defaults for the rest.
    column_methods = models.JSONField(default=dict, blank=True)
    drift_share = models.FloatField(default=0.5, help_text="Share of drifted columns that fails the run.")
    # [{"name": "hard", "filter": "difficulty == 'hard'"}]
    slices = models.JSONField(default=list, blank=True)
    min_slice_rows = models.PositiveIntegerField(default=5, help_text="Smaller slices are reported, not judged.")
    coverage_clusters = models.PositiveSmallIntegerField(default=8)
    coverage_min_support = models.FloatField(default=0.01, help_text="Training share under which a region is unsupported.")
    coverage_max_uncovered = models.FloatField(
        default=0.05, help_text="Share of production in unsupported regions that fails the run."
    )
    window_hours = models.PositiveIntegerField(
        default=24 * 7, validators=[MinValueValidator(1), MaxValueValidator(MAX_WINDOW_HOURS)],
        help_text=f"Production batches ending this recently (1 to {MAX_WINDOW_HOURS} hours).")
    sample_rows = models.PositiveIntegerField(null=True, blank=True, help_text="Sample larger sides to this many rows.")
    sample_seed = models.BigIntegerField(default=0)
    column_chunk = models.PositiveIntegerField(null=True, blank=True, help_text="Columns per Evidently pass.")
    schedule = models.CharField(max_length=100, blank=True, help_text='Crontab "minute hour day month weekday"; blank: on demand.')
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="monitors")
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.MEDIUM)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = ScopedQuerySet.as_manager()
    SCOPE_DATASET_PATH = "version__dataset"

    class Meta:
        ordering = ["version_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["version", "name"], name="monitor_unique_name"),
            choice_check("kind", MonitorKind, "monitor_kind_valid"),
            choice_check("source", DataSource, "monitor_source_valid"),
            choice_check("severity", Severity, "monitor_severity_valid"),
            models.CheckConstraint(condition=Q(drift_share__gt=0, drift_share__lte=1), name="monitor_drift_share_valid"),
            models.CheckConstraint(
                condition=Q(coverage_min_support__gte=0, coverage_min_support__lt=1)
                & Q(coverage_max_uncovered__gte=0, coverage_max_uncovered__lte=1),
                name="monitor_coverage_shares_valid",
            ),
            models.CheckConstraint(condition=Q(coverage_clusters__gte=2), name="monitor_coverage_clusters_valid"),
            models.CheckConstraint(condition=Q(window_hours__gte=1, window_hours__lte=MAX_WINDOW_HOURS),
                                   name="monitor_window_hours_valid"),
        ]

    def __str__(self):
        return f"{self.name} on {self.version}"


class ProductionBatch(models.Model):
    """Recent production rows a team posted to a monitor, stored once as Parquet."""

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="batches")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    file_name = models.CharField(max_length=255)
    stored_path = models.CharField(max_length=500)
    file_sha256 = models.CharField(max_length=64)
    row_count = models.PositiveIntegerField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE_DATASET_PATH = "monitor__version__dataset"

    class Meta:
        ordering = ["-ended_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(ended_at__gte=models.F("started_at")), name="batch_time_range_ordered"),
            models.CheckConstraint(condition=Q(row_count__gte=1), name="batch_not_empty"),
        ]
        # Runs read the batches of a monitor ending inside their window.
        indexes = [models.Index(fields=["monitor", "ended_at"], name="batch_monitor_ended")]

    def __str__(self):
        return f"batch #{self.pk} of {self.monitor.name}"

    @property
    def path(self):
        return Path(settings.MEDIA_ROOT) / self.stored_path


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    ERROR = "error", "Error"


class Outcome(models.TextChoices):
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"


class AlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


class Resolution(models.TextChoices):
    FALSE_POSITIVE = "false_positive", "False positive"
    REGENERATE = "regenerate", "Regenerate"
    RETIRE = "retire", "Retire"
    OTHER = "other", "Other"


OPEN_ALERT_STATES = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)


class Alert(models.Model):
    """A failing monitor's alert on its version; later failing runs attach to it."""

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="alerts")
    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="monitoring_alerts")
    status = models.CharField(max_length=16, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    summary = models.TextField()
    opened_at = models.DateTimeField(auto_now_add=True)
    failing_runs = models.PositiveIntegerField(default=1)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="assigned_alerts"
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=16, choices=Resolution.choices, blank=True)
    resolution_note = models.TextField(blank=True)
    regenerated_version = models.ForeignKey(
        DatasetVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    objects = ScopedQuerySet.as_manager()
    SCOPE_DATASET_PATH = "version__dataset"

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            # Repeated failures attach to the open alert instead of flooding.
            models.UniqueConstraint(
                fields=["monitor"], condition=Q(status__in=OPEN_ALERT_STATES), name="alert_one_open_per_monitor"
            ),
            choice_check("status", AlertStatus, "alert_status_valid"),
            models.CheckConstraint(
                condition=~Q(status=AlertStatus.RESOLVED) | (~Q(resolution="") & Q(resolved_at__isnull=False)),
                name="alert_resolved_has_reason",
            ),
        ]
        # Version pages and the L checks look up a version's open alerts.
        indexes = [models.Index(fields=["version", "status"], name="alert_version_status")]

    def __str__(self):
        return f"alert #{self.pk} ({self.monitor.name})"

    @property
    def is_open(self):
        return self.status in OPEN_ALERT_STATES


class MonitorRun(models.Model):
    """One run of a monitor for one scheduled time (or on-demand request). Its
    results are written in one transaction when it finishes, so a run is
    either complete or has no results at all."""

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="runs")
    scheduled_for = models.DateTimeField()
    trigger = models.CharField(max_length=16, default="manual", help_text="schedule, manual, demo.")
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_reference = models.PositiveIntegerField(null=True, blank=True)
    rows_current = models.PositiveIntegerField(null=True, blank=True)
    sampled = models.BooleanField(default=False)
    drift_share = models.FloatField(null=True, blank=True, help_text="Share of drifted columns (aggregate).")
    drifted_columns = models.JSONField(default=list, blank=True)
    # {"column": {"method", "threshold", "score", "drifted"}}
    column_metrics = models.JSONField(default=dict, blank=True)
    # {"slice": {"rows_reference", "rows_current", "drift_share", "failed", "columns": {...}}}
    slice_metrics = models.JSONField(default=dict, blank=True)
    coverage = models.JSONField(default=dict, blank=True)
    # {"part": {"html": path, "json": path}} (paths relative to MEDIA_ROOT)
    reports = models.JSONField(default=dict, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    alert = models.ForeignKey(Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE_DATASET_PATH = "monitor__version__dataset"

    class Meta:
        ordering = ["-scheduled_for", "-id"]
        constraints = [
            # Idempotent runs: one row per monitor and scheduled time.
            models.UniqueConstraint(fields=["monitor", "scheduled_for"], name="run_unique_scheduled_for"),
            choice_check("status", RunStatus, "run_status_valid"),
            models.CheckConstraint(
                condition=(Q(status=RunStatus.DONE) & ~Q(outcome="")) | (~Q(status=RunStatus.DONE) & Q(outcome="")),
                name="run_outcome_iff_done",
            ),
        ]
        # The reclaim sweep looks for runs stuck in "running".
        indexes = [models.Index(fields=["status", "claimed_at"], name="run_status_claimed")]

    def __str__(self):
        return f"run #{self.pk} of {self.monitor.name} for {self.scheduled_for:%Y-%m-%d %H:%M}"

    @property
    def duration_seconds(self):
        return self.timings.get("total")
