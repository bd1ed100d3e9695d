"""Catalog write actions. Views, API, admin, CLI and tasks all call these, so
every entry point gets the same scope checks, validation and history."""
import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from guardian.shortcuts import assign_perm, remove_perm

from .choices import Use
from .errors import Conflict
from .models import Dataset, DatasetVersion, Generator, Manifest, PromptTemplate, Tenant

MANIFEST_SCALAR_FIELDS = (
    "purpose_gap",
    "purpose_why_not_real",
    "purpose_success_criterion",
    "use_cell",
    "intended_uses",
    "prohibited_uses",
    "max_synthetic_ratio",
    "expires_at",
    "eval_exclusion",
    "never_train_on",
    "allow_duplicates",
    "harm_if_wrong",
    "cheap_verifier",
    "real_anchor",
    "owner",
)


def _save_with_history(obj, actor, reason=None):
    """Save and attribute the history row to ``actor`` (no request in CLI/tasks)."""
    obj._history_user = actor
    if reason:
        obj._change_reason = reason
    obj.save()


def _check_writable_tenant(actor, tenant):
    if not Tenant.objects.writable_by(actor).filter(pk=tenant.pk).exists():
        raise PermissionDenied(f"You cannot create or move datasets in tenant '{tenant.slug}'.")


def _validate_uses(field, uses):
    if not isinstance(uses, list) or not all(isinstance(u, str) for u in uses):
        raise ValidationError({field: "Must be a list of use names."})
    unknown = sorted(set(uses) - set(Use.values))
    if unknown:
        raise ValidationError({field: f"Unknown use(s) {', '.join(unknown)}; choose from {', '.join(Use.values)}."})


def _check_dataset_writable(actor, dataset):
    if not Dataset.objects.writable_by(actor).filter(pk=dataset.pk).exists():
        raise PermissionDenied("You may not change this dataset.")


@transaction.atomic
def create_dataset(*, actor, tenant, slug, name, kind, modality="text", description="", owner=None):
    _check_writable_tenant(actor, tenant)
    if Dataset.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": f"A dataset with slug '{slug}' already exists."})
    dataset = Dataset(
        tenant=tenant, slug=slug, name=name, kind=kind, modality=modality,
        description=description, owner=owner or actor,
    )
    dataset.full_clean()
    _save_with_history(dataset, actor, "created")
    return dataset


@transaction.atomic
def update_dataset(*, actor, dataset, **changes):
    dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
    _check_dataset_writable(actor, dataset)
    if "tenant" in changes and changes["tenant"].pk != dataset.tenant_id:
        _check_writable_tenant(actor, changes["tenant"])
    if "slug" in changes and changes["slug"] != dataset.slug:
        raise ValidationError({"slug": "A dataset's slug cannot change; create a new dataset."})
    for field, value in changes.items():
        setattr(dataset, field, value)
    dataset.full_clean()
    _save_with_history(dataset, actor, "updated")
    return dataset


@transaction.atomic
def share_dataset(*, actor, dataset, user, revoke=False):
    """Share one dataset with one user outside its tenant (read access only)."""
    _check_dataset_writable(actor, dataset)
    (remove_perm if revoke else assign_perm)("registry.view_dataset", user, dataset)


def _apply_manifest(manifest, data, actor):
    """Apply manifest fields from ``data``, validate, save, re-hash."""
    unknown = sorted(set(data) - set(MANIFEST_SCALAR_FIELDS) - {"tenant_scope"})
    if unknown:
        raise ValidationError({unknown[0]: "Unknown manifest field."})
    for field in ("intended_uses", "prohibited_uses"):
        if field in data:
            _validate_uses(field, data[field])
    if "expires_at" in data and data["expires_at"] is not None and not isinstance(data["expires_at"], datetime.date):
        raise ValidationError({"expires_at": "Must be a date (YYYY-MM-DD)."})
    if "real_anchor" in data and data["real_anchor"] is not None:
        anchor = data["real_anchor"]
        if anchor.kind not in ("real_anchor", "real_holdout"):
            raise ValidationError({"real_anchor": f"'{anchor.slug}' is not a real anchor dataset."})
    for field, value in data.items():
        if field != "tenant_scope":
            setattr(manifest, field, value)
    overlap = set(manifest.intended_uses) & set(manifest.prohibited_uses)
    if overlap:
        raise ValidationError({"prohibited_uses": f"Use(s) {', '.join(sorted(overlap))} are both intended and prohibited."})
    manifest.full_clean(exclude=["version", "content_hash"])
    scope = data.get("tenant_scope")
    manifest.content_hash = manifest.compute_hash(tenant_scope=scope)
    _save_with_history(manifest, actor, "manifest updated")
    if scope is not None:
        manifest.tenant_scope.set(scope)
    return manifest


@transaction.atomic
def create_version(*, actor, dataset, notes="", manifest=None):
    """Open a new draft version; its manifest starts as a copy of the latest one."""
    dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
    _check_dataset_writable(actor, dataset)
    previous = dataset.versions.order_by("-number").select_related("manifest").first()
    version = DatasetVersion(
        dataset=dataset, number=(previous.number + 1) if previous else 1, notes=notes, created_by=actor
    )
    _save_with_history(version, actor, "created")
    base = {"owner": dataset.owner}
    if previous is not None and hasattr(previous, "manifest"):
        old = previous.manifest
        base = {field: getattr(old, field) for field in MANIFEST_SCALAR_FIELDS}
        base["tenant_scope"] = list(old.tenant_scope.all())
    new_manifest = Manifest(version=version, owner=base.pop("owner"))
    _apply_manifest(new_manifest, {**base, **(manifest or {})}, actor)
    return version


@transaction.atomic
def update_manifest(*, actor, version, data):
    """Change a draft version's manifest. Any other state refuses: make a new version."""
    version = DatasetVersion.objects.select_for_update().get(pk=version.pk)
    _check_dataset_writable(actor, version.dataset)
    if not version.is_mutable:
        raise Conflict(
            f"{version} is {version.get_state_display().lower()}; its manifest is frozen. Create a new version.",
            code="version_immutable",
        )
    return _apply_manifest(version.manifest, data, actor)


@transaction.atomic
def register_generator(*, actor, name, version, provider=""):
    generator = Generator(name=name, version=version, provider=provider)
    generator.full_clean()
    _save_with_history(generator, actor, "registered")
    return generator


@transaction.atomic
def create_prompt_template(*, actor, tenant, name, body):
    """Store a template body as the next version of ``name``; bodies never change."""
    _check_writable_tenant(actor, tenant)
    if not body.strip():
        raise ValidationError({"body": "A prompt template needs a body."})
    latest = (
        PromptTemplate.objects.select_for_update().filter(tenant=tenant, name=name).order_by("-version").first()
    )
    if latest is not None and latest.body == body:
        raise ValidationError({"body": f"Identical to {latest}; nothing to version."})
    template = PromptTemplate(
        tenant=tenant, name=name, body=body, body_sha256=PromptTemplate.hash_body(body),
        version=(latest.version + 1) if latest else 1, created_by=actor,
    )
    template.full_clean()
    _save_with_history(template, actor, "created")
    return template
