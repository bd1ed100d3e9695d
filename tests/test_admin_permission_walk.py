"""The admin, walked as every role of every tenant (and each registry-wide role).

Generated from the admin site's registry: every registered model, and for an
object of tenant A every admin URL (changelist, add, change, history, a history
row's revert form, delete), GET and POST, as each of the five roles of tenant A
and of tenant B, each registry role, and a staff user with no role. The
expectation comes from the permission table itself (``registry.permissions.TABLE``),
read by a small oracle written here, not by the code under test (every admin
page needs the table's "admin" action, writes the action itself as well):

- nothing the table does not grant succeeds, and the database fingerprint is
  unchanged after the refused attempts (checked per user and model);
- what the table grants, an admin that performs the action through a service
  does not refuse (so the walk is not vacuous);
- a history revert never succeeds, for anyone.

Attempts the table grants run inside a rolled-back transaction, so one user's
allowed change does not become the next user's starting point.
"""
from collections import Counter

import pytest
from django.contrib import admin
from django.db import transaction
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import NoReverseMatch, reverse

from registry import permissions
from registry.choices import RegistryRole, Role
from registry.models import Membership, RegistryMembership

from .factories import make_tenant, make_user
from .isolation import build_world_a
from .reliability_helpers import db_fingerprint, fingerprint_diff

pytestmark = pytest.mark.django_db

# Rows that log in and out, not governed data.
FINGERPRINT_EXCLUDE = ("sessions.Session", "axes.AccessLog", "axes.AccessAttempt", "axes.AccessFailureLog",
                       "admin.LogEntry")
REFUSED = {302, 403, 404, 405}


def _label(model):
    return model._meta.label_lower


def table_allows(user, model, action, obj):
    """The oracle: what ``registry.permissions.TABLE`` says, evaluated directly."""
    if user.is_superuser:
        return True
    rule = permissions.TABLE.get(_label(model), {}).get(action)
    if rule is None:
        return False
    registry_roles = set(RegistryMembership.objects.filter(user=user).values_list("role", flat=True))
    if rule.registry & registry_roles:
        return True
    path = permissions._tenant_path(model)
    memberships = Membership.objects.filter(user=user, role__in=rule.roles)
    if path is None or obj is None:
        return memberships.exists()
    tenant_id = model._default_manager.filter(pk=obj.pk).values_list(path, flat=True).first()
    return memberships.filter(tenant_id=tenant_id).exists()


def _supports(model_admin, action):
    return action in getattr(model_admin, "service_actions", frozenset())


# Who walks: each role of tenant A (the owner of the objects) and of tenant B,
# each registry-wide role, and a staff user holding no role at all.
WALKERS = [*(f"A:{role}" for role in Role.values), *(f"B:{role}" for role in Role.values),
           *(f"registry:{role}" for role in RegistryRole.values), "no role"]


def make_walker(name, world, tenant_b):
    kind, _, role = name.partition(":")
    if kind in ("A", "B"):
        tenant = world.tenant if kind == "A" else tenant_b
        return make_user(f"walk-{kind}-{role}", tenant=tenant, roles=[role], is_staff=True)
    user = make_user(f"walk-{role or 'staff'}", is_staff=True)
    if role:
        RegistryMembership.objects.create(user=user, role=role)
    return user


def _object_of_tenant(model, tenant):
    path = permissions._tenant_path(model)
    rows = model._default_manager.order_by("pk")
    if path is not None:
        rows = rows.filter(**{path: tenant.pk})
    return rows.first()


def _history_id(obj):
    history = getattr(type(obj), "history", None)
    if history is None:
        return None
    row = history.filter(**{type(obj)._meta.pk.attname: obj.pk}).order_by("history_id").first()
    return row.history_id if row else None


