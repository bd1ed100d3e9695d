"""Parameters, metrics and details shown as JSON (as the API and CSV give them), not Python reprs."""
import json

from django import template

register = template.Library()


@register.filter
def as_json(value):
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
