"""The world of tenant A, and how to fill every route's URL kwargs from it.

The isolation tests walk the URL conf; a route whose kwargs cannot be filled
from here fails the test by name, so every new route must be added below.
Everything tenant A owns carries MARKER in a name, slug or body, so a leak
shows up as MARKER in a response to a user of tenant B.

Each app adds its own objects and routes in ``tests/isolation_<app>.py``: a
module with ``extend_world(world)`` (create tenant A's objects, store them in
``world.extra``) and a ``ROUTE_KWARGS`` dict, merged here.
"""
import importlib
from dataclasses import dataclass, field
from pathlib import Path

from registry import services

from .factories import install_workflow_policy, make_dataset, make_tenant, make_user, make_version

MARKER = "alphasecret"


@dataclass
class World:
    tenant: object
    owner: object
    dataset: object
    version: object
    template: object
    extra: dict = field(default_factory=dict)


def build_world_a():
    from registry.choices import Role

    install_workflow_policy()  # the world approves versions to hold every kind of evidence
    tenant = make_tenant(f"{MARKER}-tenant")
    owner = make_user(f"{MARKER}-owner", tenant=tenant, roles=[Role.CONTRIBUTOR, Role.TENANT_ADMIN], is_staff=True)
    dataset = make_dataset(owner, tenant, f"{MARKER}-dataset", name=f"{MARKER} dataset")
    version = make_version(owner, dataset, purpose_gap=f"{MARKER} gap")
    template = services.create_prompt_template(actor=owner, tenant=tenant, name=f"{MARKER}-template", body=f"{MARKER} body")
    generator = services.register_generator(actor=owner, name="shared-llm", version="1")
    world = World(
        tenant=tenant, owner=owner, dataset=dataset, version=version, template=template,
        extra={"generator": generator},
    )
    for part in PARTS:
        if hasattr(part, "extend_world"):
            part.extend_world(world)
    return world


# Route name -> kwargs built from the world. Routes without kwargs need no entry.
ROUTE_KWARGS = {
    "tenant-detail": lambda w: {"slug": w.tenant.slug},
    "dataset-detail": lambda w: {"slug": w.dataset.slug},
    "dataset-share": lambda w: {"slug": w.dataset.slug},
    "version-detail": lambda w: {"pk": w.version.pk},
    "version-manifest": lambda w: {"pk": w.version.pk},
    "generator-detail": lambda w: {"pk": w.extra["generator"].pk},
    "prompttemplate-detail": lambda w: {"pk": w.template.pk},
    "dataset-page": lambda w: {"slug": w.dataset.slug},
    "version-page": lambda w: {"slug": w.dataset.slug, "number": w.version.number},
}

# Shared vocabulary, not tenant data: visible to every authenticated user.
GLOBAL_ROUTES = {"generator-list", "generator-detail"}
# Public on purpose (anonymous may open them).
PUBLIC_ROUTES = {"login", "logout"}


PARTS = [
    importlib.import_module(f"tests.{path.stem}")
    for path in sorted(Path(__file__).parent.glob("isolation_*.py"))
]
for _part in PARTS:
    ROUTE_KWARGS.update(getattr(_part, "ROUTE_KWARGS", {}))
    GLOBAL_ROUTES.update(getattr(_part, "GLOBAL_ROUTES", set()))
