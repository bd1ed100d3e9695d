"""Tenant A's training objects for the isolation walk: a model family with a
designated eval set, a finished leakage scan, a provenance check, a mix and a build."""
from registry.choices import Origin
from training import services
from training.models import LeakagePair, LeakKind, MixBuild

from .factories import make_dataset, make_version
from .test_training_mix import add_examples, approve_version, eval_version

ROUTE_KWARGS = {
    "modelfamily-detail": lambda w: {"pk": w.extra["family"].pk},
    "evaluationset-detail": lambda w: {"pk": w.extra["evaluation_set"].pk},
    "leakagescan-detail": lambda w: {"pk": w.extra["scan"].pk},
    "leakagescan-pairs": lambda w: {"pk": w.extra["scan"].pk},
    "provenancecheck-detail": lambda w: {"pk": w.extra["check"].pk},
    "mixbuild-detail": lambda w: {"pk": w.extra["build"].pk},
    "trainingmix-detail": lambda w: {"pk": w.extra["mix"].pk},
    "trainingmix-manifest": lambda w: {"pk": w.extra["mix"].pk},
    "trainingmix-jsonl": lambda w: {"pk": w.extra["mix"].pk},
    "trainingmix-parquet": lambda w: {"pk": w.extra["mix"].pk},
    "modelfamily-page": lambda w: {"pk": w.extra["family"].pk},
    "leakagescan-page": lambda w: {"pk": w.extra["scan"].pk},
    "provenancecheck-page": lambda w: {"pk": w.extra["check"].pk},
    "trainingmix-page": lambda w: {"pk": w.extra["mix"].pk},
}


def extend_world(world):
    from .isolation import MARKER  # imported late: tests.isolation imports this module

    owner, tenant = world.owner, world.tenant
    family = services.create_model_family(actor=owner, tenant=tenant, name=f"{MARKER}-family",
                                          description=f"{MARKER} family")
    # Only the mix's one component goes through approval: the walk builds this world ~200 times.
    holdout = eval_version(owner, tenant, f"{MARKER}-holdout", [(f"{MARKER} real eval ticket", "billing")],
                           approve=False)
    evaluation_set = services.designate_evaluation_set(actor=owner, family=family, version=holdout)
    synthetic = make_version(owner, make_dataset(owner, tenant, f"{MARKER}-synthetic"))
    add_examples(synthetic, [(f"{MARKER} real eval ticket", "billing", Origin.SYNTHETIC),
                             (f"{MARKER} synthetic ticket", "refund", Origin.SYNTHETIC)],
                 generator=world.extra["generator"])
    # Left queued (running it is the scan tests' job), with one pair to show.
    scan = services.request_leakage_scan(actor=owner, evaluation_set=evaluation_set, candidates=[synthetic],
                                         enqueue=False)
    LeakagePair.objects.create(scan=scan, kind=LeakKind.EXACT, eval_example=holdout.examples.get(),
                               training_example=synthetic.examples.get(ordinal=1))
    check = services.check_generator_provenance(actor=owner, evaluation_set=evaluation_set, candidates=[synthetic])
    real = make_version(owner, make_dataset(owner, tenant, f"{MARKER}-real", kind="real_holdout"),
                        max_synthetic_ratio=None)
    add_examples(real, [(f"{MARKER} real training ticket {i}", "billing", Origin.REAL) for i in range(5)])
    approve_version(real)
    mix = services.build_training_mix(actor=owner, tenant=tenant, family=family, name=f"{MARKER}-mix",
                                      components=[real])
    build = MixBuild.objects.create(tenant=tenant, requested_by=owner, status="failed",
                                    params={"name": f"{MARKER}-failed"}, error={"components": [MARKER]})
    world.extra.update(family=family, evaluation_set=evaluation_set, scan=scan, check=check, mix=mix, build=build)
