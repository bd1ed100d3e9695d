"""The demo's judges chapter: two judges score the synthetic version's
examples; they disagree on a few, a calibration sample of the rest is queued,
and gwen (governance reviewer) has decided some of the queue."""
from registry.choices import Role

from . import services
from .models import HumanDecision, ReviewReason

JUDGES = ["rubric-llm", "intent-classifier"]
# Ordinals whose two judges disagree, and ordinals both judges score low.
DISAGREE, LOW = {3, 17, 29, 44, 58, 71, 86, 102}, {9, 63}


def _score(ordinal, judge):
    """Deterministic scores: agreeing judges stay within 0.1 of each other."""
    base = 0.15 if ordinal in LOW else 0.7 + (ordinal * 37 % 25) / 100
    if ordinal in DISAGREE and judge == JUDGES[1]:
        return round(max(0.0, base - 0.55), 2)
    return round(min(1.0, base + (0.05 if judge == JUDGES[0] else 0.0)), 2)


def extend_demo(story):
    carl, gwen = story.users["carl"], story.users["gwen"]
    version = story.synthetic.versions.order_by("-number").first()
    services.configure_panel(actor=carl, dataset=story.synthetic, judges=JUDGES, disagreement_threshold=0.3,
                             accept_threshold=0.5, calibration_rate=0.25, seed=7)
    ordinals = version.examples.values_list("ordinal", flat=True)
    rows = [
        {"example": ordinal, "judge": judge, "score": _score(ordinal, judge),
         "rationale": "intent matches the label" if _score(ordinal, judge) >= 0.5 else "off-intent or garbled"}
        for ordinal in ordinals for judge in JUDGES
    ]
    upload = services.upload_judge_scores(actor=carl, version=version, rows=services.rows_from_json(rows),
                                          source="demo")
    if not gwen.memberships.filter(role=Role.GOVERNANCE_REVIEWER).exists():
        return
    items = list(version.review_items.select_related("example").order_by("reason", "example__ordinal"))
    disagreements = [i for i in items if i.reason == ReviewReason.DISAGREEMENT]
    calibration = [i for i in items if i.reason == ReviewReason.CALIBRATION]
    for item in disagreements[:3]:
        services.decide_review_item(actor=gwen, item=item, decision=HumanDecision.REJECT, label_correct=None,
                                    comment="The second judge is right: off-intent.")
    for item in calibration[:4]:
        services.decide_review_item(actor=gwen, item=item, decision=HumanDecision.ACCEPT,
                                    comment="Spot check: label right.")
    story.extra["judges"] = {"upload": upload, "version": version}
