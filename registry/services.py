"""Catalog write actions. Views, API, admin, CLI and tasks all call these, so
every entry point gets the same scope checks, validation and history."""
import datetime
import hashlib
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from . import audit, permissions
from .choices import RegistryRole, Role, Use
from .errors import Conflict
from .models import (
    Dataset, DatasetVersion, Generator, IngestionFormat, IngestionJob, IngestionStatus, Manifest, Membership,
    PromptTemplate, RegistryMembership, Tenant,
)

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


def save_with_history(obj, actor, reason=None):
    """Save and attribute the history row to ``actor`` (no request in CLI/tasks)."""
    obj._history_user = actor
    if reason:
        obj._change_reason = reason
    obj.save()


def _validate_uses(field, uses):
    if not isinstance(uses, list) or not all(isinstance(u, str) for u in uses):
        raise ValidationError({field: "Must be a list of use names."})
    unknown = sorted(set(uses) - set(Use.values))
    if unknown:
        raise ValidationError({field: f"Unknown use(s) {', '.join(unknown)}; choose from {', '.join(Use.values)}."})


def require_member(user, tenant, field):
    """ValidationError on ``field`` unless ``user`` holds a role in ``tenant``: owners
    and notice recipients of a tenant's data are its own people."""
    if user is not None and not Membership.objects.filter(user=user, tenant=tenant).exists():
        raise ValidationError({field: f"{user.get_username()} is not a member of tenant '{tenant.slug}'."})


# -- Tenants and roles --------------------------------------------------------

@transaction.atomic
def create_tenant(*, actor, slug, name, first_admin=None):
    """A new tenant (registry admins), optionally seating its first tenant admin."""
    permissions.require(actor, "add", Tenant)
    if Tenant.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": f"A tenant with slug '{slug}' already exists."})
    tenant = Tenant(slug=slug, name=name)
    tenant.full_clean()
    save_with_history(tenant, actor, "created")
    audit.record(actor=actor, action="tenant.created", obj=tenant)
    if first_admin is not None:
        grant_role(actor=actor, tenant=tenant, user=first_admin, role=Role.TENANT_ADMIN)
    return tenant


@transaction.atomic
def grant_role(*, actor, tenant, user, role, reason=""):
    """Give ``user`` a role in ``tenant`` (its tenant admins, or registry admins)."""
    permissions.require(actor, "grant_role", Membership, tenant=tenant,
                        message=f"Only tenant admins of {tenant.slug} may grant its roles.")
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}; choose from {', '.join(Role.values)}."})
    if not user.is_active:
        raise ValidationError({"user": f"{user.get_username()} is not an active user."})
    if Membership.objects.filter(user=user, tenant=tenant, role=role).exists():
        raise ValidationError({"role": f"{user.get_username()} is already {Role(role).label.lower()} of {tenant.slug}."})
    membership = Membership(user=user, tenant=tenant, role=role)
    save_with_history(membership, actor, reason or "granted")
    audit.record(actor=actor, action="membership.granted", obj=membership, tenant=tenant,
                 detail=f"{user.get_username()} as {role}" + (f": {reason}" if reason else ""))
    return membership


@transaction.atomic
def revoke_role(*, actor, membership, reason=""):
    membership = Membership.objects.select_for_update().select_related("user", "tenant").get(pk=membership.pk)
    tenant = membership.tenant
    permissions.require(actor, "revoke_role", membership,
                        message=f"Only tenant admins of {tenant.slug} may revoke its roles.")
    if membership.role == Role.TENANT_ADMIN and not Membership.objects.filter(
            tenant=tenant, role=Role.TENANT_ADMIN).exclude(pk=membership.pk).exists():
        raise Conflict(f"{membership.user} is the last tenant admin of {tenant.slug}; grant another first.",
                       code="last_tenant_admin")
    membership._history_user = actor
    membership._change_reason = reason or "revoked"
    label = str(membership)
    membership.delete()
    audit.record(actor=actor, action="membership.revoked", tenant=tenant, label=label,
                 detail=f"{membership.user.get_username()} as {membership.role}" + (f": {reason}" if reason else ""))


