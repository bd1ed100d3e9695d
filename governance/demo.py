"""Governance's part of the demo story: the anchor is approved by legal (lena)
and governance (gwen); the synthetic version waits in their review queue."""
from registry.choices import Role

from . import services
from .models import Decision


def extend_demo(story):
    carl, lena, gwen = story.users["carl"], story.users["lena"], story.users["gwen"]
    anchor = story.anchor.versions.get(number=1)
    services.submit_for_review(actor=carl, version=anchor, comment="The real anchor, redacted and held aside.")
    services.sign_off(actor=lena, version=anchor, role=Role.LEGAL_REVIEWER, decision=Decision.APPROVE,
                      comment="Seed tickets are ours to use for evaluation; redaction checked.")
    services.sign_off(actor=gwen, version=anchor, role=Role.GOVERNANCE_REVIEWER, decision=Decision.APPROVE,
                      comment="Held aside as the permanent anchor; never_train_on set.")
    synthetic = story.synthetic.versions.get(number=1)
    services.submit_for_review(actor=carl, version=synthetic, comment="First generation, ready for review.")
    story.extra["governance"] = {"approved": anchor, "in_review": synthetic}
