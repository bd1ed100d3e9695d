import math
import operator

from rest_framework import serializers

from gates.masking import content_mask, mask_data


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


class _MaskedContent:
    """Example content as the reader may see it: PII masked (gates.masking)
    unless they read raw content in its tenant. ``tenant`` is the dotted path
    from the serialized object to its tenant's id."""

    def __init__(self, *, tenant, **kwargs):
        self.tenant_path = tenant
        super().__init__(read_only=True, **kwargs)

    def get_attribute(self, instance):
        value = super().get_attribute(instance)
        mask = content_mask(self.context)
        if mask is not None and mask.raw_for(operator.attrgetter(self.tenant_path)(instance)):
            return value
        return mask_data(value)


class MaskedTextField(_MaskedContent, serializers.CharField):
    pass


class MaskedDataField(_MaskedContent, serializers.JSONField):
    pass
