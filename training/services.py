"""Training-app actions: model families, evaluation sets, leakage scans,
generator-provenance checks and ratio-capped training mixes.

Views, API, CLI and tasks call these; each checks scope and validates first,
and writes all or nothing.
"""
import numpy as np
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from governance import services as governance
from governance.models import NoticeKind
from governance.selectors import use_denials
from registry.choices import DatasetKind, Origin, Use, VersionState
from registry.errors import Conflict
from registry.models import DatasetVersion, Example
from registry import permissions
from registry.services import save_with_history

from . import leakage, mixing, selectors
from .models import (
    AuditAction, AuditEntry, EvaluationSet, GeneratorProvenanceCheck, JobStatus, LeakagePair, LeakageScan,
    LeakKind, MixBuild, MixComponent, ModelFamily, TrainingMix,
)

EVAL_KINDS = (DatasetKind.REAL_HOLDOUT, DatasetKind.REAL_ANCHOR)
# States in which a version stops being citable for training: its mixes are flagged.
AFFECTING_STATES = (VersionState.RETIRED, VersionState.SUSPENDED)
MAX_LISTED = 20


def _visible_versions(actor, field, version_ids):
    """The versions, resolved in the actor's scope; unknown ones name the field."""
    ids = [getattr(v, "pk", v) for v in version_ids]
    if len(set(ids)) != len(ids):
        raise ValidationError({field: "A version is listed twice."})
    found = {
        v.pk: v
        for v in DatasetVersion.objects.visible_to(actor)
        .select_related("dataset", "manifest")
        .filter(pk__in=ids)
    }
    unknown = [str(pk) for pk in ids if pk not in found]
    if unknown:
        raise ValidationError({field: f"No such version in your scope: {', '.join(unknown)}."})
    return [found[pk] for pk in ids]


# Model families and evaluation sets

@transaction.atomic
def create_model_family(*, actor, tenant, name, description=""):
    permissions.require(actor, "add", ModelFamily, tenant=tenant)
    if ModelFamily.objects.filter(tenant=tenant, name=name).exists():
        raise ValidationError({"name": f"Model family '{name}' already exists in {tenant.slug}."})
    family = ModelFamily(tenant=tenant, name=name, description=description, created_by=actor)
    family.full_clean()
    save_with_history(family, actor, "created")
    return family


def _eval_set_problems(version):
    """Why ``version`` cannot be an evaluation set (empty when it can)."""
    if version.manifest.use_cell == Use.RED_TEAM:
        return []
    problems = []
    if version.dataset.kind not in EVAL_KINDS:
        problems.append(f"its dataset is {version.dataset.get_kind_display().lower()}, not a real holdout or anchor")
    counts = Example.objects.filter(version=version).aggregate(
        total=Count("id"),
        synthetic=Count("id", filter=Q(origin=Origin.SYNTHETIC)),
        unlabeled=Count("id", filter=Q(label="")),
    )
    if not counts["total"]:
        problems.append("it has no examples")
    if counts["synthetic"]:
        problems.append(f"{counts['synthetic']} of its rows are synthetic")
    if counts["unlabeled"]:
        problems.append(f"{counts['unlabeled']} of its rows carry no human label")
    return problems


@transaction.atomic
def designate_evaluation_set(*, actor, family, version):
    """Make ``version`` the evaluation set of ``family`` and flag its rows
    eval_exclusion + never_train_on (a bulk UPDATE, audited here)."""
    family = ModelFamily.objects.select_for_update().get(pk=family.pk)
    permissions.require(actor, "add", EvaluationSet, tenant=family.tenant)
    (version,) = _visible_versions(actor, "version", [version])
    permissions.require(actor, "flag_rows", version, message=f"You may not flag the rows of {version}.")
    problems = _eval_set_problems(version)
    if problems:
        raise ValidationError({"version": f"{version} cannot be an evaluation set: {'; '.join(problems)}."})
    if EvaluationSet.objects.filter(family=family, version=version).exists():
        raise Conflict(f"{version} is already an evaluation set of {family}.", code="already_designated")
    for previous in EvaluationSet.objects.filter(family=family, active=True):
        previous.active = False
        save_with_history(previous, actor, "superseded")
    flagged = Example.objects.filter(version=version).exclude(eval_exclusion=True, never_train_on=True).update(
        eval_exclusion=True, never_train_on=True
    )
    designation = EvaluationSet(
        family=family, version=version, is_real=version.manifest.use_cell != Use.RED_TEAM,
        use_cell=version.manifest.use_cell, rows_flagged=flagged, designated_by=actor,
    )
    save_with_history(designation, actor, "designated")
    AuditEntry.objects.create(
        tenant=family.tenant, actor=actor, action=AuditAction.EVAL_SET_DESIGNATED, version=version,
        rows_affected=flagged, detail={"family": family.name, "evaluation_set": designation.pk},
    )
    return designation


