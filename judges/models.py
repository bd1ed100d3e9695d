"""External judges and the human review queue (part of CAREFUL F).

Several judges (LLM graders, heuristic scorers, vendors) score each example;
their scores are uploaded in bulk. Examples the judges disagree on, and a
seeded calibration sample of the ones they agree on, go to a human review
queue; the human decisions are the evidence for F.judges_resolved and
F.label_accuracy.
"""
from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from registry.models import Dataset, DatasetVersion, Example, choice_check
from registry.querysets import ScopedQuerySet


def unit_interval(field, name):
    return models.CheckConstraint(condition=Q(**{f"{field}__gte": 0, f"{field}__lte": 1}), name=name)


class JudgePanel(models.Model):
    """Who judges a dataset's examples, on what scale, and what the queue takes.

    Scores are uploaded on the panel's scale [scale_min, scale_max] and stored
    normalized to [0, 1]. An example whose normalized scores spread (max − min)
    by more than ``disagreement_threshold`` is a disagreement; one every judge
    scored without disagreeing is auto-decided: accepted when the mean is at
    least ``accept_threshold``, else rejected. A share ``calibration_rate`` of
    the auto-decided examples, chosen by ``seed``, is sent for a spot check.
    """

    dataset = models.OneToOneField(Dataset, on_delete=models.CASCADE, related_name="judge_panel")
    judges = models.JSONField(default=list, help_text="Judge names, as they appear in uploads.")
    scale_min = models.FloatField(default=0.0)
    scale_max = models.FloatField(default=1.0)
    disagreement_threshold = models.FloatField(default=0.3)
    accept_threshold = models.FloatField(default=0.5)
    calibration_rate = models.FloatField(default=0.1)
    seed = models.BigIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    objects = ScopedQuerySet.as_manager()
    SCOPE_DATASET_PATH = "dataset"

    class Meta:
        ordering = ["dataset_id"]
        constraints = [
            models.CheckConstraint(condition=Q(scale_max__gt=models.F("scale_min")), name="judgepanel_scale_ordered"),
            unit_interval("disagreement_threshold", "judgepanel_disagreement_in_unit_interval"),
            unit_interval("accept_threshold", "judgepanel_accept_in_unit_interval"),
            unit_interval("calibration_rate", "judgepanel_rate_in_unit_interval"),
        ]

    def __str__(self):
        return f"judge panel of {self.dataset}"

    def normalize(self, raw):
        return (raw - self.scale_min) / (self.scale_max - self.scale_min)


class ScoreUpload(models.Model):
    """One bulk upload of judge scores: the audit record of the score rows it
    wrote (bulk writes keep no per-row history) and of the queue it left."""

    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="score_uploads")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=16, default="api", help_text="api, cli or demo.")
    file_name = models.CharField(max_length=255, blank=True, help_text="Empty for a JSON body.")
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    replaced = models.PositiveIntegerField(default=0, help_text="Scores that changed an earlier upload's value.")
    unchanged = models.PositiveIntegerField(default=0)
    # [example_id, judge, old score, new score] per replaced score: the old values are kept here.
    replaced_scores = models.JSONField(default=list, blank=True)
    queue = models.JSONField(default=dict, blank=True, help_text="Review items created, withdrawn and open after it.")

    objects = ScopedQuerySet.as_manager()
    SCOPE_DATASET_PATH = "version__dataset"

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self):
        return f"score upload #{self.pk} into {self.version}"


class JudgeScore(models.Model):
    """One judge's score of one example (normalized to [0, 1])."""

    # The example's version, repeated so a version's scores are one index range.
    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="+")
    example = models.ForeignKey(Example, on_delete=models.CASCADE, related_name="judge_scores")
    judge = models.CharField(max_length=100)
    raw_score = models.FloatField(help_text="As uploaded, on the panel's scale.")
    score = models.FloatField(help_text="Normalized to [0, 1].")
    rationale = models.TextField(blank=True)
    upload = models.ForeignKey(ScoreUpload, on_delete=models.PROTECT, related_name="scores")

    objects = ScopedQuerySet.as_manager()
    SCOPE_DATASET_PATH = "version__dataset"

    class Meta:
        ordering = ["example_id", "judge"]
        constraints = [
            models.UniqueConstraint(fields=["example", "judge"], name="judgescore_unique_judge"),
            unit_interval("score", "judgescore_score_in_unit_interval"),
            models.CheckConstraint(condition=~Q(judge=""), name="judgescore_judge_named"),
        ]
        indexes = [models.Index(fields=["version", "judge"], name="judgescore_version_judge")]

    def __str__(self):
        return f"{self.judge}: {self.score:.2f} for example {self.example_id}"


