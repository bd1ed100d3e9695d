"""Scorecard reads: the version a user may see, history, the badge token."""
from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

from registry import selectors as registry_selectors
from registry.models import DatasetVersion

from .checks import LETTERS
from .models import ScorecardSnapshot
from .services import validate_use


def visible_version(user, slug, number=None):
    """A version the user may see (latest when ``number`` is None); DoesNotExist otherwise."""
    versions = registry_selectors.versions(user).filter(dataset__slug=slug)
    if number is None:
        return versions.order_by("-number")[:1].get()
    return versions.get(number=number)


def use_or_default(version, use):
    """The requested use, validated; the manifest's use cell when none is asked."""
    return validate_use(use) if use else version.manifest.use_cell


def history(version, use, limit=50):
    """Snapshots of (version, use), newest first, each with ``changed``: the
    letters whose status differs from the snapshot before it (one query)."""
    snapshots = list(ScorecardSnapshot.objects.filter(version=version, use=use)
                     .select_related("policy").order_by("-created_at", "-id")[: limit + 1])
    for newer, older in zip(snapshots, snapshots[1:] + [None]):
        newer.changed = [
            letter for letter in LETTERS if older is None or newer.letters.get(letter) != older.letters.get(letter)
        ]
        newer.policy_changed = older is not None and newer.policy_updated_at != older.policy_updated_at
    return snapshots[:limit]


def badge_token(version):
    """The unguessable token that lets anyone holding it fetch this version's
    badge (and nothing else) without logging in. Derived from SECRET_KEY and the
    version id: rotating SECRET_KEY revokes every badge URL."""
    return salted_hmac("scorecard.badge", str(version.pk), secret=settings.SECRET_KEY, algorithm="sha256").hexdigest()[:32]


def version_for_badge_token(slug, number, token):
    """The version the token was issued for, or None (wrong token, no such version)."""
    version = DatasetVersion.objects.select_related("dataset", "manifest").filter(
        dataset__slug=slug, number=number
    ).first()
    if version is None or not token or not constant_time_compare(token, badge_token(version)):
        return None
    return version
