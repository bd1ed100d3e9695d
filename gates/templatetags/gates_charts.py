"""Template filters handing gates.charts geometry to the gate partials."""
from django import template

from gates import charts

register = template.Library()


@register.filter
def fidelity_charts(report):
    """Chart geometry plus the report itself; accepts the evaluate() dict or a stored
    FidelityReport (its ``results``)."""
    results = getattr(report, "results", report) or {}
    return {"report": results, **charts.fidelity(results)}


@register.filter
def realism_chart(metrics):
    return charts.realism(metrics or {})
