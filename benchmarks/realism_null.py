"""The realism gate's statistics: null-band coverage, and the AUC of each classifier on each tabular case.

    nice .venv/bin/python benchmarks/realism_null.py [--trials 40] [--smoke]

1. Coverage. Real rows against real rows (the null hypothesis holds by
   construction): each trial splits a bundled scikit-learn table (or a pool of
   planted support tickets) into two disjoint random halves, one as the anchor
   and one as the "synthetic" pool, runs the realism gate with its defaults, and
   records whether the AUC falls inside the gate's null band (nominal coverage
   90%). Beside the gate's band (permutation of the out-of-fold scores,
   Nadeau–Bengio corrected, no refit), the same trial's uncorrected permutation
   band and, on the first ``--refit-trials``, the band of the previous release
   (10 label-shuffled refits of the whole cross-validation, their 5% and 95%
   quantiles) are scored, with the fits each needs.
2. Cases. For every table of gates.planted_tabular and every case (faithful
   Gaussian copula, independently shuffled columns, a third copied from the
   anchor, a tenth taken from the evaluation set): the AUC and null band of the
   boosted trees and of the linear model, the gate's verdict, the copy evidence
   and the fidelity report's structure figures.

``--smoke``: 3 trials on one table and its cases at once; exits non-zero when a
figure is missing or out of its expected range.
"""
import argparse
import sys
import time

import numpy as np

from _setup import ROOT  # noqa: F401  (puts the project on sys.path)

TEXT = "support tickets"


def tabular_rows(records):
    from gates.base import Rows
    from registry.lineage import canonical_data

    return Rows(ids=list(range(len(records))), texts=[canonical_data(r) for r in records], labels=[""] * len(records),
                hashes=[""] * len(records), data=list(records))


def run_realism(pool, anchor, modality, seed):
    from gates import library  # noqa: F401  (registers the gates)
    from gates.base import GATES, GateContext

    spec = GATES["realism"]
    ctx = GateContext(pool=pool, anchor=anchor, params=spec.defaults(), seed=seed, modality=modality)
    spec.func(ctx)
    return ctx.metrics


