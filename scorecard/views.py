"""Scorecard pages: the scorecard of a version for a use, its badge, and its
Croissant / Markdown downloads. All GET-only; outside scope answers 404."""
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from registry.choices import Use
from registry.models import DatasetVersion

from . import exports, selectors, services


def _scorecard_or_error(request, slug, number):
    """(scorecard, None) for a visible version, or (None, a 400 response); 404 outside scope."""
    try:
        version = selectors.visible_version(request.user, slug, number)
    except DatasetVersion.DoesNotExist:
        raise Http404("No such version.")
    try:
        use = selectors.use_or_default(version, request.GET.get("use"))
    except ValidationError as error:
        return None, HttpResponseBadRequest(" ".join(error.message_dict["use"]))
    return services.computed_and_recorded(version, use), None


def badge_url(request, version, use):
    query = f"?use={use}&token={selectors.badge_token(version)}"
    return request.build_absolute_uri(reverse("scorecard-badge-page", args=[version.dataset.slug, version.number]) + query)


@require_safe
@login_required
def scorecard_page(request, slug, number):
    scorecard, error = _scorecard_or_error(request, slug, number)
    if error:
        return error
    version = scorecard.version
    return render(request, "scorecard/scorecard.html", {
        "scorecard": scorecard, "version": version, "dataset": version.dataset, "uses": Use.choices,
        "history": selectors.history(version, scorecard.use), "badge_url": badge_url(request, version, scorecard.use),
    })


@require_safe
def badge(request, slug, number):
    """With the version's badge token anyone may fetch the badge (to embed it in
    a team's docs); without it, the usual login and tenant scope apply."""
    version = selectors.version_for_badge_token(slug, number, request.GET.get("token"))
    if version is None:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        scorecard, error = _scorecard_or_error(request, slug, number)
        if error:
            return error
    else:
        try:
            use = selectors.use_or_default(version, request.GET.get("use"))
        except ValidationError as error:
            return HttpResponseBadRequest(" ".join(error.message_dict["use"]))
        scorecard = services.computed_and_recorded(version, use)
    response = HttpResponse(exports.badge_svg(scorecard), content_type="image/svg+xml")
    response["Cache-Control"] = "max-age=300"
    return response


def _export(request, slug, number, render, content_type, suffix):
    scorecard, error = _scorecard_or_error(request, slug, number)
    if error:
        return error
    exports.record_export(request.user, scorecard, f"scorecard.{suffix.split('.')[0]}")
    response = HttpResponse(render(scorecard, base_url=request.build_absolute_uri("/")), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{slug}-v{number}-{suffix}"'
    return response


@require_safe
@login_required
def croissant_page(request, slug, number):
    return _export(request, slug, number, exports.croissant_json, "application/ld+json", "croissant.jsonld")


@require_safe
@login_required
def datacard_page(request, slug, number):
    return _export(request, slug, number, exports.datacard_markdown, "text/markdown; charset=utf-8", "datacard.md")
