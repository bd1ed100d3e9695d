"""Realism as a classifier two-sample test (Lopez-Paz & Oquab 2017; SDMetrics'
LogisticDetection): if a logistic regression cannot tell real rows from
synthetic ones out of fold, the pool is indistinguishable from its anchor.

The AUC is reported as measured, beside a null band from label-shuffled runs:
an AUC well below the band means the classifier is systematically wrong, which
happens when synthetic rows copy real ones (a twin on the other side of the
fold boundary pulls each prediction the wrong way). It is flagged, never
clipped by a max(0.5, ·).
"""
import numpy as np

from gates.base import Param, Reject, gate

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def cross_validated_auc(X, y, *, folds, seed):
    """Mean per-fold ROC AUC, out-of-fold P(synthetic) per row, and the fold models."""
    # scikit-learn loads only when a gate runs: the registry of gates is read at start-up.
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    from gates.features import classifier

    oof = np.zeros(len(y))
    aucs, models = [], []
    for train, test in StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(X, y):
        model = classifier(1.0, seed).fit(X[train], y[train])
        oof[test] = model.predict_proba(X[test])[:, 1]
        aucs.append(roc_auc_score(y[test], oof[test]))
        models.append(model)
    return float(np.mean(aucs)), oof, models


def two_sample_test(X, y, *, folds=5, n_null=10, quantiles=(0.05, 0.95), seed=0):
    """AUC of real (0) vs synthetic (1) with its label-shuffled null band."""
    auc, oof, models = cross_validated_auc(X, y, folds=folds, seed=seed)
    rng = np.random.default_rng(seed)
    null = [cross_validated_auc(X, rng.permutation(y), folds=folds, seed=seed)[0] for _ in range(n_null)]
    low, high = (np.quantile(null, quantiles) if null else (None, None))
    return {"auc": auc, "null": null, "null_low": low, "null_high": high, "oof": oof, "models": models}


def verdict(auc, null_low, null_high, copy_margin):
    if null_low is not None and auc < null_low and auc < 0.5 - copy_margin:
        return "suspicious_copy"
    if null_high is not None and auc > null_high:
        return "distinguishable"
    return "indistinguishable"


def _r(x):
    return None if x is None else round(float(x), 4)


@gate(
    "realism",
    "Realism / distinguishability",
    needs_anchor=True,
    params={
        "max_auc": Param(0.6, 0.5, 1.0),
        "folds": Param(5, 2, 10),
        "n_null": Param(10, 0, 200),
        "null_quantile_low": Param(0.05, 0.0, 0.5),
        "null_quantile_high": Param(0.95, 0.5, 1.0),
        "max_rows_per_side": Param(2000, 20, 1_000_000),
        "copy_margin": Param(0.05, 0.0, 0.5),
        "reject_most_synthetic_share": Param(0.0, 0.0, 0.5),
    },
)
def realism(ctx):
    from gates.features import matrix

    p, pool, anchor = ctx.params, ctx.pool, ctx.anchor
    n = min(len(pool), len(anchor), p["max_rows_per_side"])
    ctx.metrics.update(n_real=n, n_synthetic=n, max_auc=p["max_auc"], folds=p["folds"], n_null=p["n_null"])
    if n < 2 * p["folds"]:
        ctx.metrics.update(verdict="not_measured", passes=None, auc=None, null_low=None, null_high=None,
                           note=f"needs at least {2 * p['folds']} rows on each side, has {n}")
        return []
    # Balanced classes: the larger side is subsampled, so AUC 0.5 is chance.
    rng = np.random.default_rng(ctx.seed)
    real_idx = np.sort(rng.choice(len(anchor), n, replace=False))
    pool_idx = np.sort(rng.choice(len(pool), n, replace=False))
    share = p["reject_most_synthetic_share"]
    # Rows outside the sample are scored too when rejecting, by the fold models (never trained on them).
    rest = np.setdiff1d(np.arange(len(pool)), pool_idx) if share > 0 else np.array([], dtype=int)
    X, offsets = matrix(ctx.modality, [anchor.subset(real_idx), pool.subset(pool_idx), pool.subset(rest)])
    sample = slice(0, offsets[2])
    y = np.r_[np.zeros(n), np.ones(n)].astype(int)
    result = two_sample_test(X[sample], y, folds=p["folds"], n_null=p["n_null"], seed=ctx.seed,
                             quantiles=(p["null_quantile_low"], p["null_quantile_high"]))
    auc = result["auc"]
    found = verdict(auc, result["null_low"], result["null_high"], p["copy_margin"])
    synthetic_oof = result["oof"][n:]
    ctx.metrics.update(
        auc=_r(auc), null_low=_r(result["null_low"]), null_high=_r(result["null_high"]),
        null_aucs=[_r(a) for a in result["null"]], verdict=found,
        passes=found != "suspicious_copy" and auc <= p["max_auc"],
        synthetic_probability={f"q{int(q * 100):02d}": _r(v)
                               for q, v in zip(QUANTILES, np.quantile(synthetic_oof, QUANTILES))},
        real_probability_median=_r(np.median(result["oof"][:n])),
    )
    if share <= 0:
        return []
    probability = np.empty(len(pool))
    probability[pool_idx] = synthetic_oof
    if len(rest):
        probability[rest] = np.mean([m.predict_proba(X[offsets[2]:])[:, 1] for m in result["models"]], axis=0)
    count = int(np.floor(share * len(pool)))
    # Stable order: ties broken by pool position, so re-runs reject the same rows.
    worst = np.argsort(-probability, kind="stable")[:count]
    return [
        Reject(index=int(i), reason=f"most recognisably synthetic: P(synthetic)={probability[i]:.2f} out of sample",
               details={"p_synthetic": _r(probability[i]), "auc": _r(auc)})
        for i in sorted(worst)
    ]