def halves(name, seed):
    """(anchor, pool, modality): two disjoint random halves of one real table or ticket pool."""
    from gates import planted, planted_tabular

    rng = np.random.default_rng(seed)
    if name == TEXT:
        rows = planted.generate(1200, seed=seed).anchor
        order = rng.permutation(len(rows))
        return rows.subset(order[: len(rows) // 2]), rows.subset(order[len(rows) // 2:]), "text"
    columns, X, label_column, labels = planted_tabular.load(name)
    records = [{**dict(zip(columns, map(float, row))), label_column: str(label)} for row, label in zip(X, labels)]
    order = rng.permutation(len(records))
    half = len(records) // 2
    return (tabular_rows([records[i] for i in order[:half]]), tabular_rows([records[i] for i in order[half:]]),
            "tabular")


def refit_band(pool, anchor, modality, seed, n_null=10):
    """The previous release's band: n_null label-shuffled refits of the cross-validation."""
    from gates.library import realism

    kind = "boosting" if modality == "tabular" else "linear"
    X, categorical, offsets = realism._features(kind, modality, [anchor, pool])
    y = np.r_[np.zeros(len(anchor)), np.ones(len(pool))].astype(int)
    rng = np.random.default_rng(seed)
    null = [realism.cross_validated_auc(X, rng.permutation(y), kind=kind, folds=5, seed=seed,
                                        categorical=categorical)[0] for _ in range(n_null)]
    return np.quantile(null, (0.05, 0.95))


def coverage(names, trials, refit_trials):
    print("| data | classifier | trials | mean AUC (sd) | gate band: coverage | below / above | "
          "uncorrected permutation band | 10-refit band (old) | fits per run: gate / old | wall |")
    print("|---|---|---:|---|---:|---|---:|---:|---|---:|")
    failures = []
    for name in names:
        inside = raw_inside = refit_inside = below = above = 0
        aucs = []
        start = time.perf_counter()
        for trial in range(trials):
            anchor, pool, modality = halves(name, trial)
            m = run_realism(pool, anchor, modality, seed=trial)
            auc, low, high = m["auc"], m["null_low"], m["null_high"]
            aucs.append(auc)
            inside += low <= auc <= high
            below += auc < low
            above += auc > high
            # The band before the Nadeau–Bengio correction: divide the widening back out.
            raw_low, raw_high = 0.5 + (low - 0.5) / m["null_inflation"], 0.5 + (high - 0.5) / m["null_inflation"]
            raw_inside += raw_low <= auc <= raw_high
            if trial < refit_trials:
                old_low, old_high = refit_band(pool, anchor, modality, seed=trial)
                refit_inside += old_low <= auc <= old_high
            if m["verdict"] == "suspicious_copy":
                failures.append(f"{name} trial {trial}: real rows called copies")
        fits = 10 if modality == "tabular" else 5  # + the second opinion's 5 on tables
        old = f"{refit_inside / refit_trials:.2f} ({refit_trials} trials)" if refit_trials else "–"
        print(f"| {name} | {m['classifier']} | {trials} | {np.mean(aucs):.3f} ({np.std(aucs):.3f}) | "
              f"**{inside / trials:.2f}** | {below} / {above} | {raw_inside / trials:.2f} | {old} | {fits} / 55 | "
              f"{time.perf_counter() - start:.0f} s |", flush=True)
    return failures


def cases(names, seed):
    from gates import fidelity, planted_tabular

    print("\n| table | case | rows real / synthetic | boosted trees AUC [null band] | linear AUC [null band] | "
          "verdict | copy excess | pair trends vs real-vs-real | column shapes |")
    print("|---|---|---|---|---|---|---:|---:|---:|")
    figures = {}
    for name in names:
        table = planted_tabular.build(name, seed=seed)
        anchor = tabular_rows(table.anchor)
        for case in planted_tabular.CASES:
            pool = tabular_rows(table.pools[case])
            m = run_realism(pool, anchor, "tabular", seed)
            report = fidelity.evaluate(pool, anchor, "tabular", seed=seed)
            second, summary = m["second_opinion"], report["summary"]
            figures[name, case] = (m, summary)
            print(f"| {name} | {case} | {len(anchor)} / {len(pool)} | {m['auc']:.3f} [{m['null_low']:.3f}, "
                  f"{m['null_high']:.3f}] | {second['auc']:.3f} [{second['null_low']:.3f}, {second['null_high']:.3f}] | "
                  f"{m['verdict']} | {m['copies']['copy_excess']:.3f} | {summary['pair_trends_ratio']:.3f} | "
                  f"{summary['column_shapes']:.3f} |", flush=True)
    return figures


def check_cases(figures):
    """The expectations docs/gates.md states, as failures (an empty list when all hold)."""
    failures = []
    for (name, case), (m, summary) in figures.items():
        if case == "shuffled" and not (m["auc"] >= 0.9 and summary["pair_trends_ratio"] < 0.9):
            failures.append(f"{name} shuffled: AUC {m['auc']}, pair trends ratio {summary['pair_trends_ratio']}")
        if case == "faithful" and (m["verdict"] == "suspicious_copy" or m["auc"] > 0.6):
            failures.append(f"{name} faithful: {m['verdict']} at AUC {m['auc']}")
        if case == "copies" and m["verdict"] != "suspicious_copy":
            failures.append(f"{name} copies: {m['verdict']}")
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--refit-trials", type=int, default=20,
                        help="trials that also score the old 10-refit band (50 fits each: the slow part)")
    parser.add_argument("--smoke", action="store_true", help="3 trials on one table: a few seconds, non-zero on failure")
    args = parser.parse_args()

    import django

    django.setup()
    from gates import planted_tabular

    tables = ["wine"] if args.smoke else list(planted_tabular.DATASETS)
    names = tables if args.smoke else [*tables, TEXT]
    trials = 3 if args.smoke else args.trials
    failures = coverage(names, trials, 0 if args.smoke else min(args.refit_trials, trials))
    failures += check_cases(cases(tables, args.seed))
    for failure in failures:
        print("FAILED:", failure, file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
