"""Tenant A's judges objects for the isolation walk: a panel, one score upload
(two judges on three examples: one disagreement, calibration of the rest)."""
from judges import services
from registry.choices import Origin

from .factories import make_dataset, make_version
from .test_training_mix import add_examples

ROUTE_KWARGS = {
    "judgepanel-detail": lambda w: {"pk": w.extra["judge_panel"].pk},
    "scoreupload-detail": lambda w: {"pk": w.extra["score_upload"].pk},
    "reviewitem-detail": lambda w: {"pk": w.extra["review_item"].pk},
    "reviewitem-decision": lambda w: {"pk": w.extra["review_item"].pk},
    "judges-page": lambda w: {"slug": w.extra["judged_version"].dataset.slug,
                              "number": w.extra["judged_version"].number},
}


def extend_world(world):
    from .isolation import MARKER  # imported late: tests.isolation imports this module

    owner = world.owner
    # A dataset of its own: other parts count the examples of world.version.
    dataset = make_dataset(owner, world.tenant, f"{MARKER}-judged")
    version = make_version(owner, dataset)
    panel = services.configure_panel(actor=owner, dataset=dataset, judges=[f"{MARKER}-judge", "judge-b"],
                                     calibration_rate=1.0)
    add_examples(version, [(f"{MARKER} judged example {i}", f"{MARKER}-label", Origin.SYNTHETIC) for i in range(3)],
                 generator=world.extra["generator"])
    rows = [{"example": i, "judge": judge, "score": score, "rationale": f"{MARKER} rationale"}
            for i, a, b in ((1, 0.9, 0.1), (2, 0.8, 0.8), (3, 0.2, 0.3))
            for judge, score in ((f"{MARKER}-judge", a), ("judge-b", b))]
    upload = services.upload_judge_scores(actor=owner, version=version, rows=services.rows_from_json(rows))
    item = version.review_items.get(reason="disagreement")
    world.extra.update(judge_panel=panel, score_upload=upload, review_item=item, judged_version=version)
