"""What the training commands share: acting as a user, naming versions and families."""
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import CommandError

from registry.errors import Conflict
from training import selectors


def add_actor_argument(parser):
    parser.add_argument("--actor", required=True, help="Username the action is recorded for (scope is checked).")


def actor(username):
    try:
        return get_user_model().objects.get(username=username, is_active=True)
    except get_user_model().DoesNotExist:
        raise CommandError(f"No active user {username!r}.") from None


def versions(user, refs):
    try:
        return [selectors.version_by_ref(user, ref) for ref in refs]
    except ValueError as error:
        raise CommandError(str(error)) from None


def family(user, tenant_slug, name):
    try:
        return selectors.families(user).get(tenant__slug=tenant_slug, name=name)
    except selectors.ModelFamily.DoesNotExist:
        raise CommandError(f"No model family {name!r} in tenant {tenant_slug!r} in your scope.") from None


def refused(error):
    """A service refusal as a CommandError listing every reason."""
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        lines = [f"{field}: {message}" for field, messages in error.message_dict.items() for message in messages]
    else:
        lines = [getattr(error, "message", None) or str(error)]
    return CommandError("refused:\n  " + "\n  ".join(lines))


SERVICE_ERRORS = (ValidationError, PermissionDenied, Conflict)