def _check_candidates(evaluation_set, candidates):
    if not candidates:
        raise ValidationError({"candidates": "Name at least one training candidate version."})
    if any(v.pk == evaluation_set.version_id for v in candidates):
        raise ValidationError({"candidates": "The evaluation version cannot be its own training candidate."})


# Leakage scans

def request_leakage_scan(*, actor, evaluation_set, candidates, params=None, enqueue=True):
    """Record a queued scan; the worker (or the CLI, with enqueue=False) runs it."""
    with transaction.atomic():
        permissions.require(actor, "add", LeakageScan, tenant=evaluation_set.family.tenant)
        candidates = _visible_versions(actor, "candidates", candidates)
        _check_candidates(evaluation_set, candidates)
        unknown = sorted(set(params or {}) - set(leakage.DEFAULT_PARAMS))
        if unknown:
            raise ValidationError({"params": f"Unknown parameter(s): {', '.join(unknown)}."})
        scan = LeakageScan.objects.create(
            tenant=evaluation_set.family.tenant, evaluation_set=evaluation_set, created_by=actor,
            params={**leakage.DEFAULT_PARAMS, **(params or {})},
        )
        scan.candidates.set(candidates)
        if enqueue:
            from .tasks import run_leakage_scan_task

            transaction.on_commit(lambda: run_leakage_scan_task.delay(scan.pk))
    return scan


def run_leakage_scan(*, scan_id, progress=None):
    """Run a queued scan. Claims it by compare-and-set (queued -> running), so a
    redelivered task does nothing; pairs are written as they are found."""
    claimed = LeakageScan.objects.filter(pk=scan_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now()
    )
    scan = LeakageScan.objects.select_related("evaluation_set").get(pk=scan_id)
    if not claimed:
        return scan
    eval_version_id = scan.evaluation_set.version_id
    candidate_ids = list(scan.candidates.values_list("pk", flat=True))
    try:
        _find_leaks(scan, eval_version_id, candidate_ids, progress)
    except Exception as error:
        LeakagePair.objects.filter(scan=scan).delete()
        LeakageScan.objects.filter(pk=scan.pk).update(
            status=JobStatus.FAILED, error=f"{type(error).__name__}: {error}", finished_at=timezone.now()
        )
        raise
    scan.refresh_from_db()
    return scan


def _find_leaks(scan, eval_version_id, candidate_ids, progress):
    eval_items = Example.objects.filter(version_id=eval_version_id).count()
    candidate_items = Example.objects.filter(version_id__in=candidate_ids).count()
    LeakageScan.objects.filter(pk=scan.pk).update(eval_items=eval_items, candidate_items=candidate_items)
    with transaction.atomic():
        for kind in leakage.JOINS:
            leakage.insert_joined_pairs(kind, scan.pk, eval_version_id, candidate_ids)
    done = 0

    def advance(rows):
        nonlocal done
        done += rows
        LeakageScan.objects.filter(pk=scan.pk).update(progress=done / max(candidate_items, 1))
        if progress:
            progress(rows)

    for found in leakage.near_pairs(eval_version_id, candidate_ids, scan.params, advance):
        LeakagePair.objects.bulk_create(
            [LeakagePair(scan=scan, kind=LeakKind.NEAR, eval_example_id=e, training_example_id=t, similarity=s)
             for e, t, s in found],
            batch_size=5000,
        )
    pairs = LeakagePair.objects.filter(scan=scan)
    counts = pairs.aggregate(
        exact=Count("id", filter=Q(kind=LeakKind.EXACT)),
        near=Count("id", filter=Q(kind=LeakKind.NEAR)),
        seed=Count("id", filter=Q(kind=LeakKind.SEED)),
        leaked=Count("eval_example", distinct=True),
    )
    LeakageScan.objects.filter(pk=scan.pk).update(
        status=JobStatus.SUCCEEDED, exact_pairs=counts["exact"], near_pairs=counts["near"],
        seed_pairs=counts["seed"], leaked_eval_items=counts["leaked"], progress=1.0, finished_at=timezone.now(),
    )