@transaction.atomic
def grant_registry_role(*, actor, user, role):
    """Registry-wide roles are granted by superusers only."""
    if not (actor.is_active and actor.is_superuser):
        raise PermissionDenied("Only superusers grant registry-wide roles.")
    if role not in RegistryRole.values:
        raise ValidationError({"role": f"Unknown role {role!r}; choose from {', '.join(RegistryRole.values)}."})
    grant, created = RegistryMembership.objects.get_or_create(user=user, role=role)
    if created:
        audit.record(actor=actor, action="registry_role.granted", obj=grant, detail=f"{user.get_username()} as {role}")
    return grant


# -- Datasets -----------------------------------------------------------------

# Identity fields: a dataset's slug and kind never change (the A letter trusts
# the kind "real anchor"): a different identity is a new dataset.
IMMUTABLE_DATASET_FIELDS = ("slug", "kind")


@transaction.atomic
def create_dataset(*, actor, tenant, slug, name, kind, modality="text", description="", owner=None):
    permissions.require(actor, "add", Dataset, tenant=tenant)
    if Dataset.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": f"A dataset with slug '{slug}' already exists."})
    owner = owner or actor
    require_member(owner, tenant, "owner")
    dataset = Dataset(
        tenant=tenant, slug=slug, name=name, kind=kind, modality=modality, description=description, owner=owner,
    )
    dataset.full_clean()
    save_with_history(dataset, actor, "created")
    return dataset


@transaction.atomic
def update_dataset(*, actor, dataset, **changes):
    dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
    permissions.require(actor, "change", dataset)
    for field in IMMUTABLE_DATASET_FIELDS:
        if field in changes and changes[field] != getattr(dataset, field):
            raise ValidationError({field: f"A dataset's {field} cannot change; create a new dataset."})
    if "tenant" in changes and changes["tenant"].pk != dataset.tenant_id:
        permissions.require(actor, "add", Dataset, tenant=changes["tenant"])
    for field, value in changes.items():
        setattr(dataset, field, value)
    require_member(dataset.owner, dataset.tenant, "owner")
    dataset.full_clean()
    save_with_history(dataset, actor, "updated")
    return dataset


@transaction.atomic
def share_dataset(*, actor, dataset, user, revoke=False):
    """Share one dataset with one user outside its tenant (read access only)."""
    permissions.require(actor, "share", dataset)
    (remove_perm if revoke else assign_perm)("registry.view_dataset", user, dataset)
    audit.record(actor=actor, action="dataset.unshared" if revoke else "dataset.shared", obj=dataset,
                 detail=f"read access {'revoked from' if revoke else 'given to'} {user.get_username()}")


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
    if data.get("owner") is not None:
        require_member(data["owner"], manifest.version.dataset.tenant, "owner")
    for field, value in data.items():
        if field != "tenant_scope":
            setattr(manifest, field, value)
    overlap = set(manifest.intended_uses) & set(manifest.prohibited_uses)
    if overlap:
        raise ValidationError({"prohibited_uses": f"Use(s) {', '.join(sorted(overlap))} are both intended and prohibited."})
    manifest.full_clean(exclude=["version", "content_hash"])
    scope = data.get("tenant_scope")
    manifest.content_hash = manifest.compute_hash(tenant_scope=scope)
    save_with_history(manifest, actor, "manifest updated")
    if scope is not None:
        manifest.tenant_scope.set(scope)
    return manifest


