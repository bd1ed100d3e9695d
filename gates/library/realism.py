"""Realism as a classifier two-sample test (Lopez-Paz & Oquab 2017): if a
classifier cannot tell real rows from synthetic ones out of fold, the pool is
indistinguishable from its anchor.

Tables are judged by gradient-boosted trees (scikit-learn's
HistGradientBoostingClassifier, native categorical splits), which see
interactions between columns: a pool whose columns were sampled independently
keeps every marginal and fools a linear model, not the trees. The linear model
(logistic regression on standardized and one-hot columns) is reported beside it
as a second opinion. Texts are judged by the logistic regression on TF-IDF.

The null band is the permutation distribution of the same statistic (the mean
per-fold AUC) over the out-of-fold scores already computed, widened by the
Nadeau–Bengio correction for the overlap of cross-validation training sets: no
classifier is refitted for it (docs/gates.md: coverage measured on real-vs-real
splits). An AUC below the band is called a copy only when the copy evidence
agrees (gates.privacy: an exact copy, or near copies beyond the real rows' own).
"""
import numpy as np

from gates import privacy
from gates.base import Param, Reject, gate
from gates.features import (
    SKIP, boosting_classifier, infer_column_types, linear_classifier, matrix, tabular_codes, tabular_types,
)

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
NULL_METHOD = "permutation of the out-of-fold scores, Nadeau–Bengio corrected"
_PERMUTATION_CELLS = 2_000_000  # permuted labels held at once (int8)


def _model(kind, categorical, seed):
    return boosting_classifier(categorical, seed) if kind == "boosting" else linear_classifier(1.0, seed)


def cross_validated_auc(X, y, *, kind, folds, seed, categorical=None):
    """Mean per-fold ROC AUC, out-of-fold P(synthetic) per row, each row's fold, and
    the fold models. One thread per fit: a worker runs one process per core, and
    OpenMP threads competing for busy cores spin (HistGradientBoosting ran 12× slower
    with two threads than with one on the shared 2-core machine)."""
    # scikit-learn loads only when a gate runs: the registry of gates is read at start-up.
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold
    from threadpoolctl import threadpool_limits

    oof, fold_of = np.zeros(len(y)), np.zeros(len(y), dtype=int)
    aucs, models = [], []
    with threadpool_limits(limits=1):
        splits = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y)
        for fold, (train, test) in enumerate(splits):
            model = _model(kind, categorical, seed).fit(X[train], y[train])
            oof[test], fold_of[test] = model.predict_proba(X[test])[:, 1], fold
            aucs.append(roc_auc_score(y[test], oof[test]))
            models.append(model)
    return float(np.mean(aucs)), oof, fold_of, models


