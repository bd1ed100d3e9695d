"""Server-rendered gate pages: the same scoped selectors and services as the API."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from registry import permissions, selectors as registry_selectors
from registry.errors import Conflict
from registry.models import DatasetVersion

from . import selectors, services
from .funnel import funnel_svg
from .models import ACTIVE_STATUSES

REJECTIONS_PER_PAGE = 50


def _version_or_404(user, slug, number):
    try:
        return registry_selectors.version_detail(user, slug, number)
    except DatasetVersion.DoesNotExist:
        raise Http404("No such version.")


def _run_context(run):
    """What templates/gates/_run.html shows of one run."""
    if run is None:
        return {}
    stages = selectors.funnel(run)
    realism, report = selectors.realism_metrics(run), selectors.fidelity_report(run)
    use, check = selectors.fidelity_check(run, realism, report)
    return {
        "run": run, "results": selectors.step_results(run), "funnel": funnel_svg(stages),
        "realism": realism, "report": report, "fidelity_check": check, "use": use,
        "active": run.status in ACTIVE_STATUSES,
    }


@require_safe
@login_required
def version_gates(request, slug, number):
    version = _version_or_404(request.user, slug, number)
    runs = selectors.runs(request.user).filter(version=version)
    latest = runs.first()
    accepted_run, accepted = selectors.accepted_count(version)
    return render(request, "gates/version_gates.html", {
        "version": version, "dataset": version.dataset, "cascade": selectors.cascade_summary(version.dataset),
        "runs": runs[:20], "accepted_run": accepted_run, "accepted": accepted,
        "can_run": services.can_gate(request.user, version), **_run_context(latest),
    })


@login_required
@require_POST
def start_run(request, slug, number):
    version = _version_or_404(request.user, slug, number)
    try:
        run = services.start_gate_run(actor=request.user, version=version)
    except (ValidationError, Conflict, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", None) or [getattr(error, "message", str(error))]))
        return redirect("versiongates-page", slug, number)
    messages.success(request, f"Gate run #{run.pk} queued.")
    return redirect("gaterun-page", run.pk)


@require_safe
@login_required
def run_detail(request, pk):
    run = get_object_or_404(selectors.runs(request.user), pk=pk)
    gate = request.GET.get("gate", "")
    rejections = Paginator(selectors.rejections(run, gate=gate or None), REJECTIONS_PER_PAGE)
    return render(request, "gates/run_detail.html", {
        "version": run.version, "dataset": run.version.dataset, "gate": gate,
        "gates": sorted({step["gate"] for step in run.steps}),
        "rejections": rejections.get_page(request.GET.get("page")), **_run_context(run),
        "raw": permissions.can(request.user, "view_raw", run.version),
    })
