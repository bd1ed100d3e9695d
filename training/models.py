"""Evaluation isolation (eval sets, leakage scans, generator-provenance checks)
and ratio-capped training mixes (CAREFUL E, and the ratio half of A)."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from registry.models import DatasetVersion, Example, Generator, IngestionStatus, Tenant, choice_check
from registry.querysets import ScopedQuerySet


# Scans and mix builds are jobs like ingestion: one status vocabulary.
JobStatus = IngestionStatus


class ModelFamily(models.Model):
    """A named model (or purpose) that eval sets, scans and mixes belong to,
    e.g. "support-intent-classifier" of one tenant."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="model_families")
    name = models.SlugField(max_length=100)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = ScopedQuerySet.as_manager()
    SCOPE_TENANT_FIELD = "tenant"

    class Meta:
        ordering = ["tenant_id", "name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="modelfamily_unique_name")]

    def __str__(self):
        return self.name


class EvaluationSet(models.Model):
    """A registered version designated as the evaluation set of a model family.

    Designating flags the version's rows eval_exclusion and never_train_on; the
    flags stay when another version takes over (once an eval item, never trained on).
    """

    family = models.ForeignKey(ModelFamily, on_delete=models.PROTECT, related_name="evaluation_sets")
    version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="evaluation_sets")
    active = models.BooleanField(default=True)
    # Snapshot at designation: real rows only, or a red-team cell (synthetic allowed).
    is_real = models.BooleanField()
    use_cell = models.CharField(max_length=32)
    rows_flagged = models.PositiveIntegerField(default=0)
    designated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    designated_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = ScopedQuerySet.as_manager()
    SCOPE_TENANT_FIELD = "family__tenant"

    class Meta:
        ordering = ["family_id", "-designated_at"]
        constraints = [
            models.UniqueConstraint(fields=["family", "version"], name="evalset_unique_version"),
            # One current evaluation set per family.
            models.UniqueConstraint(fields=["family"], condition=Q(active=True), name="evalset_one_active"),
        ]

    def __str__(self):
        return f"eval set of {self.family}: {self.version}"


class LeakageScan(models.Model):
    """Evaluation version vs training candidate versions; the leaks found are
    stored pair by pair in LeakagePair."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    evaluation_set = models.ForeignKey(EvaluationSet, on_delete=models.PROTECT, related_name="scans")
    candidates = models.ManyToManyField(DatasetVersion, related_name="leakage_scans")
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    params = models.JSONField(default=dict, blank=True)
    eval_items = models.PositiveIntegerField(default=0)
    candidate_items = models.PositiveIntegerField(default=0)
    exact_pairs = models.PositiveIntegerField(default=0)
    near_pairs = models.PositiveIntegerField(default=0)
    seed_pairs = models.PositiveIntegerField(default=0)
    leaked_eval_items = models.PositiveIntegerField(default=0)
    progress = models.FloatField(default=0)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE_TENANT_FIELD = "tenant"

    class Meta:
        ordering = ["-created_at"]
        constraints = [choice_check("status", JobStatus, "leakagescan_status_valid")]

    def __str__(self):
        return f"leakage scan #{self.pk}"

    @property
    def total_pairs(self):
        return self.exact_pairs + self.near_pairs + self.seed_pairs

    @property
    def is_clean(self):
        return self.status == JobStatus.SUCCEEDED and self.total_pairs == 0


class LeakKind(models.TextChoices):
    EXACT = "exact", "Exact (same content hash)"
    NEAR = "near", "Near-duplicate (MinHash)"
    SEED = "seed", "Seed (generated from the eval item)"


class LeakagePair(models.Model):
    scan = models.ForeignKey(LeakageScan, on_delete=models.CASCADE, related_name="pairs")
    kind = models.CharField(max_length=8, choices=LeakKind.choices)
    eval_example = models.ForeignKey(Example, on_delete=models.CASCADE, related_name="+")
    training_example = models.ForeignKey(Example, on_delete=models.CASCADE, related_name="+")
    # 1.0 for exact and seed pairs; estimated Jaccard for near ones.
    similarity = models.FloatField(default=1.0)

    objects = ScopedQuerySet.as_manager()
    SCOPE_TENANT_FIELD = "scan__tenant"

    class Meta:
        ordering = ["scan_id", "kind", "eval_example_id", "training_example_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["scan", "kind", "eval_example", "training_example"], name="leakagepair_unique"
            ),
            choice_check("kind", LeakKind, "leakagepair_kind_valid"),
        ]


class GeneratorProvenanceCheck(models.Model):
    """No eval item may carry synthetic lineage (unless its cell is red-team),
    nor come from a generator that also produced training data for the family."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    evaluation_set = models.ForeignKey(EvaluationSet, on_delete=models.PROTECT, related_name="provenance_checks")
    training_versions = models.ManyToManyField(DatasetVersion, related_name="provenance_checks")
    passed = models.BooleanField()
    synthetic_eval_items = models.PositiveIntegerField(default=0)
    shared_generator_items = models.PositiveIntegerField(default=0)
    shared_generators = models.ManyToManyField(Generator, blank=True, related_name="+")
    # The first findings, item by item (the counts above are complete).
    findings = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE_TENANT_FIELD = "tenant"

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"provenance check #{self.pk}"


