"""Server-rendered monitoring pages: the same scoped selectors and services as the API."""
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from registry import selectors as registry_selectors
from registry.errors import Conflict

from . import charts, selectors, services
from .models import MonitorKind, Resolution
from .reports import report_response


@require_safe
@login_required
def home(request):
    user = request.user
    return render(request, "monitoring/home.html", {
        "baselines": selectors.baselines(user)[:100],
        "monitors": selectors.monitors(user)[:200],
        "alerts": selectors.open_alerts(user)[:100],
    })


@require_safe
@login_required
def dataset_monitoring(request, slug):
    dataset = get_object_or_404(registry_selectors.catalog(request.user), slug=slug)
    monitors = list(selectors.monitors(request.user).filter(version__dataset=dataset))
    recent = selectors.dataset_runs(request.user, dataset)
    sections = []
    for monitor in monitors:
        runs = [run for run in recent if run.monitor_id == monitor.pk]
        if monitor.kind == MonitorKind.COVERAGE:
            share = charts.share_chart(runs, monitor.coverage_max_uncovered, title="Share of production uncovered",
                                       value=lambda run: run.coverage.get("uncovered_share"))
            columns = ""
        else:
            share = charts.share_chart(runs, monitor.drift_share, title="Share of drifted columns per run",
                                       value=lambda run: run.drift_share)
            columns = charts.worst_columns_chart(runs)
        sections.append({"monitor": monitor, "runs": list(reversed(runs)), "share_chart": share,
                         "columns_chart": columns})
    return render(request, "monitoring/dataset.html", {
        "dataset": dataset, "sections": sections,
        "alerts": selectors.alerts(request.user).filter(version__dataset=dataset)[:50],
    })


@require_safe
@login_required
def run_detail(request, pk):
    run = get_object_or_404(selectors.runs(request.user), pk=pk)
    return render(request, "monitoring/run.html", {"run": run, "monitor": run.monitor,
                                                   "dataset": run.monitor.version.dataset})


@require_safe
@login_required
def run_report(request, pk, part):
    run = get_object_or_404(selectors.runs(request.user), pk=pk)
    return report_response(run, part, request.GET.get("kind", "html"))


@require_safe
@login_required
def baseline_version_detail(request, pk):
    version = get_object_or_404(selectors.baseline_versions(request.user), pk=pk)
    return render(request, "monitoring/baseline_version.html", {"bv": version})


ALERT_ACTIONS = {
    "acknowledge": lambda user, alert, post: services.acknowledge_alert(actor=user, alert=alert,
                                                                        note=post.get("note", "")),
    "assign": lambda user, alert, post: services.assign_alert(
        actor=user, alert=alert, assignee=get_user_model().objects.filter(username=post.get("assignee", "")).first()
        or _no_user()),
    "resolve": lambda user, alert, post: services.resolve_alert(
        actor=user, alert=alert, resolution=post.get("resolution", ""), note=post.get("note", "")),
}


def _no_user():
    raise ValidationError({"assignee": "No such user."})


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def alert_detail(request, pk):
    """The alert with its runs; POST (CSRF form) acknowledges, assigns or resolves it."""
    alert = get_object_or_404(selectors.alerts(request.user), pk=pk)
    if request.method == "POST":
        action = ALERT_ACTIONS.get(request.POST.get("action"))
        if action is None:
            messages.error(request, "Unknown action.")
        else:
            try:
                action(request.user, alert, request.POST)
                messages.success(request, f"Alert #{alert.pk}: {request.POST['action']} done.")
            except (ValidationError, Conflict, PermissionDenied) as error:
                text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
                messages.error(request, text)
        return redirect("alert-page", pk=alert.pk)
    return render(request, "monitoring/alert.html", {
        "alert": alert, "dataset": alert.version.dataset, "runs": alert.runs.order_by("-scheduled_for")[:50],
        "resolutions": Resolution.choices,
    })