def null_band(oof, y, fold_of, *, folds, quantiles, permutations, seed):
    """(low, high, inflation): the ``quantiles`` of the mean per-fold AUC when each
    fold's labels are permuted against its out-of-fold scores, scaled about 0.5 (the
    permutation mean) by sqrt(1 + k/(k − 1)).

    Under the null (real and synthetic rows exchangeable), each fold's test rows are
    scored by a model that never saw them, so the within-fold permutation is exact for
    one fold; but the k fold models share most of their training rows, which makes the
    fold AUCs covary and the mean vary more than independent folds would. Nadeau &
    Bengio (2003) bound that variance for k-fold estimates by (1/k + 1/(k − 1)) σ²
    instead of σ²/k."""
    from scipy.stats import rankdata

    rng = np.random.default_rng(seed)
    total = np.zeros(permutations)
    for fold in range(folds):
        ranks, labels = rankdata(oof[fold_of == fold]), y[fold_of == fold].astype(np.int8)
        positives = int(labels.sum())
        negatives = len(labels) - positives
        step = max(1, _PERMUTATION_CELLS // len(labels))
        for start in range(0, permutations, step):
            shuffled = rng.permuted(np.tile(labels, (min(step, permutations - start), 1)), axis=1)
            rank_sums = shuffled @ ranks
            total[start:start + len(shuffled)] += (rank_sums - positives * (positives + 1) / 2) / (positives * negatives)
    inflation = float(np.sqrt(1 + folds / (folds - 1)))
    low, high = 0.5 + inflation * (np.quantile(total / folds, quantiles) - 0.5)
    return float(low), float(high), inflation


def two_sample_test(X, y, *, kind, folds, quantiles, permutations, seed, categorical=None):
    """AUC of real (0) vs synthetic (1) with its null band."""
    auc, oof, fold_of, models = cross_validated_auc(X, y, kind=kind, folds=folds, seed=seed, categorical=categorical)
    low, high, inflation = null_band(oof, y, fold_of, folds=folds, quantiles=quantiles, permutations=permutations,
                                     seed=seed)
    return {"auc": auc, "null_low": low, "null_high": high, "inflation": inflation, "oof": oof, "models": models}


def verdict(auc, null_low, null_high, copies_agree):
    if auc < null_low:
        # Systematically wrong: real rows' synthetic twins pull predictions the wrong way, or
        # small-sample cross-validation noise; only copy evidence tells them apart.
        return "suspicious_copy" if copies_agree else "below_null_band"
    if auc > null_high:
        return "distinguishable"
    return "indistinguishable"


def _r(x):
    return None if x is None else round(float(x), 4)


def _features(kind, modality, parts):
    """(X, categorical, offsets) for ``kind`` over the concatenated parts."""
    if kind == "boosting":
        X, categorical = tabular_codes(*tabular_types(parts))
        return X, categorical, np.cumsum([0] + [len(part) for part in parts])
    X, offsets = matrix(modality, parts)
    return X, None, offsets


def _copy_evidence(modality, real, synthetic, seed):
    rng = np.random.default_rng(seed)
    if modality == "tabular":
        kinds = {c: k for c, k in infer_column_types(real.data).items() if k != SKIP}
        return privacy.tabular_copies(real.data, synthetic.data, kinds, rng)
    return privacy.text_copies(real.texts, synthetic.texts, rng)


@gate(
    "realism",
    "Realism / distinguishability",
    needs_anchor=True,
    params={
        "max_auc": Param(0.6, 0.5, 1.0),
        # auto: boosted trees for tables, the linear model for texts.
        "classifier": Param("auto", choices=("auto", "boosting", "linear")),
        "second_opinion": Param(True),  # tables: the other classifier's AUC, reported beside
        "folds": Param(5, 2, 10),
        "permutations": Param(1000, 100, 100_000),
        "null_quantile_low": Param(0.05, 0.0, 0.5),
        "null_quantile_high": Param(0.95, 0.5, 1.0),
        "max_rows_per_side": Param(2000, 20, 1_000_000),
        # Near copies beyond the real rows' own share that make an AUC below the band a copy.
        "min_copy_share": Param(0.01, 0.0, 1.0),
        "reject_most_synthetic_share": Param(0.0, 0.0, 0.5),
    },
)
def realism(ctx):
    p, pool, anchor = ctx.params, ctx.pool, ctx.anchor
    tabular = ctx.modality == "tabular"
    kind = p["classifier"] if p["classifier"] != "auto" else "boosting" if tabular else "linear"
    if kind == "boosting" and not tabular:
        raise ValueError("realism: the boosting classifier reads table columns; use classifier 'linear' on text")
    # Each side is sampled on its own: the ROC AUC does not depend on the class balance, and
    # the permutation band is computed for the sizes drawn.
    n_real, n_syn = min(len(anchor), p["max_rows_per_side"]), min(len(pool), p["max_rows_per_side"])
    quantiles = (p["null_quantile_low"], p["null_quantile_high"])
    ctx.metrics.update(n_real=n_real, n_synthetic=n_syn, max_auc=p["max_auc"], folds=p["folds"], classifier=kind,
                       null_method=NULL_METHOD, null_coverage=_r(quantiles[1] - quantiles[0]),
                       permutations=p["permutations"])
    if min(n_real, n_syn) < 2 * p["folds"]:
        ctx.metrics.update(verdict="not_measured", passes=None, auc=None, null_low=None, null_high=None,
                           note=f"needs at least {2 * p['folds']} rows on each side, has {min(n_real, n_syn)}")
        return []
    rng = np.random.default_rng(ctx.seed)
    real_idx = np.sort(rng.choice(len(anchor), n_real, replace=False))
    pool_idx = np.sort(rng.choice(len(pool), n_syn, replace=False))
    share = p["reject_most_synthetic_share"]
    # Rows outside the sample are scored too when rejecting, by the fold models (never trained on them).
    rest = np.setdiff1d(np.arange(len(pool)), pool_idx) if share > 0 else np.array([], dtype=int)
    real, synthetic = anchor.subset(real_idx), pool.subset(pool_idx)
    y = np.r_[np.zeros(n_real), np.ones(n_syn)].astype(int)
    test = dict(folds=p["folds"], quantiles=quantiles, permutations=p["permutations"], seed=ctx.seed)
    X, categorical, offsets = _features(kind, ctx.modality, [real, synthetic, pool.subset(rest)])
    result = two_sample_test(X[:offsets[2]], y, kind=kind, categorical=categorical, **test)
    auc = result["auc"]
    copies = _copy_evidence(ctx.modality, real, synthetic, ctx.seed)
    copied = privacy.copies_agree(copies, p["min_copy_share"])
    found = verdict(auc, result["null_low"], result["null_high"], copied)
    synthetic_oof = result["oof"][n_real:]
    ctx.metrics.update(
        auc=_r(auc), null_low=_r(result["null_low"]), null_high=_r(result["null_high"]),
        null_inflation=_r(result["inflation"]), verdict=found,
        passes=found != "suspicious_copy" and auc <= p["max_auc"],
        copies={key: _r(value) if isinstance(value, float) else value for key, value in copies.items()},
        synthetic_probability={f"q{int(q * 100):02d}": _r(v)
                               for q, v in zip(QUANTILES, np.quantile(synthetic_oof, QUANTILES))},
        real_probability_median=_r(np.median(result["oof"][:n_real])),
    )
    if tabular and p["second_opinion"]:
        other = "linear" if kind == "boosting" else "boosting"
        X2, categorical2, _ = _features(other, ctx.modality, [real, synthetic])
        second = two_sample_test(X2, y, kind=other, categorical=categorical2, **test)
        ctx.metrics["second_opinion"] = {
            "classifier": other, "auc": _r(second["auc"]), "null_low": _r(second["null_low"]),
            "null_high": _r(second["null_high"]),
            "verdict": verdict(second["auc"], second["null_low"], second["null_high"], copied),
        }
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
