"""Reads of the gates app. Scoped reads take the user; evidence reads take a
version or a run and a constant number of queries."""
from django.db.models import Count

from judges.selectors import human_rejected_ids
from registry.choices import Use
from registry.models import Example

from . import services
from .models import FidelityReport, GateCascade, GateRun, GateStepResult, Rejection, RunStatus


# Evidence reads (scorecard checks, services, pages after scoping).

def latest_run(version):
    return GateRun.objects.filter(version=version).order_by("-created_at", "-id").first()


def latest_finished_run(version):
    return (GateRun.objects.filter(version=version, status__in=(RunStatus.SUCCEEDED, RunStatus.FAILED))
            .order_by("-finished_at", "-id").first())


def latest_succeeded_run(version):
    return (GateRun.objects.filter(version=version, status=RunStatus.SUCCEEDED)
            .order_by("-finished_at", "-id").first())


def accepted_examples(version, run=None):
    """The version's accepted pool: examples no gate of the latest succeeded
    run (or ``run``) rejected, minus those a human reviewer rejected. Without a
    succeeded run nothing has been accepted yet (an empty queryset)."""
    run = run or latest_succeeded_run(version)
    if run is None:
        return Example.objects.none()
    return (Example.objects.filter(version=version)
            .exclude(pk__in=Rejection.objects.filter(run=run).values("example_id"))
            .exclude(pk__in=human_rejected_ids(version)))


def accepted_count(version):
    """(run, accepted examples) of the latest succeeded run; (None, None) before one."""
    run = latest_succeeded_run(version)
    if run is None:
        return None, None
    human = human_rejected_ids(version)
    if not human:
        return run, run.accepted_count
    still_in = Example.objects.filter(version=version, pk__in=human).exclude(
        pk__in=Rejection.objects.filter(run=run).values("example_id")
    ).count()
    return run, run.accepted_count - still_in


def step_results(run):
    return list(GateStepResult.objects.filter(run=run).order_by("position"))


def rejections(run, *, gate=None, position=None):
    """The reject set of ``run`` in gate order, optionally one gate's (by name or position)."""
    queryset = Rejection.objects.filter(run=run).select_related("example", "run__version__dataset").order_by(
        "position", "example__ordinal")
    if gate:
        queryset = queryset.filter(gate=gate)
    if position:
        queryset = queryset.filter(position=position)
    return queryset


def rejection_counts(run):
    """{position: rejections stored} in one grouped query."""
    return dict(
        Rejection.objects.filter(run=run).values("position").annotate(n=Count("id")).values_list("position", "n")
    )


def funnel(run):
    """The cascade as a funnel: the pool, then each gate's survivors."""
    results = step_results(run)
    if not results:
        return []
    stages = [{"label": "candidates", "count": results[0].count_in, "rejected": 0, "position": 0}]
    stages += [
        {"label": f"{r.position}. {r.gate}", "count": r.count_out, "rejected": r.rejected, "position": r.position}
        for r in results
    ]
    return stages


def realism_metrics(run):
    """The metrics of the run's realism step (None when the cascade has none)."""
    result = GateStepResult.objects.filter(run=run, gate="realism").order_by("-position").first()
    return result.metrics if result else None


def fidelity_report(run):
    return FidelityReport.objects.filter(run=run).first()


def fidelity_check(run, realism, report):
    """(use cell, A.fidelity's result for ``run``) under the thresholds of the version's
    own cell, for the run page; (use, None) while the run has not succeeded."""
    from scorecard.services import policy_for

    from .careful_checks import assess_fidelity

    manifest = run.version.manifest
    if run.status != RunStatus.SUCCEEDED:
        return manifest.use_cell, None
    params = policy_for(manifest, manifest.use_cell).checks.get("A.fidelity", {})
    return manifest.use_cell, assess_fidelity(run, realism, report, params)


# Scoped reads for pages and the API.

def cascades(user):
    return GateCascade.objects.visible_to(user).select_related("dataset", "updated_by")


def runs(user):
    return GateRun.objects.visible_to(user).select_related("version__dataset", "anchor_version__dataset", "created_by")


def fidelity_reports(user):
    return FidelityReport.objects.visible_to(user).select_related("version__dataset", "anchor_version__dataset")


def cascade_summary(dataset):
    """The dataset's cascade for the API and pages; while none is configured,
    the default of its latest version's use cell."""
    cascade = GateCascade.objects.filter(dataset=dataset).select_related("updated_by").first()
    if cascade is not None and cascade.steps.exists():
        return {"dataset": dataset.slug, "configured": True, "revision": cascade.revision, "use_cell": None,
                "steps": cascade.step_config(), "updated_by": cascade.updated_by.get_username(),
                "updated_at": cascade.updated_at}
    latest = dataset.versions.select_related("manifest").order_by("-number").first()
    use_cell = latest.manifest.use_cell if latest else Use.TRAINING
    return {"dataset": dataset.slug, "configured": False, "revision": None, "use_cell": use_cell,
            "steps": services.default_steps(use_cell), "updated_by": None, "updated_at": None}


def version_summary(version):
    latest = (GateRun.objects.filter(version=version).select_related("version__dataset", "anchor_version__dataset",
                                                                      "created_by", "fidelity_report")
              .prefetch_related("results").order_by("-created_at", "-id").first())
    run, accepted = accepted_count(version)
    return {"version": version, "examples": version.examples.count(), "latest_run": latest,
            "accepted_run": run.pk if run else None, "accepted": accepted, "funnel": funnel(run) if run else []}
