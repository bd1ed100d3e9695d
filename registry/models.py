"""The governed catalog: tenants, datasets (data products), immutable versions,
their manifests, and the generator / prompt-template store."""
import hashlib
import json
from pathlib import Path

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from .choices import DatasetKind, Harm, Modality, Origin, RegistryRole, Role, Use, VersionState
from .querysets import ScopedQuerySet


def choice_check(field, choices, name):
    return models.CheckConstraint(condition=Q(**{f"{field}__in": choices.values}), name=name)


class Tenant(models.Model):
    """An organization or team: the unit of data ownership and visibility."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["slug"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    """A user's role in a tenant. A user may hold several roles in one tenant."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = ScopedQuerySet.as_manager()
    SCOPE_TENANT_FIELD = "tenant"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant", "role"], name="membership_unique_role"),
            choice_check("role", Role, "membership_role_valid"),
        ]
        # visible_to() looks up "tenants of this user" on every scoped read.
        indexes = [models.Index(fields=["user", "tenant"], name="membership_user_tenant")]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} @ {self.tenant}"


class RegistryMembership(models.Model):
    """A registry-wide role (registry admin, policy admin, vocabulary steward):
    for what all tenants share. Granted by superusers only."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="registry_roles")
    role = models.CharField(max_length=32, choices=RegistryRole.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="registry_membership_unique_role"),
            choice_check("role", RegistryRole, "registry_membership_role_valid"),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} (registry-wide)"


class Dataset(models.Model):
    """The data product's identity; its content lives in versions."""

    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="datasets")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_datasets")
    kind = models.CharField(max_length=32, choices=DatasetKind.choices)
    modality = models.CharField(max_length=16, choices=Modality.choices, default=Modality.TEXT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    objects = ScopedQuerySet.as_manager()
    SCOPE_DATASET_PATH = ""

    class Meta:
        ordering = ["slug"]
        constraints = [
            choice_check("kind", DatasetKind, "dataset_kind_valid"),
            choice_check("modality", Modality, "dataset_modality_valid"),
        ]
        permissions = [("share_dataset", "Can share a dataset with other users")]

    def __str__(self):
        return self.slug


class DatasetUserObjectPermission(UserObjectPermissionBase):
    """Direct-FK guardian table: a dataset shared with one user (fast joins)."""

    content_object = models.ForeignKey(Dataset, on_delete=models.CASCADE)


class DatasetGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Dataset, on_delete=models.CASCADE)


