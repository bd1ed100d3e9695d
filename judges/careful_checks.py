"""CAREFUL F evidence from the judges: disagreements resolved by humans, and
label accuracy measured on the human-reviewed calibration sample.

Each check reads stored rows (the version's judging aggregates and its review
items) in a constant number of queries; nothing is recounted from examples.
"""
from django.urls import reverse

from scorecard.checks import CheckResult, Status, careful_check, missing

from . import selectors


def _page(version):
    return reverse("judges-page", args=[version.dataset.slug, version.number])


@careful_check("F", "F.judges_resolved", "Judge disagreements resolved by a human")
def judges_resolved(version, use, params):
    judging = selectors.judging(version)
    if judging is None or not judging.scored:
        return missing("No judge scores uploaded for this version.", evidence_url=_page(version))
    counts = selectors.queue_counts(version)
    open_items = counts["open_disagreements"]
    if open_items:
        return CheckResult(
            Status.FAIL, f"{open_items} judge disagreement(s) wait for a human decision",
            value=open_items, threshold=0, evidence_url=_page(version), evidence=counts,
        )
    unscored = judging.examples - judging.complete
    verdict = (f"{judging.complete:,} of {judging.examples:,} examples scored by every judge; "
               f"{counts['decided_disagreements']} disagreement(s) decided by a human")
    return CheckResult(
        Status.WARN if unscored else Status.PASS,
        verdict + (f"; {unscored:,} not scored by the whole panel" if unscored else ""),
        value=0, threshold=0, evidence_url=_page(version), evidence=counts,
    )


@careful_check("F", "F.label_accuracy", "Label accuracy from a human-reviewed calibration sample")
def label_accuracy(version, use, params):
    """Passes when the 95% Wilson lower bound reaches ``min_accuracy`` (default
    0.95); warns when only the point estimate does; needs MIN_REVIEWED items."""
    threshold = params.get("min_accuracy", 0.95)
    accuracy = selectors.label_accuracy(version)
    if not accuracy.enough:
        return missing(
            f"{accuracy.reviewed} auto-accepted calibration item(s) human-reviewed; "
            f"at least {selectors.MIN_REVIEWED} are needed", value=accuracy.reviewed,
            threshold=selectors.MIN_REVIEWED, evidence_url=_page(version),
        )
    figure = (f"{accuracy.correct} of {accuracy.reviewed} labels correct: {accuracy.accuracy:.1%} "
              f"(95% interval {accuracy.low:.1%}–{accuracy.high:.1%}) against {threshold:.0%}")
    if accuracy.low >= threshold:
        status = Status.PASS
    elif accuracy.accuracy >= threshold:
        status, figure = Status.WARN, figure + "; the interval still reaches below it"
    else:
        status = Status.FAIL
    return CheckResult(
        status, figure, value=round(accuracy.accuracy, 4), threshold=threshold, evidence_url=_page(version),
        evidence={"reviewed": accuracy.reviewed, "correct": accuracy.correct, "low": accuracy.low,
                  "high": accuracy.high},
    )
