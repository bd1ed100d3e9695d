"""Scorecard policies (which checks each use cell requires, with what
thresholds) and the scorecard's history (a snapshot per change of verdict)."""
from django.core.exceptions import ValidationError
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from registry.choices import Harm, Use
from registry.models import DatasetVersion, choice_check
from registry.querysets import ScopedQuerySet

from .checks import CATALOG, LETTERS, Status, known_codes, letter_of

# A scorecard's letters as one short string, one character per letter in CAREFUL order.
STATUS_CHAR = {Status.PASS: "p", Status.WARN: "w", Status.WAIVED: "v", Status.MISSING: "m", Status.FAIL: "f"}
NOT_REQUIRED = "na"
CHAR_STATUS = {**{char: str(status) for status, char in STATUS_CHAR.items()}, "-": NOT_REQUIRED}


def decode_code(code):
    """"pfm-..." -> [("C", "pass"), ("A", "fail"), ...]."""
    return [(letter, CHAR_STATUS.get(char, NOT_REQUIRED)) for letter, char in zip(LETTERS, code)]


class ScorecardPolicy(models.Model):
    """For one cell (use × harm if wrong × cheap verifier available): the
    required check codes with their parameters, e.g.
    {"A.ratio_cap_set": {}, "L.expiry_set": {"max_days": 180}}.

    Registry-wide data, edited by governance staff in the admin (with history).
    The defaults ship as a data migration (scorecard/policy_defaults.py)."""

    use_cell = models.CharField(max_length=32, choices=Use.choices)
    harm = models.CharField(max_length=8, choices=Harm.choices)
    cheap_verifier = models.BooleanField()
    checks = models.JSONField(default=dict, blank=True, help_text="Required check code -> its parameters (JSON object).")
    max_synthetic_ratio = models.FloatField(
        null=True, blank=True, help_text="The cell's cap and the suggested default for new manifests."
    )
    notes = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["use_cell", "harm", "cheap_verifier"]
        verbose_name_plural = "scorecard policies"
        constraints = [
            models.UniqueConstraint(fields=["use_cell", "harm", "cheap_verifier"], name="scorecard_policy_unique_cell"),
            choice_check("use_cell", Use, "scorecard_policy_use_valid"),
            choice_check("harm", Harm, "scorecard_policy_harm_valid"),
            models.CheckConstraint(
                condition=Q(max_synthetic_ratio__isnull=True)
                | Q(max_synthetic_ratio__gte=0, max_synthetic_ratio__lte=1),
                name="scorecard_policy_ratio_in_unit_interval",
            ),
        ]

    def __str__(self):
        return f"{self.use_cell} · {self.harm} harm · {'verifier' if self.cheap_verifier else 'no verifier'}"

    def clean(self):
        if not isinstance(self.checks, dict):
            raise ValidationError({"checks": "Must be a JSON object: check code -> parameters."})
        unknown = sorted(set(self.checks) - known_codes())
        if unknown:
            raise ValidationError({"checks": f"Unknown check code(s): {', '.join(unknown)}."})
        not_objects = sorted(code for code, params in self.checks.items() if not isinstance(params, dict))
        if not_objects:
            raise ValidationError({"checks": f"Parameters of {', '.join(not_objects)} must be a JSON object."})

    def required_by_letter(self):
        """{letter: [codes]} in CAREFUL order (letters the cell does not require are absent)."""
        order = {code: index for index, code in enumerate(CATALOG)}
        grouped = {}
        for code in sorted(self.checks, key=lambda code: (order.get(code, len(order)), code)):
            grouped.setdefault(letter_of(code), []).append(code)
        return {letter: grouped[letter] for letter in LETTERS if letter in grouped}


class ScorecardSnapshot(models.Model):
    """The scorecard of (version, use) as computed at one moment: a row is
    written only when the verdict (any letter's or check's status) changed."""

    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="scorecard_snapshots")
    use = models.CharField(max_length=32, choices=Use.choices)
    # STATUS_CHAR per letter in CAREFUL order, "-" where the cell requires nothing.
    code = models.CharField(max_length=7)
    signature = models.CharField(max_length=64, help_text="Hash of every letter's and check's status.")
    letters = models.JSONField(default=dict)
    checks = models.JSONField(default=dict, encoder=DjangoJSONEncoder, help_text="code -> {status, verdict, value, threshold}.")
    failing = models.JSONField(default=list)
    policy = models.ForeignKey(ScorecardPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    policy_updated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE_DATASET_PATH = "version__dataset"

    class Meta:
        ordering = ["version_id", "use", "-created_at", "-id"]
        constraints = [choice_check("use", Use, "scorecard_snapshot_use_valid")]
        # The latest snapshot of (version, use): on every view and in the catalog's subquery.
        indexes = [models.Index(fields=["version", "use", "-created_at"], name="scorecard_snapshot_latest")]

    def __str__(self):
        return f"{self.version_id} {self.use} {self.code} @ {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def letter_statuses(self):
        return decode_code(self.code)


class Waiver(models.Model):
    """A governance reviewer's recorded decision that one letter's missing or
    failing evidence does not block a version: with a reason, until a date, and
    only for the manifest it was given for (a changed manifest needs a new one).
    Append-only (database triggers): ending it early sets ``revoked_*`` once."""

    version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="waivers")
    letter = models.CharField(max_length=1, choices=[(letter, letter) for letter in LETTERS])
    reason = models.TextField()
    expires_at = models.DateField(help_text="Valid through this date.")
    manifest_hash = models.CharField(max_length=64)
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    revoke_reason = models.TextField(blank=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE_DATASET_PATH = "version__dataset"

    class Meta:
        ordering = ["version_id", "letter", "-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(letter__in=list(LETTERS)), name="waiver_letter_valid"),
            models.CheckConstraint(condition=~Q(reason=""), name="waiver_has_reason"),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True, revoked_by__isnull=True, revoke_reason="")
                | (Q(revoked_at__isnull=False, revoked_by__isnull=False) & ~Q(revoke_reason="")),
                name="waiver_revocation_complete",
            ),
        ]

    def __str__(self):
        return f"{self.letter} waived on {self.version} until {self.expires_at}"

    def problem(self, manifest_hash, today=None):
        """Why this waiver does not cover the version today ("" when it does)."""
        today = today or timezone.localdate()
        if self.revoked_at is not None:
            return f"revoked by {self.revoked_by} on {self.revoked_at:%Y-%m-%d}"
        if self.expires_at < today:
            return f"expired on {self.expires_at.isoformat()}"
        if self.manifest_hash != manifest_hash:
            return "given for an earlier manifest"
        return ""