def _urls(model, obj):
    """(kind, method, url, action the table must grant, whether it writes)."""
    info = model._meta.app_label, model._meta.model_name
    urls = [("changelist", "get", reverse("admin:%s_%s_changelist" % info), permissions.ADMIN, False),
            ("add", "get", reverse("admin:%s_%s_add" % info), permissions.ADD, False),
            ("add", "post", reverse("admin:%s_%s_add" % info), permissions.ADD, True)]
    if obj is None:
        return urls
    urls += [
        ("change", "get", reverse("admin:%s_%s_change" % info, args=[obj.pk]), permissions.ADMIN, False),
        ("change", "post", reverse("admin:%s_%s_change" % info, args=[obj.pk]), permissions.CHANGE, True),
        ("history", "get", reverse("admin:%s_%s_history" % info, args=[obj.pk]), permissions.ADMIN, False),
        ("delete", "get", reverse("admin:%s_%s_delete" % info, args=[obj.pk]), permissions.DELETE, False),
        ("delete", "post", reverse("admin:%s_%s_delete" % info, args=[obj.pk]), permissions.DELETE, True),
    ]
    history_id = _history_id(obj)
    if history_id is not None:
        try:
            url = reverse("admin:%s_%s_simple_history" % info, args=[obj.pk, history_id])
        except NoReverseMatch:
            url = None
        if url:
            urls += [("revert", "get", url, permissions.ADMIN, False),
                     # No action grants a revert: it would write around the services.
                     ("revert", "post", url, "revert", True)]
    return urls


def _post_data(obj, kind):
    if kind == "delete":
        return {"post": "yes"}
    if obj is None:
        return {}
    return {key: ("" if value is None else value) for key, value in model_to_dict(obj).items()
            if not isinstance(value, (list, dict))}


@pytest.mark.parametrize("name", WALKERS)
def test_nothing_outside_the_permission_table_succeeds_in_the_admin(name):
    world = build_world_a()
    user = make_walker(name, world, make_tenant("walk-tenant-b"))
    counts = Counter()
    registered = sorted(admin.site._registry.items(), key=lambda item: _label(item[0]))
    client = Client()
    client.force_login(user)
    for model, model_admin in registered:
        obj = _object_of_tenant(model, world.tenant)
        before = db_fingerprint(exclude=FINGERPRINT_EXCLUDE)
        for kind, method, url, action, writes in _urls(model, obj):
            target = obj if kind not in ("add", "changelist") else None
            # The admin is the governance console: every page needs "admin" first.
            granted = table_allows(user, model, permissions.ADMIN, target) and table_allows(
                user, model, action, target) and (action == permissions.ADMIN or _supports(model_admin, action))
            where = f"{name} {method.upper()} {url}"
            if granted and writes:
                with transaction.atomic():
                    response = client.post(url, _post_data(obj, kind))
                    transaction.set_rollback(True)
                assert response.status_code != 403, f"{where}: the table grants {action}, the admin refused"
                counts["allowed"] += 1
                continue
            response = client.post(url, _post_data(obj, kind)) if method == "post" else client.get(url)
            if granted:
                assert response.status_code == 200, f"{where}: the table grants {action}, got {response.status_code}"
                counts["allowed"] += 1
            else:
                assert response.status_code in REFUSED, f"{where}: not in the table, got {response.status_code}"
                counts["refused"] += 1
            if kind == "changelist" and response.status_code == 200 and obj is not None:
                listed = obj.pk in {row.pk for row in response.context["cl"].result_list}
                assert listed == table_allows(user, model, permissions.ADMIN, obj), (
                    f"{where}: tenant A's {_label(model)} #{obj.pk} listed={listed}")
        after = db_fingerprint(exclude=FINGERPRINT_EXCLUDE)
        assert not fingerprint_diff(before, after), (
            f"{name} changed {fingerprint_diff(before, after)} through the {_label(model)} admin")
    print(f"\nadmin walk as {name}: {len(registered)} admin models, "
          f"{counts['allowed']} allowed and {counts['refused']} refused requests, 0 changes outside the table")
    assert counts["refused"] > 0
