"""CAREFUL evidence held in the catalog itself: the manifest, its anchor, the
version's state. Each check reads the version as compute_scorecard fetched it
(manifest, dataset, anchor, owner and tenant scope already loaded), so most
cost no query; A.real_anchor and E.not_synthetic_eval cost one each."""
from django.urls import reverse
from django.utils import timezone

from registry.choices import REAL_KINDS, DatasetKind, Use, VersionState
from registry.models import DatasetVersion, VersionLineage

from .checks import CheckResult, Status, careful_check, missing

ANCHOR_KINDS = (DatasetKind.REAL_ANCHOR, DatasetKind.REAL_HOLDOUT)
PURPOSE_LABELS = {
    "purpose_gap": "the gap",
    "purpose_why_not_real": "why real data won't suffice",
    "purpose_success_criterion": "the success criterion",
}


def _version_url(version):
    return reverse("version-page", args=[version.dataset.slug, version.number])


def _result(status, verdict, version, **kwargs):
    return CheckResult(status, verdict, evidence_url=kwargs.pop("evidence_url", _version_url(version)), **kwargs)


@careful_check("C", "C.purpose_worksheet", "Purpose worksheet complete")
def purpose_worksheet(version, use, params):
    """The gap, why real data won't suffice, and a success criterion measured on real held-aside data."""
    manifest = version.manifest
    blank = [label for field, label in PURPOSE_LABELS.items() if not getattr(manifest, field).strip()]
    filled = len(PURPOSE_LABELS) - len(blank)
    if blank:
        return _result(Status.FAIL, f"The purpose worksheet lacks {', '.join(blank)}.", version,
                       value=filled, threshold=len(PURPOSE_LABELS))
    return _result(Status.PASS, "Gap, why not real, and success criterion on real held-aside data stated.", version,
                   value=filled, threshold=len(PURPOSE_LABELS))


@careful_check("A", "A.real_anchor", "A real anchor, flagged never-train-on and eval-exclusion")
def real_anchor(version, use, params):
    """The manifest names a real anchor / holdout dataset whose latest version's
    manifest is flagged never_train_on and eval_exclusion (one query)."""
    anchor = version.manifest.real_anchor
    if anchor is None:
        return missing("No real anchor registered in the manifest.", evidence_url=_version_url(version), value=None)
    url = reverse("dataset-page", args=[anchor.slug])
    if anchor.kind not in ANCHOR_KINDS:
        return CheckResult(Status.FAIL, f"{anchor.slug} is a {anchor.get_kind_display().lower()} dataset, not a real anchor.",
                           value=anchor.kind, threshold="real_anchor or real_holdout", evidence_url=url)
    latest = (DatasetVersion.objects.filter(dataset=anchor).select_related("manifest")
              .order_by("-number").first())
    if latest is None:
        return CheckResult(Status.FAIL, f"The anchor {anchor.slug} holds no version.", value=None, evidence_url=url)
    flags = [flag for flag in ("never_train_on", "eval_exclusion") if getattr(latest.manifest, flag)]
    unset = sorted({"never_train_on", "eval_exclusion"} - set(flags))
    evidence = {"anchor": anchor.slug, "anchor_version": latest.number, "flags": flags}
    if unset:
        return CheckResult(Status.FAIL, f"Anchor {anchor.slug} v{latest.number} is not flagged {' or '.join(unset)}.",
                           value=flags, threshold=["eval_exclusion", "never_train_on"], evidence_url=url,
                           evidence=evidence)
    return CheckResult(Status.PASS, f"Real anchor {anchor.slug} v{latest.number}, never-train-on and eval-exclusion.",
                       value=flags, threshold=["eval_exclusion", "never_train_on"], evidence_url=url, evidence=evidence)


@careful_check("A", "A.ratio_cap_set", "A max synthetic ratio within the cell's cap")
def ratio_cap_set(version, use, params):
    """The manifest sets max_synthetic_ratio, at most the cell's cap
    (params["max_ratio"], else the policy's max_synthetic_ratio)."""
    ratio = version.manifest.max_synthetic_ratio
    cap = params.get("max_ratio", params.get("cell", {}).get("max_synthetic_ratio"))
    if ratio is None and version.dataset.kind in REAL_KINDS:
        return _result(Status.PASS, "Real data: no synthetic share to cap.", version, threshold=cap)
    if ratio is None:
        return _result(Status.FAIL, f"No max synthetic ratio set (this cell suggests {cap}).", version, threshold=cap)
    if cap is not None and ratio > cap:
        return _result(Status.FAIL, f"Max synthetic ratio {ratio:g} exceeds this cell's cap of {cap:g}.", version,
                       value=ratio, threshold=cap)
    return _result(Status.PASS, f"Max synthetic ratio {ratio:g}" + (f" (cap {cap:g})." if cap is not None else "."),
                   version, value=ratio, threshold=cap)


