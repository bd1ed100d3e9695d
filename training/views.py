"""Server-rendered training pages: the same scoped selectors as the API."""
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from gates.masking import ContentMask

from . import charts, selectors


@require_safe
@login_required
def home(request):
    user = request.user
    return render(request, "training/home.html", {
        "families": selectors.families(user)[:100],
        "scans": selectors.scans(user)[:50],
        "checks": selectors.provenance_checks(user)[:50],
        "mixes": selectors.mixes(user)[:50],
        "builds": selectors.mix_builds(user)[:20],
    })


@require_safe
@login_required
def family_detail(request, pk):
    family = get_object_or_404(selectors.families(request.user), pk=pk)
    return render(request, "training/family_detail.html", {
        "family": family,
        "evaluation_sets": selectors.evaluation_sets(request.user).filter(family=family),
        "scans": selectors.scans(request.user).filter(evaluation_set__family=family)[:50],
        "checks": selectors.provenance_checks(request.user).filter(evaluation_set__family=family)[:50],
        "mixes": selectors.mixes(request.user).filter(family=family)[:50],
    })


@require_safe
@login_required
def scan_detail(request, pk):
    scan = get_object_or_404(selectors.scans(request.user), pk=pk)
    pairs = Paginator(selectors.scan_pairs(scan), 100).get_page(request.GET.get("page"))
    mask = ContentMask(request.user)
    for pair in pairs:
        pair.eval_text = mask.text(pair.eval_example.text, pair.eval_example.version.dataset.tenant_id)
        pair.training_text = mask.text(pair.training_example.text, pair.training_example.version.dataset.tenant_id)
    return render(request, "training/scan_detail.html", {"scan": scan, "pairs": pairs})


@require_safe
@login_required
def check_detail(request, pk):
    check = get_object_or_404(selectors.provenance_checks(request.user), pk=pk)
    return render(request, "training/check_detail.html", {"check": check})


@require_safe
@login_required
def mix_detail(request, pk):
    mix = get_object_or_404(selectors.mixes(request.user), pk=pk)
    return render(request, "training/mix_detail.html", {
        "mix": mix,
        "ratio_chart": charts.ratio_bar(
            synthetic=mix.synthetic_count, real=mix.real_count, cap=mix.max_synthetic_ratio
        ),
        "label_chart": charts.label_bars(mix.labels_before, mix.labels_after),
    })
