"""Shared pieces of the management commands that act on one dataset version."""
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from .models import DatasetVersion


def add_version_arguments(parser, version_help="Version number."):
    parser.add_argument("dataset", help="Dataset slug.")
    parser.add_argument("version", type=int, help=version_help)


def add_actor_argument(parser, recorded="the action"):
    parser.add_argument("--actor", help=f"Username {recorded} is recorded for (default: the version's creator).")


def version_and_actor(options):
    """The version named by the ``dataset`` and ``version`` arguments, and who acts:
    ``--actor`` (an active user) or the version's creator."""
    try:
        version = DatasetVersion.objects.select_related("dataset", "created_by").get(
            dataset__slug=options["dataset"], number=options["version"]
        )
    except DatasetVersion.DoesNotExist:
        raise CommandError(f"No version {options['version']} of dataset {options['dataset']!r}.") from None
    if not options.get("actor"):
        return version, version.created_by
    actor = get_user_model().objects.filter(username=options["actor"], is_active=True).first()
    if actor is None:
        raise CommandError(f"No active user {options['actor']!r}.")
    return version, actor


def refusal(error):
    """A CommandError listing the messages of a service's ValidationError, PermissionDenied or Conflict."""
    lines = getattr(error, "messages", None) or [getattr(error, "message", None) or str(error)]
    return CommandError("refused:\n  " + "\n  ".join(lines))