@careful_check("R", "R.manifest_hashed", "The manifest's stored hash matches its content")
def manifest_hashed(version, use, params):
    manifest = version.manifest
    recomputed = manifest.compute_hash()
    if not manifest.content_hash:
        return _result(Status.FAIL, "The manifest was never hashed.", version, value=None, threshold=recomputed[:12])
    if manifest.content_hash != recomputed:
        return _result(Status.FAIL, "The stored manifest hash does not match its content.", version,
                       value=manifest.content_hash[:12], threshold=recomputed[:12])
    return _result(Status.PASS, f"Manifest hashed: {recomputed[:12]}…", version, value=recomputed[:12],
                   threshold=recomputed[:12], evidence={"content_hash": recomputed})


@careful_check("U", "U.uses_declared", "Intended and prohibited uses declared")
def uses_declared(version, use, params):
    """Intended uses declared and include ``use``; ``use`` not prohibited; no
    prohibited use declared at all warns."""
    manifest = version.manifest
    intended, prohibited = manifest.intended_uses, manifest.prohibited_uses
    value = {"intended": intended, "prohibited": prohibited}
    if not intended:
        return _result(Status.FAIL, "No intended use declared.", version, value=value, threshold=use,
                       decided_by="use_not_intended")
    if use in prohibited:
        return _result(Status.FAIL, f"The manifest prohibits use for {use}.", version, value=value, threshold=use,
                       decided_by="use_prohibited")
    if use not in intended:
        return _result(Status.FAIL, f"{use} is not an intended use ({', '.join(intended)}).", version,
                       value=value, threshold=use, decided_by="use_not_intended")
    if not prohibited:
        return _result(Status.WARN, f"Intended for {', '.join(intended)}; no prohibited use declared.", version,
                       value=value, threshold=use)
    return _result(Status.PASS, f"Intended: {', '.join(intended)}; prohibited: {', '.join(prohibited)}.", version,
                   value=value, threshold=use)


@careful_check("U", "U.tenant_scope_set", "Tenant scope set")
def tenant_scope_set(version, use, params):
    scope = sorted(tenant.slug for tenant in version.manifest.tenant_scope.all())
    if not scope:
        return _result(Status.FAIL, "No tenant scope set in the manifest.", version, value=[], threshold="≥ 1 tenant")
    return _result(Status.PASS, f"Scoped to {', '.join(scope)}.", version, value=scope, threshold="≥ 1 tenant")


BLOCKED_STATES = (VersionState.EXPIRED, VersionState.SUSPENDED, VersionState.RETIRED)


@careful_check("U", "U.lifecycle_state", "Not expired, suspended or retired")
def lifecycle_state(version, use, params):
    """Drafts and versions in review pass (approval decides use); a version a
    monitor flagged for review warns."""
    state = version.get_state_display().lower()
    if version.state in BLOCKED_STATES:
        reason = f": {version.retired_reason}" if version.retired_reason else ""
        return _result(Status.FAIL, f"The version is {state}{reason}.", version, value=version.state,
                       threshold="not expired, suspended or retired", decided_by=version.state)
    if version.needs_review:
        return _result(Status.WARN, f"The version is {state} but a monitor flagged it for review.", version,
                       value=version.state, threshold="no open review flag")
    return _result(Status.PASS, f"The version is {state}.", version, value=version.state,
                   threshold="not expired, suspended or retired")


@careful_check("L", "L.expiry_set", "Expiry date set within the cell's horizon")
def expiry_set(version, use, params):
    """expires_at is set, in the future, and (params["max_days"]) not beyond the cell's horizon."""
    expires_at = version.manifest.expires_at
    horizon = params.get("max_days")
    today = timezone.localdate()
    if expires_at is None:
        return _result(Status.FAIL, "No expiry date set.", version, threshold=horizon)
    days = (expires_at - today).days
    if days < 0:
        return _result(Status.FAIL, f"Expired on {expires_at.isoformat()}.", version, value=days, threshold=horizon,
                       decided_by="expiry_passed")
    if horizon is not None and days > horizon:
        return _result(Status.WARN, f"Expires {expires_at.isoformat()}, {days} days away: beyond this cell's "
                       f"{horizon}-day horizon.", version, value=days, threshold=horizon)
    return _result(Status.PASS, f"Expires {expires_at.isoformat()} (in {days} days).", version, value=days,
                   threshold=horizon)


@careful_check("E", "E.not_synthetic_eval", "Synthetic data is not used to evaluate (red-team excepted)")
def not_synthetic_eval(version, use, params):
    """Reads the dataset's kind and the version's stored lineage counts (one query)."""
    synthetic_rows = (VersionLineage.objects.filter(version=version).values_list("synthetic", flat=True).first()) or 0
    synthetic = version.dataset.kind == DatasetKind.SYNTHETIC or synthetic_rows > 0
    url = reverse("lineage-page", args=[version.dataset.slug, version.number])
    if synthetic and use != Use.RED_TEAM:
        what = f"{synthetic_rows:,} synthetic rows" if synthetic_rows else "a synthetic dataset"
        return CheckResult(Status.FAIL, f"Evaluating on {what}: only red-team may evaluate on synthetic data.",
                           value=synthetic_rows, threshold=0, evidence_url=url)
    kind = version.dataset.get_kind_display().lower()
    verdict = "Red-team use: synthetic data allowed." if synthetic else f"A {kind} dataset, no synthetic rows."
    return CheckResult(Status.PASS, verdict, value=synthetic_rows, threshold=0, evidence_url=url)
