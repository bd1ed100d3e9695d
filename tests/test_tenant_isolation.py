"""Walk every route in the URL conf as a user of another tenant and as an
anonymous user: nothing of tenant A leaks, nothing of tenant A changes."""
import re

import pytest
from django.apps import apps
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from .isolation import GLOBAL_ROUTES, MARKER, PUBLIC_ROUTES, ROUTE_KWARGS, build_world_a

pytestmark = pytest.mark.django_db


def walk(patterns, prefix="", namespace=None):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern) and entry.name:
            yield prefix + str(entry.pattern), entry.name, namespace


def routes():
    """(route string, name, is_api) for every named route except the admin's
    (covered by test_admin_scope) and DRF's format-suffix twins."""
    found = {}
    for route, name, namespace in walk(get_resolver().url_patterns):
        if namespace == "admin" or "format" in route:
            continue
        is_api = route.startswith("api/") or route.startswith("^api/")
        found[(name, is_api)] = route
    return sorted((route, name, is_api) for (name, is_api), route in found.items())


def kwargs_names(route):
    return re.findall(r"<(?:\w+:)?(\w+)>", route) + re.findall(r"\(\?P<(\w+)>", route)


def url_for(name, route, is_api, world):
    needed = kwargs_names(route)
    if not needed:
        return reverse(name)
    if name not in ROUTE_KWARGS:
        pytest.fail(f"route {name!r} ({route}) has no entry in tests/isolation.py ROUTE_KWARGS")
    return reverse(name, kwargs=ROUTE_KWARGS[name](world))


def snapshot():
    """Row count of every model: an attempt must change none of them."""
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def body(response):
    """The text of a response, streamed ones (CSV, JSONL downloads) included."""
    if response.streaming:
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


ALL_ROUTES = routes()


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Tenant A's world, built once for the module (built per test it was 94% of
    the module's time), in a transaction rolled back after the module. Each test
    still runs in its own transaction (pytest-django's, a savepoint inside this
    one) rolled back after it, so no test sees another's writes."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world_a()
        transaction.set_rollback(True)


@pytest.fixture
def outsider(tenant_b, charlie):
    client = APIClient()
    client.force_login(charlie)
    return client


@pytest.mark.parametrize("route, name, is_api", ALL_ROUTES, ids=[f"{n}{'-api' if a else ''}" for _, n, a in ALL_ROUTES])
def test_outsider_reads_and_writes_nothing(world, outsider, route, name, is_api):
    if name in PUBLIC_ROUTES:
        return
    url = url_for(name, route, is_api, world)
    has_object = bool(kwargs_names(route))
    before = snapshot()
    response = outsider.get(url)
    if has_object and name not in GLOBAL_ROUTES:
        assert response.status_code in (404, 405), f"GET {url} gave {response.status_code}"
    assert MARKER not in body(response), f"GET {url} leaks tenant A"
    for method in ("post", "put", "patch", "delete"):
        response = getattr(outsider, method)(url, {"tenant": world.tenant.slug, "dataset": world.dataset.slug},
                                            format="json")
        assert response.status_code in (302, 400, 403, 404, 405), f"{method.upper()} {url} gave {response.status_code}"
        assert MARKER not in body(response), f"{method.upper()} {url} leaks tenant A"
    assert snapshot() == before, f"an outsider's request to {url} changed the database"


@pytest.mark.parametrize("route, name, is_api", ALL_ROUTES, ids=[f"{n}{'-api' if a else ''}" for _, n, a in ALL_ROUTES])
def test_anonymous_is_refused(world, route, name, is_api):
    if name in PUBLIC_ROUTES:
        return
    url = url_for(name, route, is_api, world)
    response = APIClient().get(url)
    if is_api and name != "api-token":
        assert response.status_code in (401, 403), f"anonymous GET {url} gave {response.status_code}"
    elif not is_api:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    assert MARKER not in body(response)


def test_outsider_sees_nothing_of_tenant_a_in_the_admin(world, client, charlie):
    from django.contrib import admin

    client.force_login(charlie)
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        changelist = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        assert changelist.status_code in (200, 302, 403), opts.label
        assert MARKER not in changelist.content.decode(), f"admin changelist of {opts.label} leaks tenant A"
        # Search for the marker's tail: it matches A's rows, and its echo is not the marker.
        search = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist") + f"?q={MARKER[3:]}")
        assert MARKER not in search.content.decode(), f"admin search of {opts.label} leaks tenant A"
    for obj in (world.dataset, world.version, world.template, world.tenant):
        opts = obj._meta
        response = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
        assert response.status_code == 302, f"admin change page of {opts.label} is open to an outsider"