class VersionJudging(models.Model):
    """Stored aggregates of a version's judging, refreshed each time its queue
    is recomputed, so pages and checks read them without recounting."""

    version = models.OneToOneField(DatasetVersion, on_delete=models.CASCADE, related_name="judging")
    panel = models.JSONField(default=dict, help_text="The panel settings the queue was computed with.")
    examples = models.PositiveIntegerField(default=0)
    scored = models.PositiveIntegerField(default=0, help_text="Examples with at least one score.")
    complete = models.PositiveIntegerField(default=0, help_text="Examples every panel judge scored.")
    disagreements = models.PositiveIntegerField(default=0)
    auto_accepted = models.PositiveIntegerField(default=0)
    auto_rejected = models.PositiveIntegerField(default=0)
    calibration_sampled = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE_DATASET_PATH = "version__dataset"

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(scored__lte=models.F("examples")), name="judging_scored_le_examples"),
            models.CheckConstraint(condition=Q(complete__lte=models.F("scored")), name="judging_complete_le_scored"),
        ]

    def __str__(self):
        return f"judging of {self.version}"


class ReviewReason(models.TextChoices):
    DISAGREEMENT = "disagreement", "Judges disagree"
    CALIBRATION = "calibration", "Calibration spot check"


class AutoDecision(models.TextChoices):
    ACCEPT = "accept", "Accept"
    REJECT = "reject", "Reject"


class HumanDecision(models.TextChoices):
    ACCEPT = "accept", "Accept"
    REJECT = "reject", "Reject"
    RELABEL = "relabel", "Relabel (accept with a corrected label)"


class ReviewItem(models.Model):
    """An example sent to a human, and the human's decision (empty while open).

    ``label_correct`` is the reviewer's verdict on the example's label: true for
    an accept, false for a relabel, either or unknown (null) for a reject.
    """

    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="review_items")
    example = models.ForeignKey(Example, on_delete=models.CASCADE, related_name="review_items")
    reason = models.CharField(max_length=16, choices=ReviewReason.choices)
    auto_decision = models.CharField(max_length=8, choices=AutoDecision.choices, blank=True)
    # The judges' figures when the queue was last recomputed.
    spread = models.FloatField(help_text="Max − min of the normalized scores.")
    mean_score = models.FloatField()
    decision = models.CharField(max_length=8, choices=HumanDecision.choices, blank=True)
    label_correct = models.BooleanField(null=True, blank=True)
    corrected_label = models.CharField(max_length=200, blank=True)
    comment = models.TextField(blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = ScopedQuerySet.as_manager()
    SCOPE_DATASET_PATH = "version__dataset"

    class Meta:
        ordering = ["version_id", "decision", "-spread", "example_id"]
        constraints = [
            models.UniqueConstraint(fields=["example", "reason"], name="reviewitem_unique_reason"),
            choice_check("reason", ReviewReason, "reviewitem_reason_valid"),
            models.CheckConstraint(
                condition=Q(auto_decision="") | Q(auto_decision__in=AutoDecision.values),
                name="reviewitem_auto_decision_valid",
            ),
            models.CheckConstraint(
                condition=Q(decision="") | Q(decision__in=HumanDecision.values), name="reviewitem_decision_valid"
            ),
            # A calibration item checks an automatic decision, so it has one.
            models.CheckConstraint(
                condition=~Q(reason=ReviewReason.CALIBRATION) | ~Q(auto_decision=""),
                name="reviewitem_calibration_has_auto_decision",
            ),
            # Decided exactly when a reviewer and a time are recorded.
            models.CheckConstraint(
                condition=(Q(decision="") & Q(reviewer__isnull=True) & Q(decided_at__isnull=True))
                | (~Q(decision="") & Q(reviewer__isnull=False) & Q(decided_at__isnull=False)),
                name="reviewitem_decided_has_reviewer",
            ),
            models.CheckConstraint(
                condition=~Q(decision=HumanDecision.ACCEPT) | Q(label_correct=True),
                name="reviewitem_accept_label_correct",
            ),
            models.CheckConstraint(
                condition=~Q(decision=HumanDecision.RELABEL) | (Q(label_correct=False) & ~Q(corrected_label="")),
                name="reviewitem_relabel_has_label",
            ),
            models.CheckConstraint(
                condition=Q(decision=HumanDecision.RELABEL) | Q(corrected_label=""),
                name="reviewitem_corrected_only_on_relabel",
            ),
        ]
        indexes = [models.Index(fields=["version", "reason", "decision"], name="reviewitem_version_queue")]

    def __str__(self):
        return f"{self.get_reason_display()}: {self.example}"

    @property
    def is_open(self):
        return not self.decision