class TrainingMix(models.Model):
    """A ratio-capped selection of examples from approved versions, for one
    model family and requesting tenant. Built whole or not at all."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="training_mixes")
    family = models.ForeignKey(ModelFamily, on_delete=models.PROTECT, related_name="mixes")
    name = models.SlugField(max_length=100)
    purpose = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="training_mixes")
    seed = models.BigIntegerField()
    max_synthetic_ratio = models.FloatField(null=True, blank=True, help_text="The tightest component cap applied.")
    synthetic_ratio = models.FloatField()
    total_count = models.PositiveIntegerField()
    synthetic_count = models.PositiveIntegerField()
    real_count = models.PositiveIntegerField()
    synthetic_pool_count = models.PositiveIntegerField()
    labels_before = models.JSONField(default=dict)
    labels_after = models.JSONField(default=dict)
    manifest = models.JSONField()
    content_hash = models.CharField(max_length=64)
    affected = models.BooleanField(default=False)
    affected_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["manifest", "labels_before", "labels_after"])

    objects = ScopedQuerySet.as_manager()
    SCOPE_TENANT_FIELD = "tenant"

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="trainingmix_unique_name"),
            models.CheckConstraint(
                condition=Q(synthetic_ratio__gte=0, synthetic_ratio__lte=1), name="trainingmix_ratio_in_unit_interval"
            ),
            models.CheckConstraint(condition=Q(total_count__gte=1), name="trainingmix_not_empty"),
        ]

    def __str__(self):
        return self.name


class MixComponent(models.Model):
    """One version a mix used, with what it contributed."""

    mix = models.ForeignKey(TrainingMix, on_delete=models.CASCADE, related_name="components")
    version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="mix_components")
    manifest_hash = models.CharField(max_length=64)
    max_synthetic_ratio = models.FloatField(null=True, blank=True)
    pool_count = models.PositiveIntegerField()
    selected_count = models.PositiveIntegerField()

    class Meta:
        ordering = ["mix_id", "id"]
        constraints = [models.UniqueConstraint(fields=["mix", "version"], name="mixcomponent_unique_version")]


class MixExample(models.Model):
    """One selected example of a mix (bulk-inserted; COPY on PostgreSQL)."""

    # No index of its own: the unique (mix, example) index serves lookups by mix,
    # and a million-row COPY maintains one index fewer.
    mix = models.ForeignKey(TrainingMix, on_delete=models.CASCADE, related_name="examples", db_index=False)
    example = models.ForeignKey(Example, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mix", "example"], name="mixexample_unique")]


class MixBuild(models.Model):
    """A queued mix build (Celery): its status, and the mix or the error.
    A failed build leaves no mix row, only this record of why."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    params = models.JSONField()
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    error = models.JSONField(default=dict, blank=True)
    mix = models.OneToOneField(TrainingMix, null=True, blank=True, on_delete=models.SET_NULL, related_name="build")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE_TENANT_FIELD = "tenant"

    class Meta:
        ordering = ["-created_at"]
        constraints = [choice_check("status", JobStatus, "mixbuild_status_valid")]


class AuditAction(models.TextChoices):
    EVAL_SET_DESIGNATED = "eval_set_designated", "Evaluation set designated (rows flagged)"
    MIX_BUILT = "mix_built", "Training mix built (examples bulk-inserted)"
    MIXES_AFFECTED = "mixes_affected", "Mixes marked affected by a version state change"


class AuditEntry(models.Model):
    """The audit record of a bulk write (.update()/COPY write no history rows)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    version = models.ForeignKey(DatasetVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    mix = models.ForeignKey(TrainingMix, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    rows_affected = models.PositiveIntegerField(default=0)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE_TENANT_FIELD = "tenant"

    class Meta:
        ordering = ["-created_at"]
        constraints = [choice_check("action", AuditAction, "auditentry_action_valid")]
