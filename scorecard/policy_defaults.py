"""The shipped scorecard policy: for every cell (use × harm × verifier), the
required checks and their thresholds. Loaded by migration 0002 and used as the
fallback when a cell's row is missing. docs/scorecard.md tabulates it.

The risk lens (the book's "what damage could it do if we are wrong?") tightens
thresholds as harm rises and loosens them when a cheap verifier catches errors:
low harm with a verifier may lean hard on synthetic data; high harm without a
verifier gets the strictest thresholds and the lowest ratio cap. In every
cell, a required check with missing evidence blocks like a failure.
"""
from registry.choices import Harm, Use

C_ALL = ["C.purpose_worksheet", "C.legal_signoff"]
U_ALL = ["U.uses_declared", "U.tenant_scope_set", "U.signoffs_complete", "U.lifecycle_state"]
R_ALL = ["R.lineage_complete", "R.templates_versioned", "R.manifest_hashed"]
F_ALL = ["F.cascade_ran", "F.reject_set_retained", "F.judges_resolved", "F.label_accuracy"]
L_ALL = ["L.expiry_set", "L.monitors_configured", "L.monitors_healthy"]

# Which checks each use cell requires, before the risk lens.
REQUIRED = {
    Use.TRAINING: [*C_ALL, "A.real_anchor", "A.ratio_cap_set", "A.fidelity", *R_ALL,
                   "E.eval_set_real", "E.leakage_clean", "E.generator_provenance", *F_ALL, *U_ALL, *L_ALL],
    # Synthetic data used to evaluate fails E outright (E.not_synthetic_eval).
    Use.EVALUATION: [*C_ALL, "A.real_anchor", "A.fidelity", *R_ALL,
                     "E.not_synthetic_eval", "E.leakage_clean", "E.generator_provenance", *F_ALL, *U_ALL, *L_ALL],
    # Red-team sets are synthetic by design: eval on them is allowed, leakage still matters.
    Use.RED_TEAM: [*C_ALL, *R_ALL, "E.leakage_clean", "F.cascade_ran", "F.reject_set_retained", *U_ALL,
                   "L.expiry_set"],
    # A demo needs only a clear purpose and its use limits.
    Use.DEMO: ["C.purpose_worksheet", "U.uses_declared", "U.tenant_scope_set", "U.lifecycle_state"],
    Use.PRIVACY: [*C_ALL, "A.real_anchor", "A.fidelity", *R_ALL, "F.cascade_ran", "F.reject_set_retained", *U_ALL,
                  "L.expiry_set"],
    Use.SOFTWARE_TESTING: ["C.purpose_worksheet", "R.manifest_hashed", "R.templates_versioned", *U_ALL, "L.expiry_set"],
}

# Max synthetic ratio by (harm, cheap verifier).
RATIO_CAP = {
    (Harm.LOW, True): 0.9, (Harm.LOW, False): 0.7,
    (Harm.MEDIUM, True): 0.7, (Harm.MEDIUM, False): 0.5,
    (Harm.HIGH, True): 0.4, (Harm.HIGH, False): 0.2,
}
EXPIRY_HORIZON_DAYS = {Harm.LOW: 730, Harm.MEDIUM: 365, Harm.HIGH: 180}
MAX_REALISM_AUC = {Harm.LOW: 0.7, Harm.MEDIUM: 0.6, Harm.HIGH: 0.55}
# A.fidelity on tables (docs/gates.md, "Thresholds"): each column's shape score (KS / TV
# complement) and the column pair trends as a share of the anchor's real-vs-real baseline
# (independently sampled columns keep 68–78% of it, a faithful copula 99–103%).
MIN_COLUMN_SHAPE = {Harm.LOW: 0.75, Harm.MEDIUM: 0.8, Harm.HIGH: 0.85}
MIN_PAIR_TRENDS_RATIO = {Harm.LOW: 0.85, Harm.MEDIUM: 0.9, Harm.HIGH: 0.95}
# Near copies of real rows beyond the real rows' own share; privacy-preserving sharing allows none.
MAX_COPY_SHARE = {Harm.LOW: 0.05, Harm.MEDIUM: 0.02, Harm.HIGH: 0.01}
MIN_LABEL_ACCURACY = {Harm.LOW: 0.9, Harm.MEDIUM: 0.95, Harm.HIGH: 0.98}


def fidelity_params(use_cell, harm):
    """A.fidelity's thresholds for one cell."""
    return {"max_auc": MAX_REALISM_AUC[harm], "min_column_shape": MIN_COLUMN_SHAPE[harm],
            "min_pair_trends_ratio": MIN_PAIR_TRENDS_RATIO[harm],
            "max_copy_share": 0.0 if use_cell == Use.PRIVACY else MAX_COPY_SHARE[harm]}


def cell_params(use_cell, harm, cheap_verifier):
    """The thresholds the risk lens sets for each parameterised check."""
    return {
        "A.fidelity": fidelity_params(use_cell, harm),
        "F.label_accuracy": {"min_accuracy": MIN_LABEL_ACCURACY[harm]},
        "L.expiry_set": {"max_days": EXPIRY_HORIZON_DAYS[harm]},
        "R.lineage_complete": {"min_share": 0.99 if (harm == Harm.LOW and cheap_verifier) else 1.0},
    }


def default_policy(use_cell, harm, cheap_verifier):
    """(checks, max_synthetic_ratio, notes) for one cell."""
    required = list(REQUIRED[use_cell])
    if harm == Harm.LOW and cheap_verifier and "F.judges_resolved" in required:
        # The verifier replaces judge arbitration.
        required.remove("F.judges_resolved")
    params = cell_params(use_cell, harm, cheap_verifier)
    checks = {code: params.get(code, {}) for code in required}
    strict = harm == Harm.HIGH and not cheap_verifier
    notes = "Strictest cell: the tightest thresholds and ratio cap." if strict else ""
    return checks, RATIO_CAP[(harm, cheap_verifier)], notes


def default_policies():
    """Every cell's default, as ScorecardPolicy field dicts."""
    for use_cell in Use.values:
        for harm in Harm.values:
            for cheap_verifier in (False, True):
                checks, ratio, notes = default_policy(use_cell, harm, cheap_verifier)
                yield {"use_cell": use_cell, "harm": harm, "cheap_verifier": cheap_verifier, "checks": checks,
                       "max_synthetic_ratio": ratio, "notes": notes}


def install_defaults(policy_model, *, overwrite=True):
    """Write every cell's default into ``policy_model`` (the migration passes its
    historical model). ``overwrite=False`` only fills the cells that are absent."""
    for fields in default_policies():
        cell = {key: fields.pop(key) for key in ("use_cell", "harm", "cheap_verifier")}
        if overwrite:
            policy_model.objects.update_or_create(**cell, defaults=fields)
        else:
            policy_model.objects.get_or_create(**cell, defaults=fields)
