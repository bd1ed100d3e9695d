"""Reads of the judges app. Scoped reads take the user; the evidence reads
(human_rejected_ids, label_accuracy, queue_counts) take a version and a
constant number of queries."""
import math
from dataclasses import dataclass

from django.db.models import Count, Q

from .models import HumanDecision, JudgePanel, JudgeScore, ReviewItem, ReviewReason, ScoreUpload, VersionJudging

# Below this many human-reviewed calibration items an accuracy is no evidence.
MIN_REVIEWED = 20
Z_95 = 1.959963984540054


# Scoped reads for pages, admin and the API.

def panels(user):
    return JudgePanel.objects.visible_to(user).select_related("dataset", "created_by")


def uploads(user):
    return ScoreUpload.objects.visible_to(user).select_related("version__dataset", "uploaded_by")


def scores(user):
    return JudgeScore.objects.visible_to(user).select_related("example")


def review_items(user):
    """Review items the user may see (viewers see the queue; reviewers decide)."""
    return ReviewItem.objects.visible_to(user).select_related("version__dataset", "example", "reviewer")


# Evidence reads.

def human_rejected_ids(version):
    """Example ids a human rejected: the gates' accepted pool leaves them out."""
    return set(
        ReviewItem.objects.filter(version=version, decision=HumanDecision.REJECT).values_list("example_id", flat=True)
    )


def human_relabels(version):
    """{example id: corrected label} for the examples a human relabeled."""
    return dict(
        ReviewItem.objects.filter(version=version, decision=HumanDecision.RELABEL)
        .values_list("example_id", "corrected_label")
    )


def queue_counts(version):
    """Open and decided items by reason, in one query."""
    return ReviewItem.objects.filter(version=version).aggregate(
        open_disagreements=Count("id", filter=Q(reason=ReviewReason.DISAGREEMENT, decision="")),
        decided_disagreements=Count("id", filter=Q(reason=ReviewReason.DISAGREEMENT) & ~Q(decision="")),
        open_calibration=Count("id", filter=Q(reason=ReviewReason.CALIBRATION, decision="")),
        decided_calibration=Count("id", filter=Q(reason=ReviewReason.CALIBRATION) & ~Q(decision="")),
        human_rejected=Count("id", filter=Q(decision=HumanDecision.REJECT)),
        human_relabeled=Count("id", filter=Q(decision=HumanDecision.RELABEL)),
    )


def judging(version):
    return VersionJudging.objects.filter(version=version).first()


def wilson_interval(successes, n, z=Z_95):
    """The Wilson score interval for a binomial proportion (None for n = 0)."""
    if not n:
        return None
    p = successes / n
    denominator = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, center - half), min(1.0, center + half)


@dataclass(frozen=True)
class LabelAccuracy:
    """The share of correct labels among the human-reviewed calibration items
    the judges auto-accepted (the accepted pool's label accuracy), with its
    95% Wilson interval; and how often the reviewers agreed with the judges'
    automatic decision over the whole calibration sample."""

    reviewed: int
    correct: int
    low: float | None
    high: float | None
    decisions_reviewed: int
    decisions_agreed: int

    @property
    def accuracy(self):
        return self.correct / self.reviewed if self.reviewed else None

    @property
    def agreement(self):
        return self.decisions_agreed / self.decisions_reviewed if self.decisions_reviewed else None

    @property
    def enough(self):
        return self.reviewed >= MIN_REVIEWED


def label_accuracy(version):
    calibration = ReviewItem.objects.filter(version=version, reason=ReviewReason.CALIBRATION).exclude(decision="")
    # A relabel keeps the example: it agrees with an automatic accept.
    agreed_q = Q(auto_decision="accept", decision__in=[HumanDecision.ACCEPT, HumanDecision.RELABEL]) | Q(
        auto_decision="reject", decision=HumanDecision.REJECT
    )
    counts = calibration.aggregate(
        reviewed=Count("id", filter=Q(auto_decision="accept", label_correct__isnull=False)),
        correct=Count("id", filter=Q(auto_decision="accept", label_correct=True)),
        decisions=Count("id"),
        agreed=Count("id", filter=agreed_q),
    )
    interval = wilson_interval(counts["correct"], counts["reviewed"]) or (None, None)
    return LabelAccuracy(counts["reviewed"], counts["correct"], *interval, counts["decisions"], counts["agreed"])


# The version's judges page.

BINS = 10


def _bin(value):
    return min(int(value * BINS), BINS - 1)


def score_picture(version, panel):
    """Per-judge score histograms, the histogram of per-example spreads, and the
    judge × judge agreement matrix (share of co-scored examples whose two scores
    differ by at most the disagreement threshold). One pass over the scores."""
    judges = list(panel.judges) if panel else []
    by_example = {}
    histograms = {judge: [0] * BINS for judge in judges}
    rows = JudgeScore.objects.filter(version=version, judge__in=judges).values_list("example_id", "judge", "score")
    for example_id, judge, score in rows.iterator(chunk_size=5000):
        histograms[judge][_bin(score)] += 1
        by_example.setdefault(example_id, {})[judge] = score
    spreads = [0] * BINS
    pairs = {(a, b): [0, 0] for a in judges for b in judges}
    threshold = panel.disagreement_threshold if panel else 0
    for scored in by_example.values():
        values = list(scored.values())
        if len(values) > 1:
            spreads[_bin(max(values) - min(values))] += 1
        for a, score_a in scored.items():
            for b, score_b in scored.items():
                pair = pairs[(a, b)]
                pair[0] += 1
                pair[1] += abs(score_a - score_b) <= threshold
    matrix = [
        [(b, pairs[(a, b)][1] / pairs[(a, b)][0] if pairs[(a, b)][0] else None, pairs[(a, b)][0]) for b in judges]
        for a in judges
    ]
    return {"histograms": histograms, "spreads": spreads, "matrix": list(zip(judges, matrix)),
            "threshold": threshold}