class DatasetVersion(models.Model):
    """An immutable content version of a dataset, with its lifecycle state."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    state = models.CharField(max_length=16, choices=VersionState.choices, default=VersionState.DRAFT)
    notes = models.TextField(blank=True, help_text="What changed in this version and why.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="created_versions"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="submitted_versions"
    )
    state_changed_at = models.DateTimeField(auto_now_add=True)
    retired_reason = models.TextField(blank=True)
    # Set by monitoring alerts; cleared when the alert is resolved.
    needs_review = models.BooleanField(default=False)
    history = HistoricalRecords()

    objects = ScopedQuerySet.as_manager()
    SCOPE_DATASET_PATH = "dataset"

    class Meta:
        ordering = ["dataset_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "number"], name="version_unique_number"),
            models.CheckConstraint(condition=Q(number__gte=1), name="version_number_positive"),
            choice_check("state", VersionState, "version_state_valid"),
            models.CheckConstraint(
                condition=~Q(state=VersionState.RETIRED) | ~Q(retired_reason=""), name="version_retired_has_reason"
            ),
        ]
        indexes = [models.Index(fields=["state"], name="version_state")]

    def __str__(self):
        return f"{self.dataset.slug} v{self.number}"

    @property
    def is_mutable(self):
        """Content and manifest may change only while the version is a draft."""
        return self.state == VersionState.DRAFT


class Manifest(models.Model):
    """What a version is for and what it may never be used for.

    Serialized canonically (sorted JSON) and hashed, so two manifests compare by
    hash and diff field by field; sign-offs are given for a hash.
    """

    version = models.OneToOneField(DatasetVersion, on_delete=models.CASCADE, related_name="manifest")
    # The purpose worksheet (CAREFUL C).
    purpose_gap = models.TextField(blank=True, help_text="The gap being filled.")
    purpose_why_not_real = models.TextField(blank=True, help_text="Why real data will not suffice.")
    purpose_success_criterion = models.TextField(
        blank=True, help_text="The success criterion, measured on real held-aside data."
    )
    use_cell = models.CharField(max_length=32, choices=Use.choices, default=Use.TRAINING)
    intended_uses = models.JSONField(default=list, blank=True)
    prohibited_uses = models.JSONField(default=list, blank=True)
    max_synthetic_ratio = models.FloatField(null=True, blank=True)
    expires_at = models.DateField(null=True, blank=True)
    tenant_scope = models.ManyToManyField(Tenant, blank=True, related_name="scoped_manifests")
    real_anchor = models.ForeignKey(
        Dataset, null=True, blank=True, on_delete=models.PROTECT, related_name="anchored_manifests"
    )
    eval_exclusion = models.BooleanField(default=False)
    never_train_on = models.BooleanField(default=False)
    allow_duplicates = models.BooleanField(default=False, help_text="Allow identical examples within the version.")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_manifests")
    harm_if_wrong = models.CharField(max_length=8, choices=Harm.choices, default=Harm.MEDIUM)
    cheap_verifier = models.BooleanField(default=False, help_text="A cheap verifier exists for outputs trained on it.")
    content_hash = models.CharField(max_length=64, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(m2m_fields=[tenant_scope])

    objects = ScopedQuerySet.as_manager()
    SCOPE_DATASET_PATH = "version__dataset"

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(max_synthetic_ratio__isnull=True)
                | Q(max_synthetic_ratio__gte=0, max_synthetic_ratio__lte=1),
                name="manifest_ratio_in_unit_interval",
            ),
            choice_check("use_cell", Use, "manifest_use_cell_valid"),
            choice_check("harm_if_wrong", Harm, "manifest_harm_valid"),
        ]
        indexes = [models.Index(fields=["expires_at"], name="manifest_expires_at")]

    def __str__(self):
        return f"manifest of {self.version}"

    PURPOSE_FIELDS = ("purpose_gap", "purpose_why_not_real", "purpose_success_criterion")

    @property
    def purpose_complete(self):
        return all(getattr(self, name).strip() for name in self.PURPOSE_FIELDS)

    def canonical(self, tenant_scope=None):
        """The manifest as a plain dict with stable ordering (the hashed form).

        ``tenant_scope`` overrides the stored scope (tenants about to be set)."""
        if tenant_scope is None:
            tenant_scope = self.tenant_scope.all() if self.pk else []
        return {
            "purpose_gap": self.purpose_gap,
            "purpose_why_not_real": self.purpose_why_not_real,
            "purpose_success_criterion": self.purpose_success_criterion,
            "use_cell": self.use_cell,
            "intended_uses": sorted(self.intended_uses),
            "prohibited_uses": sorted(self.prohibited_uses),
            "max_synthetic_ratio": self.max_synthetic_ratio,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "tenant_scope": sorted(t.slug for t in tenant_scope),
            "real_anchor": self.real_anchor.slug if self.real_anchor_id else None,
            "eval_exclusion": self.eval_exclusion,
            "never_train_on": self.never_train_on,
            "allow_duplicates": self.allow_duplicates,
            "owner": self.owner.get_username() if self.owner_id else None,
            "harm_if_wrong": self.harm_if_wrong,
            "cheap_verifier": self.cheap_verifier,
        }

    def canonical_json(self, tenant_scope=None):
        return json.dumps(self.canonical(tenant_scope), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def compute_hash(self, tenant_scope=None):
        return hashlib.sha256(self.canonical_json(tenant_scope).encode("utf-8")).hexdigest()


class Generator(models.Model):
    """A generating system (model or pipeline) by name and version."""

    name = models.CharField(max_length=200)
    version = models.CharField(max_length=100)
    provider = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name", "version"]
        constraints = [models.UniqueConstraint(fields=["name", "version"], name="generator_unique_name_version")]

    def __str__(self):
        return f"{self.name}@{self.version}"


class PromptTemplate(models.Model):
    """A versioned prompt template. Immutable: a change is a new version."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="prompt_templates")
    name = models.CharField(max_length=200)
    version = models.PositiveIntegerField()
    body = models.TextField()
    body_sha256 = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = ScopedQuerySet.as_manager()
    SCOPE_TENANT_FIELD = "tenant"

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name", "version"], name="template_unique_version"),
            models.CheckConstraint(condition=Q(version__gte=1), name="template_version_positive"),
        ]

    def __str__(self):
        return f"{self.name} v{self.version}"

    @staticmethod
    def hash_body(body):
        return hashlib.sha256(body.encode("utf-8")).hexdigest()