# Generator-provenance checks

def _family_training_version_ids(family):
    return MixComponent.objects.filter(mix__family=family).values_list("version_id", flat=True)


@transaction.atomic
def check_generator_provenance(*, actor, evaluation_set, candidates=()):
    """No eval item may carry synthetic lineage (unless the eval set is a
    red-team cell), nor share a generator with the family's training data:
    ``candidates`` plus every version the family's mixes used."""
    family = evaluation_set.family
    permissions.require(actor, "add", GeneratorProvenanceCheck, tenant=family.tenant)
    candidates = _visible_versions(actor, "candidates", candidates)
    if any(v.pk == evaluation_set.version_id for v in candidates):
        raise ValidationError({"candidates": "The evaluation version cannot be its own training candidate."})
    training_ids = {v.pk for v in candidates} | set(_family_training_version_ids(family))
    eval_rows = Example.objects.filter(version_id=evaluation_set.version_id)
    synthetic_lineage = Q(origin=Origin.SYNTHETIC) | Q(generator__isnull=False) | Q(seed_example__isnull=False)
    synthetic = eval_rows.filter(synthetic_lineage) if evaluation_set.is_real else eval_rows.none()
    training_generators = Example.objects.filter(
        version_id__in=training_ids, generator__isnull=False
    ).values("generator_id")
    shared = eval_rows.filter(generator_id__in=training_generators)
    findings = [
        {"kind": "synthetic_lineage", "example_id": pk, "ordinal": ordinal, "generator": str(gen or "")}
        for pk, ordinal, gen in synthetic.values_list("pk", "ordinal", "generator__name")[:MAX_LISTED]
    ] + [
        {"kind": "shared_generator", "example_id": pk, "ordinal": ordinal, "generator": f"{name}@{gen_version}"}
        for pk, ordinal, name, gen_version in shared.values_list(
            "pk", "ordinal", "generator__name", "generator__version"
        )[:MAX_LISTED]
    ]
    counts = {"synthetic": synthetic.count(), "shared": shared.count()}
    check = GeneratorProvenanceCheck.objects.create(
        tenant=family.tenant, evaluation_set=evaluation_set, created_by=actor,
        passed=not (counts["synthetic"] or counts["shared"]),
        synthetic_eval_items=counts["synthetic"], shared_generator_items=counts["shared"], findings=findings,
    )
    check.training_versions.set(training_ids)
    check.shared_generators.set(set(shared.values_list("generator_id", flat=True)))
    return check


# Training mixes

def _component_refusals(components, tenant):
    """Version-level refusals: not authorized for training by this tenant
    (governance's every reason), or failed evaluation isolation. Every row of
    such a version would enter, so the refusal names how many."""
    rows = dict(
        Example.objects.filter(version__in=components).values("version").annotate(n=Count("id"))
        .values_list("version", "n")
    )
    refusals = []
    for version in components:
        reasons = [str(d) for d in use_denials(version=version, tenant=tenant, use=Use.TRAINING)]
        reasons += [str(f) for f in selectors.isolation_failures(version)]
        refusals += [f"{version} ({rows.get(version.pk, 0)} rows): {reason}" for reason in reasons]
    return refusals


def _row_refusals(components):
    """The guard's row check: one set-based query over all components."""
    rows, total = selectors.flagged_rows([v.pk for v in components], limit=MAX_LISTED)
    names = {v.pk: str(v) for v in components}
    listed = [
        f"example {row['example_id']} ({names[row['version_id']]} #{row['ordinal']}) is flagged "
        + " and ".join(flag for flag in ("eval_exclusion", "never_train_on") if row[flag])
        for row in rows
    ]
    if total > len(rows):
        listed.append(f"... and {total - len(rows)} more flagged row(s)")
    return listed


def _synthetic_cap(components, pool):
    """The tightest max_synthetic_ratio among components that contribute synthetic rows."""
    synthetic_versions = set(mixing.counts_by_version(pool, pool.synthetic))
    caps = [
        v.manifest.max_synthetic_ratio
        for v in components
        if v.pk in synthetic_versions and v.manifest.max_synthetic_ratio is not None
    ]
    return min(caps) if caps else None


