"""The demo story: a support team needs more examples of rare compliance intents.

Two tenants, a user per role, a real anchor of 38 rare tickets (never-train-on,
eval-exclusion), and a synthetic version generated from versioned templates.
Idempotent: running it again resets the demo users' passwords and prints them.
"""
import datetime
import importlib.util
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from . import services
from .choices import DatasetKind, Role, Use
from .models import Dataset, Generator, Membership, Tenant

DEMO_USERS = [
    # username, tenant slug, roles, is_staff
    ("ada", "support-ops", [Role.TENANT_ADMIN], True),
    ("carl", "support-ops", [Role.CONTRIBUTOR], False),
    ("gwen", "support-ops", [Role.GOVERNANCE_REVIEWER], True),
    ("lena", "support-ops", [Role.LEGAL_REVIEWER], True),
    ("vic", "support-ops", [Role.VIEWER], False),
    ("rita", "risk-lab", [Role.CONTRIBUTOR, Role.TENANT_ADMIN], True),
    ("rob", "risk-lab", [Role.VIEWER], False),
]

TEMPLATE_BODIES = {
    "rare-intent-ticket": [
        "Write a customer support ticket whose intent is {intent}. Tone: {tone}. Channel: {channel}.",
        "Write a realistic customer support ticket with intent {intent}, in a {tone} tone, sent via {channel}. "
        "Vary length and phrasing; do not copy the seed ticket: {seed}.",
    ],
}


def _password():
    return secrets.token_urlsafe(12)


def _cast(passwords=True):
    """The tenants, the superuser and a user per role; ``passwords``: fresh ones,
    returned as {username: password}."""
    User = get_user_model()
    tenants = {
        "support-ops": Tenant.objects.get_or_create(slug="support-ops", defaults={"name": "Support Operations"})[0],
        "risk-lab": Tenant.objects.get_or_create(slug="risk-lab", defaults={"name": "Risk Lab"})[0],
    }
    credentials = {}
    admin, _ = User.objects.get_or_create(username="admin", defaults={"is_staff": True, "is_superuser": True})
    users = {}
    for username, tenant_slug, roles, is_staff in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=username, defaults={"is_staff": is_staff})
        for role in roles:
            Membership.objects.get_or_create(user=user, tenant=tenants[tenant_slug], role=role)
        users[username] = user
    if passwords:
        credentials = {user.username: _set_password(user) for user in (admin, *users.values())}
    return admin, users, tenants, credentials


@transaction.atomic
def load_demo(stdout=None):
    """Create (or refresh) the demo; returns {username: password}."""
    admin, users, tenants, credentials = _cast()
    if not Dataset.objects.filter(slug="rare-compliance-anchor").exists():
        story = _create_story(admin, users, tenants)
        _extend_story(story)
    return credentials


def base_story():
    """The story before any app's chapter: for a test of one app's ``extend_demo``."""
    admin, users, tenants, _ = _cast(passwords=False)
    return _create_story(admin, users, tenants)


@dataclass
class Story:
    """What the demo created, handed to each app's ``demo.extend_demo(story)``."""

    admin: object
    users: dict
    tenants: dict
    generator: object
    templates: list
    anchor: object
    synthetic: object
    extra: dict = field(default_factory=dict)


def _extend_story(story):
    """Each app adds its part of the story (examples, sign-offs, monitors...)
    in its own ``demo.py``, in INSTALLED_APPS order."""
    for config in apps.get_app_configs():
        module_name = f"{config.name}.demo"
        if config.name != "registry" and importlib.util.find_spec(module_name) is not None:
            importlib.import_module(module_name).extend_demo(story)


def _set_password(user):
    password = _password()
    user.set_password(password)
    user.save()
    return password


DEMO_DATA = Path(__file__).resolve().parent / "demo_data"


def _ingest_demo_file(actor, version, name):
    """Through the product's own ingestion path; a refused demo file is a bug."""
    job = services.register_examples_file(actor=actor, version=version, path=DEMO_DATA / name, source="demo")
    job = services.run_ingestion(job_id=job.pk)
    if job.status != "succeeded":
        raise RuntimeError(f"demo file {name} refused: {job.errors[:5]}")


def _create_story(admin, users, tenants):
    carl = users["carl"]
    support = tenants["support-ops"]
    generator = Generator.objects.get_or_create(name="support-sim-llm", version="2026-09", defaults={"provider": "in-house"})[0]
    templates = [
        services.create_prompt_template(actor=carl, tenant=support, name=name, body=body)
        for name, bodies in TEMPLATE_BODIES.items()
        for body in bodies
    ]
    anchor = services.create_dataset(
        actor=carl, tenant=support, slug="rare-compliance-anchor", name="Rare compliance tickets (real anchor)",
        kind=DatasetKind.REAL_ANCHOR,
        description="38 real support tickets with rare compliance intents, held aside as the permanent anchor.",
    )
    anchor_version = services.create_version(
        actor=carl, dataset=anchor, notes="The 38 real rare tickets, redacted.",
        manifest={
            "purpose_gap": "Reference distribution for the rare compliance intents.",
            "purpose_why_not_real": "It is the real data: kept aside so nothing is generated over or evaluated on it.",
            "purpose_success_criterion": "n/a (anchor)",
            "use_cell": Use.EVALUATION, "intended_uses": [Use.EVALUATION],
            "prohibited_uses": [Use.TRAINING, Use.DEMO],
            "eval_exclusion": True, "never_train_on": True, "tenant_scope": [support],
        },
    )
    synthetic = services.create_dataset(
        actor=carl, tenant=support, slug="rare-intents-synthetic", name="Rare compliance intents (synthetic)",
        kind=DatasetKind.SYNTHETIC,
        description="Synthetic tickets for intents with fewer than 40 real examples, generated toward the anchor.",
    )
    synthetic_version = services.create_version(
        actor=carl, dataset=synthetic, notes=f"First generation with {generator} from {templates[-1]}.",
        manifest={
            "purpose_gap": "Intents with < 40 real examples (GDPR erasure, chargeback dispute, regulator complaint).",
            "purpose_why_not_real": "Compliance intents are rare by nature; waiting for real volume takes years.",
            "purpose_success_criterion": "Per-class recall on the real, held-aside rare tickets, not aggregate accuracy.",
            "use_cell": Use.TRAINING, "intended_uses": [Use.TRAINING],
            "prohibited_uses": [Use.EVALUATION, Use.DEMO],
            "max_synthetic_ratio": 0.3, "expires_at": timezone.localdate() + datetime.timedelta(days=180),
            "real_anchor": anchor, "tenant_scope": [support], "harm_if_wrong": "medium", "cheap_verifier": False,
            # Raw generator output keeps its exact duplicates (numbered by dup_rank) for the
            # exact-dedup gate to find and send to the reject set, rather than losing them silently.
            "allow_duplicates": True,
        },
    )
    _ingest_demo_file(carl, anchor_version, "anchor_tickets.jsonl")
    _ingest_demo_file(carl, synthetic_version, "synthetic_tickets_v1.jsonl")
    risk = services.create_dataset(
        actor=users["rita"], tenant=tenants["risk-lab"], slug="fraud-tabular-synthetic",
        name="Card fraud transactions (synthetic, tabular)", kind=DatasetKind.SYNTHETIC, modality="tabular",
        description="The other tenant's data: support-ops users must never see it.",
    )
    services.create_version(actor=users["rita"], dataset=risk, notes="Draft.", manifest={"use_cell": Use.DEMO})
    return Story(admin=admin, users=users, tenants=tenants, generator=generator, templates=templates,
                 anchor=anchor, synthetic=synthetic)
