"""The demo's evaluation-isolation chapter: the model family
"support-intent-classifier" takes the real anchor as its evaluation set, and
the synthetic version is scanned against it (exact, near-duplicate and seed
echoes) and checked for generator provenance."""
import logging

from django.core.exceptions import ValidationError

from . import services

FAMILY = "support-intent-classifier"


def extend_demo(story):
    carl = story.users["carl"]
    family = services.create_model_family(
        actor=carl, tenant=story.tenants["support-ops"], name=FAMILY,
        description="Routes support tickets to intents; success is per-class recall on the real held-aside "
        "rare tickets.",
    )
    story.extra["model_family"] = family
    anchor = story.anchor.versions.order_by("-number").first()
    synthetic = story.synthetic.versions.order_by("-number").first()
    try:
        evaluation_set = services.designate_evaluation_set(actor=carl, family=family, version=anchor)
    except ValidationError as error:
        # Without examples loaded there is nothing to designate; the family still shows the gap.
        logging.getLogger(__name__).warning("training demo: the anchor is not an evaluation set yet (%s)",
                                            "; ".join(error.messages))
        return
    scan = services.request_leakage_scan(
        actor=carl, evaluation_set=evaluation_set, candidates=[synthetic], enqueue=False
    )
    scan = services.run_leakage_scan(scan_id=scan.pk)
    check = services.check_generator_provenance(actor=carl, evaluation_set=evaluation_set, candidates=[synthetic])
    story.extra.update(evaluation_set=evaluation_set, leakage_scan=scan, provenance_check=check)
