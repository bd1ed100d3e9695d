"""Label consistency: a classifier that confidently disagrees with an example's
label flags it. The classifier is trained on the real anchor when the anchor
has enough labelled rows of every label the pool uses; otherwise it is
cross-validated on the pool itself (each row judged by a model that never saw
it, and refitted once without the rows the first round disagreed with). The
mode used is recorded with the reason. Text features are word 1-2-grams only: a
label is about topic, and the whole pool is featurized (character grams would
cost ~6× the time).
"""
from collections import Counter

import numpy as np

from gates.base import Param, Reject, gate


def label_columns(rows):
    """Tabular columns that merely repeat the label (they would leak it)."""
    columns = set().union(*(set(d or {}) for d in rows.data)) if rows.data else set()
    return {"label"} | {
        c for c in columns if all(str((d or {}).get(c)) == label for d, label in zip(rows.data, rows.labels))
    }


def choose_mode(pool_labels, anchor_labels, min_per_class):
    """("anchor" | "pool_cv", reason)."""
    counts = Counter(label for label in anchor_labels if label)
    used = sorted(set(label for label in pool_labels if label))
    short = [label for label in used if counts[label] < min_per_class]
    if len(used) < 2:
        return "not_judged", "the pool uses fewer than two labels"
    if not short:
        return "anchor", f"the anchor has at least {min_per_class} labelled rows of each of the {len(used)} pool labels"
    return "pool_cv", (f"the anchor has fewer than {min_per_class} labelled rows of "
                       f"{', '.join(short[:5])}{'…' if len(short) > 5 else ''}; cross-validated on the pool")


def predictions(X_train, y_train, X_test, *, C, seed):
    # scikit-learn loads only when a gate runs: the registry of gates is read at start-up.
    from gates.features import linear_classifier

    # ``C`` is per 1,000 training rows: sklearn's penalty weighs against the summed loss, so a
    # fixed C regularizes a 400-row anchor far harder than a 10,000-row fold. Scaling keeps
    # the confidence comparable across modes and sizes (and large fits converge faster).
    model = linear_classifier(C * 1000 / len(y_train), seed).fit(X_train, y_train)
    return model.classes_, model.predict_proba(X_test)


@gate(
    "label_consistency",
    "Label consistency",
    params={
        "min_confidence": Param(0.9, 0.5, 1.0),
        "min_anchor_per_class": Param(10, 1, 100_000),
        "folds": Param(5, 2, 20),
        "C": Param(100.0, 0.001, 10000.0),
        "max_train_rows": Param(10000, 100, 10_000_000),
    },
)
def label_consistency(ctx):
    from sklearn.model_selection import StratifiedKFold

    from gates.features import matrix

    p, pool = ctx.params, ctx.pool
    anchor = ctx.anchor if ctx.anchor is not None else pool.subset([])
    mode, reason = choose_mode(pool.labels, anchor.labels, p["min_anchor_per_class"])
    ctx.metrics.update(mode=mode, mode_reason=reason, min_confidence=p["min_confidence"])
    if mode == "not_judged":
        ctx.metrics.update(n_judged=0, n_flagged=0, agreement_rate=None)
        return []
    labels = np.array(pool.labels, dtype=object)
    probability = np.zeros(len(pool))
    predicted = np.array([""] * len(pool), dtype=object)
    judged = np.zeros(len(pool), dtype=bool)
    drop = label_columns(pool) | label_columns(anchor) if ctx.modality == "tabular" else ()
    if mode == "anchor":
        labelled = [i for i, label in enumerate(anchor.labels) if label]
        X, offsets = matrix(ctx.modality, [anchor.subset(labelled), pool], drop_columns=drop, chars=False)
        classes, proba = predictions(X[: offsets[1]], np.array([anchor.labels[i] for i in labelled]),
                                     X[offsets[1]:], C=p["C"], seed=ctx.seed)
        judged[:] = np.isin(labels, classes)  # a label the anchor never shows cannot be judged here
        predicted[:] = classes[proba.argmax(axis=1)]
        probability[:] = proba.max(axis=1)
    else:
        counts = Counter(pool.labels)
        # A label with fewer rows than folds cannot appear in every training fold.
        judged[:] = [bool(label) and counts[label] >= p["folds"] for label in pool.labels]
        rows = np.flatnonzero(judged)
        X, _ = matrix(ctx.modality, [pool.subset(rows)], drop_columns=drop, chars=False)
        y = labels[rows]
        folds = list(StratifiedKFold(n_splits=p["folds"], shuffle=True, random_state=ctx.seed).split(X, y.astype(str)))
        # Two rounds (prune, then refit — as in confident learning): the mislabelled rows
        # in the training folds blur the first model; rows it disagrees with are left out
        # of training in the second, unless that would starve their label.
        keep = np.ones(len(rows), dtype=bool)
        rng = np.random.default_rng(ctx.seed)
        # Large pools: each fold trains on a seeded sample; every row is still judged out of fold.
        caps = [np.sort(rng.permutation(train)[: p["max_train_rows"]]) for train, _ in folds]
        for round_ in range(2):
            for (_, test), train in zip(folds, caps):
                fit = train[keep[train]]
                classes, proba = predictions(X[fit], y[fit], X[test], C=p["C"], seed=ctx.seed)
                predicted[rows[test]] = classes[proba.argmax(axis=1)]
                probability[rows[test]] = proba.max(axis=1)
            if round_ == 0:
                keep = predicted[rows] == y
                starved = [label for label in set(y) if (keep & (y == label)).sum() < p["folds"]]
                keep |= np.isin(y, starved)
        ctx.metrics["n_pruned"] = int((~keep).sum())
    disagree = judged & (predicted != labels)
    flagged = np.flatnonzero(disagree & (probability >= p["min_confidence"]))
    n_judged = int(judged.sum())
    ctx.metrics.update(
        n_judged=n_judged, n_unjudged=len(pool) - n_judged, n_flagged=len(flagged),
        agreement_rate=round(1 - float(disagree.sum()) / n_judged, 4) if n_judged else None,
    )
    return [
        Reject(index=int(i), reason=f"labelled {labels[i]}, model says {predicted[i]} (p={probability[i]:.2f})",
               details={"label": labels[i], "predicted": predicted[i], "p": round(float(probability[i]), 4),
                        "mode": mode})
        for i in flagged
    ]
