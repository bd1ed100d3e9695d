"""Tenant A's gate objects for the isolation walk: a configured cascade, and a
finished run (written directly, no cascade executed) with a step result, a
rejection and a fidelity report, on a version of its own."""
from django.utils import timezone

from gates import services
from gates.models import FidelityReport, GateRun, GateStepResult, Rejection
from registry.choices import Origin

from .factories import make_dataset, make_version
from .test_training_mix import add_examples

VERSION_PAGE = lambda w: {"slug": w.extra["gated_version"].dataset.slug,  # noqa: E731
                          "number": w.extra["gated_version"].number}
RUN = lambda w: {"pk": w.extra["gate_run"].pk}  # noqa: E731

ROUTE_KWARGS = {
    "gatecascade-detail": lambda w: {"slug": w.dataset.slug},
    "gaterun-detail": RUN,
    "gaterun-rejections": RUN,
    "gaterun-rejections-csv": RUN,
    "versiongates-detail": lambda w: {"pk": w.extra["gated_version"].pk},
    "fidelityreport-detail": lambda w: {"pk": w.extra["fidelity_report"].pk},
    "versiongates-page": VERSION_PAGE,
    "versiongates-run-page": VERSION_PAGE,
    "gaterun-page": RUN,
}


def extend_world(world):
    from .isolation import MARKER  # imported late: tests.isolation imports this module

    owner = world.owner
    services.configure_cascade(actor=owner, dataset=world.dataset, steps=[{"gate": "exact_dedup", "params": {}}])
    version = make_version(owner, make_dataset(owner, world.tenant, f"{MARKER}-gated"))
    kept, rejected = add_examples(version, [(f"{MARKER} kept ticket", "billing", Origin.REAL),
                                            (f"{MARKER} rejected ticket", "billing", Origin.REAL)])
    now = timezone.now()
    run = GateRun.objects.create(
        version=version, status="succeeded", progress=100, steps=[{"gate": "exact_dedup", "params": {}}],
        pool_count=2, accepted_count=1, created_by=owner, started_at=now, finished_at=now,
        error=f"{MARKER} nothing",
    )
    GateStepResult.objects.create(run=run, position=1, gate="exact_dedup", count_in=2, count_out=1, seconds=0.1,
                                  metrics={"note": MARKER})
    Rejection.objects.create(run=run, example=rejected, gate="exact_dedup", position=1, reason=f"{MARKER} duplicate")
    report = FidelityReport.objects.create(version=version, run=run, anchor_version=version,
                                           results={"note": MARKER})
    world.extra.update(gated_version=version, gate_run=run, fidelity_report=report, gate_kept=kept)