def _mix_manifest(*, tenant, family, name, purpose, seed, actor, components, pool, selection, pool_counts, kept_counts):
    kept = selection.keep
    synthetic_count = int((kept & pool.synthetic).sum())
    total = int(kept.sum())
    return {
        "name": name,
        "tenant": tenant.slug,
        "model_family": family.name,
        "purpose": purpose,
        "built_by": actor.get_username(),
        "seed": seed,
        "components": [
            {
                "dataset": v.dataset.slug, "version": v.number, "version_id": v.pk,
                "manifest_hash": v.manifest.content_hash, "max_synthetic_ratio": v.manifest.max_synthetic_ratio,
                "pool": pool_counts.get(v.pk, 0), "selected": kept_counts.get(v.pk, 0),
            }
            for v in components
        ],
        "max_synthetic_ratio": selection.cap,
        "synthetic_ratio": synthetic_count / total,
        "counts": {
            "total": total, "synthetic": synthetic_count, "real": total - synthetic_count,
            "synthetic_pool": int(pool.synthetic.sum()),
        },
        "labels_before": mixing.label_distribution(pool, np.ones(len(pool), dtype=bool)),
        "labels_after": mixing.label_distribution(pool, kept),
        "selection": {
            "method": "stratified by label, then round-robin over (seed example x length band) clusters",
            "examples_sha256": mixing.selection_sha256(pool.ids[kept]),
        },
    }


def build_training_mix(*, actor, tenant, family, name, components, seed=0, purpose=""):
    """Build a ratio-capped mix from approved versions, or refuse with every
    reason and leave nothing behind."""
    permissions.require(actor, "add", TrainingMix, tenant=tenant)
    if family.tenant_id != tenant.pk:
        raise ValidationError({"family": f"Model family '{family}' belongs to another tenant."})
    if not name:
        raise ValidationError({"name": "A mix needs a name."})
    if TrainingMix.objects.filter(tenant=tenant, name=name).exists():
        raise ValidationError({"name": f"A mix named '{name}' already exists in {tenant.slug}."})
    if not components:
        raise ValidationError({"components": "Name at least one version."})
    components = _visible_versions(actor, "components", components)
    with transaction.atomic():
        # Lock (and re-read) the component versions: none may be retired or
        # suspended between the authorization checks below and the commit.
        locked = DatasetVersion.objects.select_for_update(of=("self",)).select_related("dataset", "manifest")
        locked = locked.in_bulk([v.pk for v in components])
        components = [locked[v.pk] for v in components]
        refusals = _component_refusals(components, tenant) + _row_refusals(components)
        if refusals:
            raise ValidationError({"components": refusals})
        pool = mixing.load_pool([v.pk for v in components])
        cap = _synthetic_cap(components, pool)
        real_count = int((~pool.synthetic).sum())
        if cap is not None and cap < 1 and real_count == 0 and pool.synthetic.any():
            raise ValidationError({
                "components": f"The synthetic cap {cap:g} cannot be met even with zero synthetic rows: "
                "the components hold no real rows to anchor the mix."
            })
        selection = mixing.select_rows(pool, cap=cap, seed=seed)
        if not selection.keep.any():
            raise ValidationError({"components": "The mix would be empty: the components hold no rows."})
        pool_counts = mixing.counts_by_version(pool, np.ones(len(pool), dtype=bool))
        kept_counts = mixing.counts_by_version(pool, selection.keep)
        manifest = _mix_manifest(
            tenant=tenant, family=family, name=name, purpose=purpose, seed=seed, actor=actor, components=components,
            pool=pool, selection=selection, pool_counts=pool_counts, kept_counts=kept_counts,
        )
        mix = _record_mix(
            actor=actor, tenant=tenant, family=family, name=name, purpose=purpose, seed=seed, manifest=manifest,
            components=components, pool_counts=pool_counts, kept_counts=kept_counts,
        )
        mixing.insert_mix_examples(mix.pk, pool.ids[selection.keep])
    return mix


