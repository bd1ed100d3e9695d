"""``{{ example.text|masked:raw }}``: example content as the reader may see it.
Views pass ``raw`` (``permissions.can(user, "view_raw", version)``); without
it the PII detectors' matches are masked (gates.masking)."""
from django import template

from gates.masking import mask_data

register = template.Library()


@register.filter
def masked(value, raw=False):
    return value if raw is True else mask_data(value)
