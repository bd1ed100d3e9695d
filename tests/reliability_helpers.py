"""Shared by the reliability tests (fuzzing, bad input, concurrency, crashes):
a fingerprint of the whole database, and real path parameters for the
operations of the OpenAPI schema, taken from the isolation world."""
import hashlib
import json
import re

from django.apps import apps
from django.conf import settings
from django.urls import NoReverseMatch, reverse

from .isolation import ROUTE_KWARGS


def db_fingerprint(exclude=()):
    """model label -> (row count, sha256 of every row's values in pk order).
    Equal fingerprints: no row was added, removed or changed anywhere."""
    fingerprint = {}
    for model in apps.get_models():
        label = model._meta.label
        if model._meta.proxy or not model._meta.managed or label in exclude:
            continue
        digest, count = hashlib.sha256(), 0
        for row in model._base_manager.order_by("pk").values_list().iterator(chunk_size=2000):
            digest.update(repr(row).encode())
            count += 1
        fingerprint[label] = (count, digest.hexdigest())
    return fingerprint


def fingerprint_diff(before, after):
    return sorted(label for label in before.keys() | after.keys() if before.get(label) != after.get(label))


def known_path_parameters(operation_paths, world):
    """Operation path template (``/api/versions/{id}/``) -> the path parameters
    of a real object of the world, found by matching the world's concrete URLs
    (built from tests/isolation*.py ROUTE_KWARGS) against the template."""
    concrete = []
    for name, kwargs in ROUTE_KWARGS.items():
        try:
            concrete.append(reverse(name, kwargs=kwargs(world)))
        except (NoReverseMatch, KeyError, AttributeError):
            continue
    known = {}
    for template in operation_paths:
        pattern = re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$")
        for url in concrete:
            match = pattern.match(url)
            if match and match.groupdict():
                known[template] = match.groupdict()
                break
    return known


def record_figure(name, figures):
    """Keep a test's figures for the README (docs/reliability.md) in
    $CAREFUL_VAR_DIR/reliability/<name>.json, and print them."""
    out = settings.VAR_DIR / "reliability" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2))
    print(f"\n{name}: {figures}")