class Example(models.Model):
    """One example of a version, with its lineage, written in the same operation
    that registers it. Immutable rows: no per-row history; the ingestion job is
    their audit record.

    The database refuses a synthetic row that cannot name its generator and
    prompt (CHECK), and a second copy of the same content in a version unless
    the manifest allows duplicates (``dup_rank`` stays 0 then, so UNIQUE on
    (version, content_hash, dup_rank) bites).
    """

    # No single-column index on version: both UNIQUE indexes below lead with it.
    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="examples", db_index=False)
    ordinal = models.PositiveIntegerField(help_text="Row number in the version, from 1.")
    # Text examples fill ``text``; tabular examples fill ``data`` (a JSON object of columns).
    text = models.TextField(blank=True)
    data = models.JSONField(null=True, blank=True)
    content_hash = models.CharField(max_length=64)
    dup_rank = models.PositiveSmallIntegerField(default=0)
    label = models.CharField(max_length=200, blank=True)
    origin = models.CharField(max_length=16, choices=Origin.choices)
    # Unindexed: every query filters examples by version first (a generator or
    # template is deleted rarely, and only when no example cites it).
    generator = models.ForeignKey(Generator, null=True, blank=True, on_delete=models.PROTECT, related_name="examples",
                                  db_index=False)
    prompt_template = models.ForeignKey(
        PromptTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="examples", db_index=False
    )
    prompt_hash = models.CharField(max_length=64, blank=True)
    seed_example = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="derived_examples"
    )
    seed_external_id = models.CharField(max_length=200, blank=True)
    sampling_params = models.JSONField(default=dict, blank=True)
    intended_use = models.CharField(max_length=32, blank=True)
    eval_exclusion = models.BooleanField(default=False)
    never_train_on = models.BooleanField(default=False)

    objects = ScopedQuerySet.as_manager()
    SCOPE_DATASET_PATH = "version__dataset"

    class Meta:
        ordering = ["version_id", "ordinal"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(origin=Origin.SYNTHETIC) | (Q(generator__isnull=False) & ~Q(prompt_hash="")),
                name="example_synthetic_has_provenance",
            ),
            choice_check("origin", Origin, "example_origin_valid"),
            models.UniqueConstraint(fields=["version", "content_hash", "dup_rank"], name="example_unique_content"),
            models.UniqueConstraint(fields=["version", "ordinal"], name="example_unique_ordinal"),
        ]
        # Lookups by content (dedup against the anchor, leakage scans, diffs) name the
        # versions too: UNIQUE (version, content_hash, dup_rank) serves them, so no
        # global content-hash index (each index costs every ingested row).

    def __str__(self):
        return f"{self.version} #{self.ordinal}"


class IngestionFormat(models.TextChoices):
    JSONL = "jsonl", "JSON Lines"
    CSV = "csv", "CSV"
    PARQUET = "parquet", "Parquet"


class IngestionStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class IngestionJob(models.Model):
    """One upload of examples into a draft version: the audit record of the rows
    it wrote (examples carry no per-row history). Rows and the job's final
    status commit in one transaction, so "succeeded" means every row is there
    and "failed" means none is."""

    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="ingestion_jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=16, default="api", help_text="api, cli or demo.")
    file_name = models.CharField(max_length=255, help_text="The name the file was uploaded under.")
    stored_path = models.CharField(max_length=500, help_text="Where the file is kept, relative to MEDIA_ROOT.")
    file_sha256 = models.CharField(max_length=64)
    file_size = models.PositiveBigIntegerField()
    format = models.CharField(max_length=16, choices=IngestionFormat.choices)
    status = models.CharField(max_length=16, choices=IngestionStatus.choices, default=IngestionStatus.QUEUED)
    rows_total = models.PositiveIntegerField(null=True, blank=True, help_text="Rows in the file (estimated for CSV).")
    rows_processed = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="The first 100 errors: row, field, message.")
    counts = models.JSONField(default=dict, blank=True, help_text="What the upload added, by origin.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    objects = ScopedQuerySet.as_manager()
    SCOPE_DATASET_PATH = "version__dataset"

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            choice_check("format", IngestionFormat, "ingestion_format_valid"),
            choice_check("status", IngestionStatus, "ingestion_status_valid"),
        ]

    def __str__(self):
        return f"ingestion #{self.pk} into {self.version_id}"

    @property
    def path(self):
        """The stored file: uploads live under MEDIA_ROOT; a CLI ingestion reads the operator's file in place."""
        return Path(settings.MEDIA_ROOT) / self.stored_path

    @property
    def duration_seconds(self):
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class VersionLineage(models.Model):
    """Stored per-version aggregates of its examples, updated by each ingestion in
    the transaction that writes the rows, so pages, the scorecard and diffs read
    them without recounting. Count maps are JSON objects key -> rows; generators
    and templates are keyed by id."""

    version = models.OneToOneField(DatasetVersion, on_delete=models.CASCADE, related_name="lineage")
    total = models.PositiveIntegerField(default=0)
    synthetic = models.PositiveIntegerField(default=0)
    synthetic_complete = models.PositiveIntegerField(
        default=0, help_text="Synthetic rows naming generator, prompt, seed, sampling params and intended use."
    )
    prompt_hash_only = models.PositiveIntegerField(
        default=0, help_text="Synthetic rows with a prompt hash but no stored template."
    )
    by_origin = models.JSONField(default=dict, blank=True)
    by_generator = models.JSONField(default=dict, blank=True)
    by_template = models.JSONField(default=dict, blank=True)
    by_intended_use = models.JSONField(default=dict, blank=True)
    by_label = models.JSONField(default=dict, blank=True)
    by_flag = models.JSONField(default=dict, blank=True, help_text="eval_exclusion / never_train_on row counts.")
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE_DATASET_PATH = "version__dataset"

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(synthetic__lte=models.F("total")), name="lineage_synthetic_le_total"),
            models.CheckConstraint(
                condition=Q(synthetic_complete__lte=models.F("synthetic")), name="lineage_complete_le_synthetic"
            ),
        ]

    def __str__(self):
        return f"lineage of {self.version}"

    @property
    def completeness(self):
        """Share of synthetic rows with complete provenance (None without synthetic rows)."""
        return self.synthetic_complete / self.synthetic if self.synthetic else None


class AuditEvent(models.Model):
    """One governed action that no other record already logs (shares, role
    grants, alert acknowledgements, review decisions, ingestions, gate runs,
    waivers, admin edits...). Append-only (database triggers). ``actor_name``
    keeps the name, so the row outlives the account; ``tenant`` is empty for
    registry-wide actions (policies, the generator vocabulary)."""

    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_name = models.CharField(max_length=150, help_text="The actor's username when it acted; 'system' for jobs.")
    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=64, help_text="What was done, e.g. dataset.shared, membership.granted.")
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=255, blank=True)
    detail = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE_TENANT_FIELD = "tenant"

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["tenant", "-at"], name="audit_event_tenant_at")]
        constraints = [models.CheckConstraint(condition=~Q(action=""), name="audit_event_has_action")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_label}"
