"""Governance records: sign-offs, state transitions, the sign-off policy, use
decisions and in-app notices.

Sign-offs, transitions and use decisions are append-only logs (no update or
delete from the admin or the API): each row is its own audit record, so they
carry no simple-history copy; the version's own history records every state
change. The editable policy (SignOffRequirement) keeps history. Notices are
personal messages, not governed records.
"""
from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from registry.choices import Role, Use, VersionState
from registry.models import DatasetVersion, Tenant, choice_check
from registry.querysets import ScopedQuerySet

# The pair every use cell requires unless the admin configures otherwise.
DEFAULT_REQUIRED_ROLES = (Role.LEGAL_REVIEWER, Role.GOVERNANCE_REVIEWER)


class Decision(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"
    REQUEST_CHANGES = "request_changes", "Request changes"


class SignOff(models.Model):
    """A reviewer's decision on a version, given for one manifest hash: it
    counts only while that hash is still the version's manifest hash."""

    version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="signoffs")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signoffs")
    role = models.CharField(max_length=32, choices=Role.choices)
    decision = models.CharField(max_length=16, choices=Decision.choices)
    comment = models.TextField(blank=True)
    manifest_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE_DATASET_PATH = "version__dataset"

    class Meta:
        ordering = ["version_id", "created_at", "id"]
        constraints = [
            choice_check("role", Role, "signoff_role_valid"),
            choice_check("decision", Decision, "signoff_decision_valid"),
            models.CheckConstraint(
                condition=Q(decision=Decision.APPROVE) | ~Q(comment=""), name="signoff_refusal_has_comment"
            ),
            # Separation of duties: one person fills at most one role per manifest.
            models.UniqueConstraint(
                fields=["version", "manifest_hash", "reviewer"], condition=Q(decision=Decision.APPROVE),
                name="signoff_one_role_per_reviewer",
            ),
            # A role is filled once per manifest; a second approval would be noise.
            models.UniqueConstraint(
                fields=["version", "manifest_hash", "role"], condition=Q(decision=Decision.APPROVE),
                name="signoff_one_approval_per_role",
            ),
        ]

    def __str__(self):
        return f"{self.get_decision_display()} by {self.reviewer} as {self.get_role_display()} on {self.version}"


class Transition(models.Model):
    """One lifecycle move of a version. ``actor`` is empty for the clock (expiry)."""

    version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="transitions")
    from_state = models.CharField(max_length=16, choices=VersionState.choices)
    to_state = models.CharField(max_length=16, choices=VersionState.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=32)
    reason = models.TextField(blank=True)
    at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()
    SCOPE_DATASET_PATH = "version__dataset"

    class Meta:
        ordering = ["version_id", "at", "id"]
        constraints = [
            choice_check("from_state", VersionState, "transition_from_state_valid"),
            choice_check("to_state", VersionState, "transition_to_state_valid"),
            models.CheckConstraint(condition=~Q(from_state=models.F("to_state")), name="transition_changes_state"),
        ]

    def __str__(self):
        return f"{self.version}: {self.from_state} → {self.to_state}"


class SignOffRequirement(models.Model):
    """Policy: the roles whose approval a version of this use cell needs.
    A use cell with no rows requires DEFAULT_REQUIRED_ROLES."""

    use_cell = models.CharField(max_length=32, choices=Use.choices)
    role = models.CharField(max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["use_cell", "role"]
        constraints = [
            models.UniqueConstraint(fields=["use_cell", "role"], name="signoff_requirement_unique"),
            choice_check("use_cell", Use, "signoff_requirement_use_valid"),
            choice_check("role", Role, "signoff_requirement_role_valid"),
        ]

    def __str__(self):
        return f"{self.get_use_cell_display()} needs {self.get_role_display()}"


class Channel(models.TextChoices):
    API = "api", "API"
    CLI = "cli", "Command line"
    PYTHON = "python", "Python"


class UseDecision(models.Model):
    """Every answer to "may tenant T use version V for use U?", with its reasons."""

    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="use_decisions")
    version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="use_decisions")
    use = models.CharField(max_length=32, choices=Use.choices)
    allowed = models.BooleanField()
    reasons = models.JSONField(default=list, blank=True)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.PYTHON)
    at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE_DATASET_PATH = "version__dataset"

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            choice_check("use", Use, "use_decision_use_valid"),
            choice_check("channel", Channel, "use_decision_channel_valid"),
        ]

    def __str__(self):
        return f"{self.tenant.slug} {'may' if self.allowed else 'may not'} use {self.version} for {self.use}"


class NoticeKind(models.TextChoices):
    REVIEW_REQUESTED = "review_requested", "Review requested"
    APPROVED = "approved", "Approved"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    REJECTED = "rejected", "Rejected"
    SUSPENDED = "suspended", "Suspended"
    RETIRED = "retired", "Retired"
    EXPIRY_SOON = "expiry_soon", "Expires soon"
    EXPIRED = "expired", "Expired"
    ALERT = "alert", "Alert"


class Notice(models.Model):
    """An in-app message to one user; shown on /notices/ until read."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=32, choices=NoticeKind.choices)
    message = models.TextField()
    version = models.ForeignKey(
        DatasetVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="notices"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [choice_check("kind", NoticeKind, "notice_kind_valid")]
        # The nav badge counts a user's unread notices on every page.
        indexes = [models.Index(fields=["user", "read_at"], name="notice_user_unread")]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.user}: {self.message[:60]}"


class ExpiryNotice(models.Model):
    """Claims "owners were told that this version expires on this date", so the
    daily job notifies once per version and expiry date, however often it runs."""

    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="expiry_notices")
    expires_at = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "expires_at"], name="expiry_notice_once")]


class ExportRecord(models.Model):
    """One download of governed data (a training mix, a scorecard export, the
    audit log itself): who took what out of the registry, and when. Append-only.
    Recorded per tenant whose rows the download held."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=32, help_text="What was exported, e.g. mix.jsonl, scorecard.croissant, audit.csv.")
    object_label = models.CharField(max_length=255, help_text="The exported object, as shown to people.")
    at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE_TENANT_FIELD = "tenant"

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.kind} of {self.object_label} by {self.actor} at {self.at:%Y-%m-%d %H:%M}"
