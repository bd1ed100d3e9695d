"""The gate cascade of a dataset, the runs of it on a version's candidates, and
the evidence each run keeps: per-step results, every rejection with its
reason, and the fidelity report of the accepted pool against the real anchor.

Runs are evidence: once finished, nothing rewrites them. A new run is a new row.
"""
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from registry.models import Dataset, DatasetVersion, Example, IngestionStatus, choice_check
from registry.querysets import ScopedQuerySet

# Gate runs are jobs like ingestion: one status vocabulary.
RunStatus = IngestionStatus
ACTIVE_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)
FINISHED_STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED)


class GateCascade(models.Model):
    """The ordered gates a dataset's versions pass through. Without one, a
    version runs the default cascade of its manifest's use cell."""

    dataset = models.OneToOneField(Dataset, on_delete=models.CASCADE, related_name="gate_cascade")
    # Bumped on every change of order or parameters; a run records the revision it used.
    revision = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    objects = ScopedQuerySet.as_manager()
    SCOPE_DATASET_PATH = "dataset"

    class Meta:
        ordering = ["dataset_id"]

    def __str__(self):
        return f"gate cascade of {self.dataset}"

    def step_config(self):
        """[{"gate", "params"}] in order: the form a run snapshots."""
        return [{"gate": step.gate, "params": step.params} for step in self.steps.order_by("position")]


class GateStep(models.Model):
    cascade = models.ForeignKey(GateCascade, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(help_text="1 runs first.")
    gate = models.CharField(max_length=64)
    params = models.JSONField(default=dict, blank=True, help_text="Overrides of the gate's default parameters.")
    history = HistoricalRecords()

    objects = ScopedQuerySet.as_manager()
    SCOPE_DATASET_PATH = "cascade__dataset"

    class Meta:
        ordering = ["cascade_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["cascade", "position"], name="gatestep_unique_position"),
            models.CheckConstraint(condition=Q(position__gte=1), name="gatestep_position_positive"),
        ]

    def __str__(self):
        return f"{self.position}. {self.gate}"


class GateRun(models.Model):
    """One run of a cascade on a version's examples, with what it ran (step
    config snapshot, seed, software versions) and how it ended."""

    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="gate_runs")
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done, 0 to 100.")
    steps = models.JSONField(help_text='The cascade as run: [{"gate", "params"}] with every parameter filled in.')
    cascade_revision = models.PositiveIntegerField(
        null=True, blank=True, help_text="Revision of the dataset's cascade; empty when the cell's default ran."
    )
    seed = models.BigIntegerField(default=0)
    software = models.JSONField(default=dict, help_text="python, numpy, scikit-learn and registry versions.")
    anchor_version = models.ForeignKey(
        DatasetVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="anchored_gate_runs"
    )
    pool_count = models.PositiveIntegerField(null=True, blank=True)
    accepted_count = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="Traceback summary of a failed run.")
    failed_position = models.PositiveSmallIntegerField(null=True, blank=True)
    # Compare-and-set claim of the worker executing the run (a redelivered task takes it over).
    claim_token = models.CharField(max_length=32, blank=True, editable=False)
    # Set at the claim and at each stored step: a running run without one for long lost its worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE_DATASET_PATH = "version__dataset"

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            choice_check("status", RunStatus, "gaterun_status_valid"),
            models.CheckConstraint(condition=Q(progress__lte=100), name="gaterun_progress_percent"),
            models.CheckConstraint(
                condition=~Q(status=RunStatus.SUCCEEDED) | Q(progress=100, finished_at__isnull=False),
                name="gaterun_succeeded_complete",
            ),
            models.CheckConstraint(
                condition=Q(accepted_count__isnull=True) | Q(accepted_count__lte=F("pool_count")),
                name="gaterun_accepted_le_pool",
            ),
            # One run at a time per version: a second start is refused, not raced.
            models.UniqueConstraint(
                fields=["version"], condition=Q(status__in=ACTIVE_STATUSES), name="gaterun_one_active_per_version"
            ),
        ]
        indexes = [models.Index(fields=["version", "status", "-finished_at"], name="gaterun_version_status")]

    def __str__(self):
        return f"gate run #{self.pk} on {self.version_id}"

    @property
    def is_finished(self):
        return self.status in FINISHED_STATUSES

    @property
    def duration_seconds(self):
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class GateStepResult(models.Model):
    """What one gate of a run did: written with its rejections in one transaction."""

    run = models.ForeignKey(GateRun, on_delete=models.CASCADE, related_name="results")
    position = models.PositiveSmallIntegerField()
    gate = models.CharField(max_length=64)
    params = models.JSONField(default=dict)
    count_in = models.PositiveIntegerField()
    count_out = models.PositiveIntegerField()
    seconds = models.FloatField()
    metrics = models.JSONField(default=dict, blank=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE_DATASET_PATH = "run__version__dataset"

    class Meta:
        ordering = ["run_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "position"], name="gatestepresult_unique_position"),
            models.CheckConstraint(condition=Q(count_out__lte=F("count_in")), name="gatestepresult_out_le_in"),
            models.CheckConstraint(condition=Q(seconds__gte=0), name="gatestepresult_seconds_nonnegative"),
            models.CheckConstraint(condition=Q(position__gte=1), name="gatestepresult_position_positive"),
        ]

    def __str__(self):
        return f"{self.position}. {self.gate}: {self.count_in} → {self.count_out}"

    @property
    def rejected(self):
        return self.count_in - self.count_out


class Rejection(models.Model):
    """One example a gate rejected in a run: the reject set, kept as evidence."""

    run = models.ForeignKey(GateRun, on_delete=models.CASCADE, related_name="rejections", db_index=False)
    example = models.ForeignKey(Example, on_delete=models.CASCADE, related_name="gate_rejections")
    gate = models.CharField(max_length=64)
    position = models.PositiveSmallIntegerField()
    reason = models.TextField()
    details = models.JSONField(default=dict, blank=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE_DATASET_PATH = "run__version__dataset"

    class Meta:
        ordering = ["run_id", "position", "example_id"]
        constraints = [
            # A gate only sees the survivors of the ones before it: an example is rejected once.
            models.UniqueConstraint(fields=["run", "example"], name="rejection_unique_example"),
        ]
        # The unique (run, example) index serves "the reject set of run R"; this one its filter by gate.
        indexes = [models.Index(fields=["run", "position"], name="rejection_run_position")]

    def __str__(self):
        return f"{self.example_id} rejected by {self.gate}"


class FidelityReport(models.Model):
    """Fidelity of a run's accepted pool against the real anchor (gates.fidelity)."""

    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="fidelity_reports")
    run = models.OneToOneField(GateRun, on_delete=models.CASCADE, related_name="fidelity_report")
    anchor_version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="+")
    results = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE_DATASET_PATH = "version__dataset"

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"fidelity of {self.version_id} (run #{self.run_id})"
