"""``{% careful_summary dataset %}``: the catalog's seven-letter summary, read
from the latest stored snapshot the catalog query annotated (no query here);
``{% version_scorecard version %}``: a version's letters, computed from evidence."""
from django import template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html

from scorecard.models import decode_code
from scorecard.services import render_summary_html

register = template.Library()


@register.simple_tag
def careful_summary(dataset):
    """Needs the catalog annotations latest_version, latest_use_cell and latest_scorecard_code."""
    if not dataset.latest_version:
        return "—"
    url = reverse("scorecard-page", args=[dataset.slug, dataset.latest_version])
    code = getattr(dataset, "latest_scorecard_code", None)
    if not code:
        return format_html('<a class="muted" href="{}">not computed yet</a>', url)
    return render_to_string("scorecard/_code.html", {
        "url": f"{url}?use={dataset.latest_use_cell}", "use": dataset.latest_use_cell, "letters": decode_code(code),
    })


@register.simple_tag
def version_scorecard(version):
    """The seven letters of ``version`` for its manifest's use cell, computed now."""
    return render_summary_html(version, version.manifest.use_cell)