@transaction.atomic
def create_version(*, actor, dataset, notes="", manifest=None):
    """Open a new draft version; its manifest starts as a copy of the latest one."""
    dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
    permissions.require(actor, "add", DatasetVersion, tenant=dataset.tenant,
                        message=f"You may not add versions to {dataset}.")
    previous = dataset.versions.order_by("-number").select_related("manifest").first()
    version = DatasetVersion(
        dataset=dataset, number=(previous.number + 1) if previous else 1, notes=notes, created_by=actor
    )
    save_with_history(version, actor, "created")
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
    permissions.require(actor, "change", version)
    if not version.is_mutable:
        raise Conflict(
            f"{version} is {version.get_state_display().lower()}; its manifest is frozen. Create a new version.",
            code="version_immutable",
        )
    return _apply_manifest(version.manifest, data, actor)


@transaction.atomic
def register_generator(*, actor, name, version, provider=""):
    """Add a name@version to the shared generator vocabulary (contributors of any
    tenant, or the vocabulary steward)."""
    permissions.require(actor, "add", Generator, message="Only contributors and vocabulary stewards register generators.")
    generator = Generator(name=name, version=version, provider=provider)
    generator.full_clean()
    save_with_history(generator, actor, "registered")
    audit.record(actor=actor, action="generator.registered", obj=generator)
    return generator


@transaction.atomic
def update_generator(*, actor, generator, provider):
    """Every tenant's lineage points at a generator, so its name and version never
    change; its provider does, by the registry's vocabulary steward."""
    permissions.require(actor, "change", Generator, message="Only the vocabulary steward changes shared generators.")
    generator = Generator.objects.select_for_update().get(pk=generator.pk)
    old = generator.provider
    generator.provider = provider
    generator.full_clean()
    save_with_history(generator, actor, "provider changed")
    audit.record(actor=actor, action="generator.changed", obj=generator, detail=f"provider {old!r} -> {provider!r}")
    return generator


@transaction.atomic
def create_prompt_template(*, actor, tenant, name, body):
    """Store a template body as the next version of ``name``; bodies never change."""
    permissions.require(actor, "add", PromptTemplate, tenant=tenant)
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
    save_with_history(template, actor, "created")
    return template


# -- Lineage: bulk registration of examples ----------------------------------

INGESTION_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def _check_accepts_examples(actor, version):
    permissions.require(actor, "ingest", version, message=f"You may not add examples to {version}.")
    if not version.is_mutable:
        raise Conflict(
            f"{version} is {version.get_state_display().lower()}; only drafts accept examples. Create a new version.",
            code="version_immutable",
        )


def _ingestion_format(file_name, format):
    if format:
        if format not in IngestionFormat.values:
            raise ValidationError({"format": f"Unknown format {format!r}; choose from {', '.join(IngestionFormat.values)}."})
        return format
    suffix = Path(file_name).suffix.lower()
    if suffix not in INGESTION_SUFFIXES:
        raise ValidationError({"file": "Name the format: the file name should end in .jsonl, .csv or .parquet."})
    return INGESTION_SUFFIXES[suffix]


