"""The version's judges page: the same scoped selectors as the API."""
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_safe

from registry import permissions, selectors as registry_selectors
from registry.models import DatasetVersion

from . import charts, selectors
from .models import JudgePanel


@require_safe
@login_required
def version_judges(request, slug, number):
    try:
        version = registry_selectors.version_detail(request.user, slug, number)
    except DatasetVersion.DoesNotExist:
        raise Http404("No such version.")
    panel = JudgePanel.objects.filter(dataset=version.dataset).first()
    picture = selectors.score_picture(version, panel)
    accuracy = selectors.label_accuracy(version)
    return render(request, "judges/version.html", {
        "version": version, "dataset": version.dataset, "panel": panel,
        "judging": selectors.judging(version), "counts": selectors.queue_counts(version),
        "accuracy": accuracy, "min_reviewed": selectors.MIN_REVIEWED,
        "raw": permissions.can(request.user, "view_raw", version),
        "histograms": [
            (judge, charts.histogram(counts, title=f"Scores of {judge}"))
            for judge, counts in picture["histograms"].items()
        ],
        "spread_chart": charts.histogram(picture["spreads"], title="Per-example spread of judge scores",
                                         threshold=picture["threshold"]),
        "matrix_chart": charts.agreement_matrix(picture["matrix"]) if picture["matrix"] else None,
        "uploads": selectors.uploads(request.user).filter(version=version)[:20],
        "open_items": selectors.review_items(request.user).filter(version=version, decision="")[:50],
    })
