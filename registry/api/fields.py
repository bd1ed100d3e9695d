import math

from rest_framework import serializers


class FiniteFloatField(serializers.FloatField):
    """A float that refuses NaN and infinities (they pass min/max comparisons)."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("invalid")
        return value


class ScopedSlugRelatedField(serializers.SlugRelatedField):
    """A slug reference resolved only inside the requesting user's scope, so an
    object of another tenant reads as unknown rather than forbidden."""

    default_error_messages = {
        "does_not_exist": "No such {slug_name} in your scope.",
        "invalid": "Invalid value.",
    }

    def __init__(self, *, scope, **kwargs):
        self.scope = scope
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        try:
            return self.get_queryset().get(**{self.slug_field: data})
        except (TypeError, ValueError):
            self.fail("invalid")
        except self.get_queryset().model.DoesNotExist:
            self.fail("does_not_exist", slug_name=self.slug_field)

    def get_queryset(self):
        request = self.context.get("request")
        return self.scope(request.user) if request else self.queryset.none()
