"""Domain errors raised by services; every entry point maps them the same way.

ValidationError (django.core.exceptions) -> 400 naming the field,
PermissionDenied -> 403, NotFound -> 404, Conflict -> 409 (illegal state).
"""
from django.core.exceptions import ObjectDoesNotExist


class Conflict(Exception):
    """The action is not allowed in the object's current state."""

    def __init__(self, message, *, code="conflict"):
        super().__init__(message)
        self.message = message
        self.code = code


class NotFound(ObjectDoesNotExist):
    """The object does not exist or is outside the caller's scope (never 403)."""
