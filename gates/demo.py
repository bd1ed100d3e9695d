"""The demo's gates chapter: the synthetic dataset gets the training cell's
default cascade, and it runs (in this process) on the version in review, so
the demo shows a funnel, a reject set with the planted problems, realism and
fidelity against the real anchor."""
from . import services


def extend_demo(story):
    carl = story.users["carl"]
    version = story.synthetic.versions.order_by("-number").first()
    services.configure_cascade(
        actor=carl, dataset=story.synthetic, steps=services.default_steps(version.manifest.use_cell)
    )
    run = services.start_gate_run(actor=carl, version=version, enqueue=False)
    story.extra["gate_run"] = services.execute_gate_run(run_id=run.pk)
