"""The demo's monitoring: a real baseline from the 38 anchor tickets, a drift
monitor and a slice monitor (rare intents, long tickets) on the synthetic
version, and one drift run executed now so the monitoring page has a report.
The slice monitor's first run is left to its schedule (each Evidently run at
start-up costs seconds)."""
from . import services

DEMO_COLUMNS = [
    {"name": "text", "type": "text"},
    {"name": "label", "type": "categorical"},
    {"name": "length", "type": "numeric"},
]


def extend_demo(story):
    carl = story.users["carl"]
    anchor_version = story.anchor.versions.order_by("-number").first()
    synthetic_version = story.synthetic.versions.order_by("-number").first()
    baseline = services.create_baseline(
        actor=carl, tenant=story.tenants["support-ops"], name="rare-tickets-real",
        description="The real rare compliance tickets: what the synthetic data is built to resemble.",
    )
    baseline_version = services.add_baseline_version(
        actor=carl, baseline=baseline, source_version=anchor_version, columns=DEMO_COLUMNS, target_column="label",
        notes="From the real anchor, redacted.",
    )
    drift = services.create_monitor(
        actor=carl, version=synthetic_version, name="synthetic-vs-real", baseline_version=baseline_version,
        kind="drift", columns=["label", "length"], drift_share=0.5, schedule="0 6 * * *", severity="medium",
    )
    services.create_monitor(
        actor=carl, version=synthetic_version, name="rare-and-long-slices", baseline_version=baseline_version,
        kind="slice", columns=["length"], drift_share=0.5, schedule="30 6 * * *", severity="high",
        slices=[
            {"name": "rare-regulatory", "filter": "label in ['regulator_complaint', 'sanctions_kyc']"},
            {"name": "long", "filter": "length > 100"},
        ],
    )
    run = services.request_run(actor=None, monitor=drift, trigger="demo")
    services.execute_run(run_id=run.pk)
    story.extra["monitoring"] = {"baseline_version": baseline_version, "drift_monitor": drift}