def _record_mix(*, actor, tenant, family, name, purpose, seed, manifest, components, pool_counts, kept_counts):
    counts = manifest["counts"]
    mix = TrainingMix(
        tenant=tenant, family=family, name=name, purpose=purpose, owner=actor, seed=seed,
        max_synthetic_ratio=manifest["max_synthetic_ratio"], synthetic_ratio=manifest["synthetic_ratio"],
        total_count=counts["total"], synthetic_count=counts["synthetic"], real_count=counts["real"],
        synthetic_pool_count=counts["synthetic_pool"], labels_before=manifest["labels_before"],
        labels_after=manifest["labels_after"], manifest=manifest, content_hash=mixing.canonical_hash(manifest),
    )
    mix.full_clean(exclude=["family", "tenant", "owner"])
    save_with_history(mix, actor, "built")
    MixComponent.objects.bulk_create([
        MixComponent(
            mix=mix, version=v, manifest_hash=v.manifest.content_hash,
            max_synthetic_ratio=v.manifest.max_synthetic_ratio,
            pool_count=pool_counts.get(v.pk, 0), selected_count=kept_counts.get(v.pk, 0),
        )
        for v in components
    ])
    # The selected examples are COPYed, which writes no history: this row is their audit record.
    AuditEntry.objects.create(
        tenant=tenant, actor=actor, action=AuditAction.MIX_BUILT, mix=mix, rows_affected=counts["total"],
        detail={"content_hash": mix.content_hash, "components": [v.pk for v in components]},
    )
    return mix


def request_mix_build(*, actor, tenant, params):
    """Queue a mix build for the worker; the build's row shows its status."""
    permissions.require(actor, "add", MixBuild, tenant=tenant)
    with transaction.atomic():
        build = MixBuild.objects.create(tenant=tenant, requested_by=actor, params=params)
        from .tasks import build_mix_task

        transaction.on_commit(lambda: build_mix_task.delay(build.pk))
    return build


def run_mix_build(*, build_id):
    """Claim a queued build (compare-and-set) and run it; a refusal is stored
    on the build, and no mix row exists."""
    if not MixBuild.objects.filter(pk=build_id, status=JobStatus.QUEUED).update(status=JobStatus.RUNNING):
        return MixBuild.objects.get(pk=build_id)
    build = MixBuild.objects.select_related("tenant", "requested_by").get(pk=build_id)
    params = build.params
    try:
        family = ModelFamily.objects.get(pk=params["family"])
        mix = build_training_mix(
            actor=build.requested_by, tenant=build.tenant, family=family, name=params["name"],
            components=params["components"], seed=params.get("seed", 0), purpose=params.get("purpose", ""),
        )
    except Exception as error:
        detail = error.message_dict if isinstance(error, ValidationError) and hasattr(error, "error_dict") else {
            "non_field_errors": [f"{type(error).__name__}: {error}"]
        }
        MixBuild.objects.filter(pk=build_id).update(status=JobStatus.FAILED, error=detail, finished_at=timezone.now())
        if not isinstance(error, (ValidationError, PermissionDenied, Conflict, ModelFamily.DoesNotExist)):
            raise
    else:
        MixBuild.objects.filter(pk=build_id).update(status=JobStatus.SUCCEEDED, mix=mix, finished_at=timezone.now())
    return MixBuild.objects.get(pk=build_id)


def mark_mixes_affected(*, version, new_state, actor=None, reason=""):
    """Flag every mix built from ``version`` now that it is retired or suspended;
    runs inside the transition's transaction (bulk UPDATE, audited here)."""
    if new_state not in AFFECTING_STATES:
        return 0
    mixes = list(
        TrainingMix.objects.filter(components__version=version).select_related("owner", "tenant").distinct()
    )
    if not mixes:
        return 0
    message = f"{version} was {new_state}" + (f": {reason}" if reason else "") + "."
    TrainingMix.objects.filter(pk__in=[m.pk for m in mixes]).update(affected=True, affected_reason=message)
    for mix in mixes:
        AuditEntry.objects.create(
            tenant=mix.tenant, actor=actor, action=AuditAction.MIXES_AFFECTED, version=version, mix=mix,
            rows_affected=1, detail={"state": new_state, "reason": reason},
        )
        _notify_owner(mix, message, new_state)
    return len(mixes)


def _notify_owner(mix, message, new_state):
    """An in-app notice (commits with the transition) and an e-mail after commit."""
    governance.notify(
        users=[mix.owner], kind=NoticeKind(new_state), version=None,
        message=f"Training mix {mix.name} ({mix.tenant.slug}) cites a version that changed state: {message}",
        email_subject=f"[Careful Registry] training mix {mix.name} is affected",
    )