def _store_upload(chunks, format):
    """Write the upload under MEDIA_ROOT/ingestion with a generated name (the
    client's name is never a path), hashing it on the way; refuse it past
    MAX_UPLOAD_BYTES. Returns (path relative to MEDIA_ROOT, sha256, size)."""
    relative = Path("ingestion") / f"{uuid.uuid4().hex}.{format}"
    target = Path(settings.MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with open(target, "xb") as out:
        for chunk in chunks:
            size += len(chunk)
            if size > settings.MAX_UPLOAD_BYTES:
                out.close()
                target.unlink()
                raise ValidationError({"file": f"Larger than the {settings.MAX_UPLOAD_BYTES:,}-byte upload limit."})
            digest.update(chunk)
            out.write(chunk)
    return str(relative), digest.hexdigest(), size


def _file_digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@transaction.atomic
def upload_examples(*, actor, version, chunks, file_name, format=None):
    """Store an uploaded file and queue its ingestion; returns the queued job.
    The task starts after commit, so it always finds the job."""
    from . import tasks

    _check_accepts_examples(actor, version)
    format = _ingestion_format(file_name, format)
    stored, sha256, size = _store_upload(chunks, format)
    job = IngestionJob(
        version=version, created_by=actor, source="api", file_name=Path(file_name).name[:255], stored_path=stored,
        file_sha256=sha256, file_size=size, format=format,
    )
    save_with_history(job, actor, "uploaded")
    transaction.on_commit(lambda: tasks.ingest_examples_task.delay(job.pk))
    return job


@transaction.atomic
def register_examples_file(*, actor, version, path, format=None, source="cli"):
    """Queue the ingestion of a file already on this machine (CLI, demo): it
    is read in place, not copied. Run it with ``run_ingestion``."""
    _check_accepts_examples(actor, version)
    path = Path(path).resolve()
    if not path.is_file():
        raise ValidationError({"file": f"No such file: {path}"})
    job = IngestionJob(
        version=version, created_by=actor, source=source, file_name=path.name[:255], stored_path=str(path),
        file_sha256=_file_digest(path), file_size=path.stat().st_size, format=_ingestion_format(path.name, format),
    )
    save_with_history(job, actor, "registered")
    return job


def _storable(value):
    """The error list with NUL characters replaced: PostgreSQL's jsonb cannot hold
    them, and a binary file's "column names" (echoed in its errors) have them."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [_storable(item) for item in value]
    if isinstance(value, dict):
        return {key: _storable(item) for key, item in value.items()}
    return value


@transaction.atomic
def _fail_job(job, errors, total):
    if not IngestionJob.objects.select_for_update().filter(pk=job.pk, status=IngestionStatus.RUNNING).exists():
        return  # a redelivered run must not overwrite the outcome of the one that finished
    job.status = IngestionStatus.FAILED
    job.errors = _storable(errors)
    job.error_count = total
    job.finished_at = timezone.now()
    save_with_history(job, job.created_by, "failed")
    audit.record(actor=job.created_by, action="ingestion.failed", obj=job, tenant=job.version.dataset.tenant,
                 detail=f"{job.file_name}: {total} error(s)", data={"file_sha256": job.file_sha256})


def run_ingestion(*, job_id, listener=None):
    """Claim the job (queued, or running after a worker died: its transaction
    rolled back, so nothing of it is stored) and run it. Data errors end as a
    failed job with its error list, never as an exception."""
    from .ingestion import engine
    from .ingestion.readers import Unreadable, count_rows

    claimed = IngestionJob.objects.filter(
        pk=job_id, status__in=[IngestionStatus.QUEUED, IngestionStatus.RUNNING]
    ).update(status=IngestionStatus.RUNNING, started_at=timezone.now(), rows_processed=0)
    job = IngestionJob.objects.select_related("version", "created_by").get(pk=job_id)
    if not claimed:
        return job
    job.rows_total = count_rows(job.path, job.format) if job.path.is_file() else None
    IngestionJob.objects.filter(pk=job_id).update(rows_total=job.rows_total)
    try:
        if not job.path.is_file():
            raise Unreadable(0, "file", "the stored file is gone")
        if not permissions.can(job.created_by, "ingest", job.version):
            raise PermissionDenied(f"{job.created_by} may no longer add examples to {job.version}.")
        engine.ingest(job, listener=listener)
    except engine.Refused as refused:
        _fail_job(job, refused.errors, refused.total)
    except Unreadable as error:
        _fail_job(job, [{"row": error.row, "field": error.field, "message": error.message}], 1)
    except (Conflict, PermissionDenied) as error:
        if getattr(error, "code", None) == "job_finished":
            job.refresh_from_db()
            return job
        _fail_job(job, [{"row": None, "field": "version", "message": getattr(error, "message", str(error))}], 1)
    except Exception as error:
        _fail_job(job, [{"row": None, "field": "file", "message": f"internal error: {type(error).__name__}"}], 1)
        raise
    return job
