"""Gate speed and memory as the worker runs them, against equally optimised baselines.

    nice .venv/bin/python benchmarks/gates.py [N] [--repeats 3] [--memory-sizes 100000 1000000] [--seed 7]
    .venv/bin/python benchmarks/gates.py --smoke      # a few seconds; exits non-zero when anything fails

Every timing runs the product's own path: ``gates.cascade.run_cascade``, the
function the gate job (``services.execute_gate_run``) calls once the rows are
loaded, with the gate's full work (for near duplicates: sketch, LSH pairs,
clusters and the reject objects the job stores). A and B alternate, ``--repeats``
times each; the median and the spread (min–max) are printed.

1. The default cascade on a planted pool of N support tickets (gates.planted):
   per gate in / out, seconds, catch and false-reject rates, and realism's share
   of the cascade's time.
2. Near duplicates, same N texts, same parameters (threshold, permutations,
   shingles, LSH bands × rows): the gate against datasketch doing the same work
   (``MinHash.bulk``, ``MinHashLSH`` insertion session, one query per text, the
   candidates verified with ``MinHash.jaccard``, identical sketches collapsed,
   clusters as scipy connected components, the lowest id kept, a reject per other
   member with its similarity to the kept one). Prints the ratio, the recall of
   datasketch's pairs in the gate's clusters and the agreement of the reject sets.
3. The near-duplicate gate's memory: a fresh process per size, planted texts
   loaded, then the peak resident set during the gate minus the resident set
   before it (Linux: /proc/self/status VmHWM, reset through /proc/self/clear_refs).
4. Realism against raw scikit-learn doing the same fits: on the planted texts
   (TF-IDF words + characters, 5-fold logistic regression) and on a seeded table
   (gates.planted_tabular, breast cancer, shuffled columns: 5-fold boosted trees
   and the 5-fold linear second opinion). The gate adds its featurization from
   row dicts, the permutation null band and the copy evidence.

No database: the gates are pure (gates.cascade); Django is set up for the settings.
"""
import argparse
import json
import statistics
import subprocess
import sys
import time

from _setup import ROOT  # noqa: F401  (puts the project on sys.path)

SMOKE_N = 3000


def spread(samples):
    """'median s (min–max, n runs)'."""
    return f"{statistics.median(samples):.2f} s ({min(samples):.2f}–{max(samples):.2f}, {len(samples)} runs)"


def alternate(a, b, repeats):
    """Run a and b alternately ``repeats`` times; (a's seconds, b's seconds, a's last result, b's last)."""
    times, results = ([], []), [None, None]
    for _ in range(repeats):
        for k, fn in enumerate((a, b)):
            start = time.perf_counter()
            results[k] = fn()
            times[k].append(time.perf_counter() - start)
    return times[0], times[1], results[0], results[1]


# -- Near duplicates --------------------------------------------------------------------

def gate_near_dup(pool, params):
    from gates import cascade

    (outcome,) = cascade.run_cascade(pool, None, [("near_dup", params)], seed=0, modality="text", allowed_labels=[])
    return outcome.rejects


def _shingles(text, k):
    words = text.lower().split()
    if len(words) < k:
        return [" ".join(words).encode()]
    return [" ".join(words[i : i + k]).encode() for i in range(len(words) - k + 1)]


def datasketch_near_dup(texts, ids, params, bands_rows):
    """The gate's work with datasketch: (rejected index -> (kept index, similarity), the pairs found)."""
    import numpy as np
    from datasketch import MinHash, MinHashLSH
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    sketches = MinHash.bulk([_shingles(t, params["shingle_size"]) for t in texts], num_perm=params["num_perm"],
                            seed=params["seed"])
    # Identical sketches: one representative, as the gate does.
    representative, members = {}, np.empty(len(texts), np.int64)
    for i, sketch in enumerate(sketches):
        members[i] = representative.setdefault(sketch.hashvalues.tobytes(), i)
    distinct = sorted(set(representative.values()))
    lsh = MinHashLSH(threshold=params["threshold"], num_perm=params["num_perm"], params=bands_rows)
    with lsh.insertion_session() as session:
        for i in distinct:
            session.insert(i, sketches[i], check_duplication=False)
    pairs = {}
    for i in distinct:
        for j in lsh.query(sketches[i]):
            if j > i and (similarity := sketches[i].jaccard(sketches[j])) >= params["threshold"]:
                pairs[(i, j)] = similarity
    n = len(texts)
    left = np.concatenate((np.arange(n), [i for i, _ in pairs]))
    right = np.concatenate((members, [j for _, j in pairs]))
    graph = coo_matrix((np.ones(len(left), np.int8), (left, right)), shape=(n, n))
    component = connected_components(graph, directed=False)[1]
    ids = np.asarray(ids)
    order = np.lexsort((ids, component))
    survivor = {}
    for i in order.tolist():
        survivor.setdefault(component[i], i)
    rejects = {i: (survivor[c], sketches[i].jaccard(sketches[survivor[c]]))
               for i, c in enumerate(component.tolist()) if survivor[c] != i}
    return rejects, pairs


def near_dup_section(pool, repeats, params):
    from gates import minhash

    bands_rows = minhash.lsh_params(params["threshold"], params["num_perm"], params["false_negative_weight"])
    texts = pool.texts
    print(f"\n## Near duplicates: the gate against datasketch, {len(texts):,} texts, {repeats} alternating runs\n")
    print(f"threshold {params['threshold']}, {params['num_perm']} permutations, {params['shingle_size']}-word "
          f"shingles, LSH {bands_rows[0]} bands × {bands_rows[1]} rows on both sides\n")
    ours_t, theirs_t, ours, (theirs, pairs) = alternate(
        lambda: gate_near_dup(pool, params), lambda: datasketch_near_dup(texts, pool.ids, params, bands_rows), repeats)
    index_of = {example_id: i for i, example_id in enumerate(pool.ids)}
    cluster = {r.index: r.details["cluster"] for r in ours}
    cluster.update({index_of[r.details["kept"]]: r.details["cluster"] for r in ours})
    together = sum(1 for i, j in pairs if i in cluster and cluster[i] == cluster.get(j))
    recall = together / max(1, len(pairs))
    rejected = {r.index for r in ours}
    agreement = len(rejected & set(theirs)) / max(1, len(rejected | set(theirs)))
    ratio = statistics.median(theirs_t) / statistics.median(ours_t)
    print("| | seconds: median (min–max) | texts/s (median) | rejects |")
    print("|---|---|---:|---:|")
    print(f"| near_dup gate (`run_cascade`) | {spread(ours_t)} | {len(texts) / statistics.median(ours_t):,.0f} | "
          f"{len(rejected):,} |")
    print(f"| datasketch, same work | {spread(theirs_t)} | {len(texts) / statistics.median(theirs_t):,.0f} | "
          f"{len(theirs):,} |")
    print(f"\nratio: **{ratio:.1f}×** datasketch's throughput (runs: "
          f"{', '.join(f'{b / a:.1f}×' for a, b in zip(ours_t, theirs_t))})")
    print(f"recall of datasketch's {len(pairs):,} pairs in the gate's clusters: **{recall:.4f}**; "
          f"reject sets agree (Jaccard) {agreement:.4f}")
    return {"ratio": ratio, "recall": recall}


def memory_probe(n, seed, params):
    """Run in a fresh process: planted texts loaded, then the near_dup gate; JSON figures."""
    from gates import planted

    def status(key):
        with open("/proc/self/status") as f:
            return int(f.read().split(f"{key}:")[1].split()[0]) / 1024

    pool = planted.generate(n, seed=seed).pool
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets the peak (VmHWM) to the current resident set
    before = status("VmRSS")
    start = time.perf_counter()
    rejects = gate_near_dup(pool, params)
    print(json.dumps({"n": n, "seconds": time.perf_counter() - start, "rss_before_mb": before,
                      "peak_mb": status("VmHWM"), "gate_mb": status("VmHWM") - before, "rejects": len(rejects)}))


def memory_section(sizes, repeats, seed):
    print(f"\n## Near-duplicate gate memory and time, a fresh process per run ({repeats} runs per size)\n")
    print("| texts | gate peak over the loaded pool (MB) | process peak (MB) | gate seconds | per 100k texts |")
    print("|---:|---|---:|---|---:|")
    figures = {}
    for n in sizes:
        runs = []
        for _ in range(repeats):
            out = subprocess.run([sys.executable, __file__, "--memory-probe", str(n), "--seed", str(seed)],
                                 capture_output=True, text=True, check=True)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        gate_mb, seconds = [r["gate_mb"] for r in runs], [r["seconds"] for r in runs]
        figures[n] = statistics.median(gate_mb)
        print(f"| {n:,} | **{statistics.median(gate_mb):.0f}** ({min(gate_mb):.0f}–{max(gate_mb):.0f}) | "
              f"{statistics.median(r['peak_mb'] for r in runs):.0f} | {spread(seconds)} | "
              f"{statistics.median(seconds) / n * 1e5:.2f} s |", flush=True)
    return figures


# -- The cascade and realism ---------------------------------------------------------------

def cascade_section(planted_pool, repeats, seed):
    from gates import cascade, planted
    from gates.base import GATES

    steps = [(name, {}) for name in cascade.ORDER if name in GATES]
    totals, shares, outcomes = [], [], None
    for _ in range(repeats):
        start = time.perf_counter()
        outcomes = cascade.run_cascade(planted_pool.pool, planted_pool.anchor, steps, seed=seed, modality="text",
                                       allowed_labels=planted_pool.allowed_labels)
        totals.append(time.perf_counter() - start)
        shares.append(next(o.seconds for o in outcomes if o.gate == "realism") / totals[-1])
    scores = planted.score(planted_pool, outcomes)
    print(f"## The default cascade on {len(planted_pool.pool):,} planted texts ({repeats} runs; table: the last)\n")
    print("| gate | in | out | seconds | plants | caught | catch rate | false rejects | false rate |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for outcome in outcomes:
        s = scores[outcome.gate]
        rate = f"{s['catch_rate']:.1%}" if s["catch_rate"] is not None else "–"
        print(f"| {outcome.gate} | {outcome.count_in:,} | {outcome.count_out:,} | {outcome.seconds:.2f} | "
              f"{s['plants']:,} | {s['caught']:,} | {rate} | {s['false_rejects']:,} | {s['false_rate']:.2%} |")
    print(f"\ncascade: {spread(totals)}; realism's share of it: **{statistics.median(shares):.1%}** "
          f"({min(shares):.1%}–{max(shares):.1%})")
    realism = next(o.metrics for o in outcomes if o.gate == "realism")
    print(f"realism: AUC {realism['auc']} [{realism['null_low']}, {realism['null_high']}], {realism['verdict']}, "
          f"{realism['n_real']} real v {realism['n_synthetic']} synthetic, 5 fits")
    failures = [f"{gate}: catch {s['catch_rate']}, false {s['false_rate']}" for gate, s in scores.items()
                if s["plants"] and (s["catch_rate"] < 0.95 or s["false_rate"] > 0.02)]
    return {"realism_share": statistics.median(shares)}, failures


def raw_sklearn(anchor, pool, modality, seed):
    """Raw scikit-learn doing the gate's fits from the same rows: the same features (TF-IDF
    words and characters; or numbers with ordinal-coded categories for the trees, scaled
    numbers with one-hot categories for the linear model), stratified 5-fold, mean fold
    ROC AUC per classifier."""
    import numpy as np
    from scipy import sparse
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_validate
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
    from threadpoolctl import threadpool_limits

    y = np.r_[np.zeros(len(anchor)), np.ones(len(pool))].astype(int)
    linear = LogisticRegression(solver="saga", tol=1e-3, max_iter=2000, random_state=seed)
    if modality == "text":
        texts = anchor.texts + pool.texts
        X = sparse.hstack([TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, max_features=50000).fit_transform(texts),
                           TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True,
                                           max_features=50000).fit_transform(texts)]).tocsr()
        runs = {"linear": (linear, X)}
    else:
        records = anchor.data + pool.data
        columns = list(records[0])
        numeric = [c for c in columns if isinstance(records[0][c], float)]
        other = [c for c in columns if c not in numeric]
        table = np.array([[r.get(c) for c in columns] for r in records], dtype=object)
        index = {c: i for i, c in enumerate(columns)}
        codes = ColumnTransformer([("n", "passthrough", [index[c] for c in numeric]),
                                   ("c", OrdinalEncoder(), [index[c] for c in other])])
        scaled = ColumnTransformer([("n", StandardScaler(), [index[c] for c in numeric]),
                                    ("c", OneHotEncoder(), [index[c] for c in other])])
        trees = HistGradientBoostingClassifier(categorical_features=[False] * len(numeric) + [True] * len(other),
                                               random_state=seed)
        runs = {"boosting": (make_pipeline(codes, trees), table), "linear": (make_pipeline(scaled, linear), table)}
    with threadpool_limits(limits=1):
        folds = StratifiedKFold(5, shuffle=True, random_state=seed)
        return {kind: cross_validate(model, X, y, cv=folds, scoring="roc_auc")["test_score"].mean()
                for kind, (model, X) in runs.items()}


def realism_section(planted_pool, repeats, seed, tables):
    import numpy as np

    from gates import cascade, planted_tabular
    from gates.base import Rows
    from registry.lineage import canonical_data

    print(f"\n## Realism against raw scikit-learn doing the same fits ({repeats} alternating runs)\n")
    print("| data | gate (`run_cascade`, realism step) | raw scikit-learn | gate / raw | AUC gate / raw |")
    print("|---|---|---|---:|---|")
    rng = np.random.default_rng(seed)
    size = min(2000, len(planted_pool.anchor))
    real = planted_pool.anchor.subset(np.sort(rng.choice(len(planted_pool.anchor), size, replace=False)))
    syn = planted_pool.pool.subset(np.sort(rng.choice(len(planted_pool.pool), size, replace=False)))
    cases = [(f"planted texts, {size:,} v {size:,}", syn, real, "text")]
    for name in tables:
        table = planted_tabular.build(name, seed=0)

        def rows(records):
            return Rows(ids=list(range(len(records))), texts=[canonical_data(r) for r in records],
                        labels=[""] * len(records), hashes=[""] * len(records), data=list(records))

        cases.append((f"{name}, shuffled columns, {len(table.anchor)} v {len(table.pools['shuffled'])}",
                      rows(table.pools["shuffled"]), rows(table.anchor), "tabular"))
    failures = []
    for label, pool, anchor, modality in cases:
        def gate():
            (outcome,) = cascade.run_cascade(pool, anchor, [("realism", {})], seed=seed, modality=modality,
                                             allowed_labels=[])
            return outcome.metrics

        gate_t, raw_t, metrics, raw = alternate(gate, lambda: raw_sklearn(anchor, pool, modality, seed), repeats)
        primary = "boosting" if modality == "tabular" else "linear"
        ratio = statistics.median(gate_t) / statistics.median(raw_t)
        second = (f"; linear {metrics['second_opinion']['auc']:.3f} / {raw['linear']:.3f}"
                  if "second_opinion" in metrics else "")
        print(f"| {label} | {spread(gate_t)} | {spread(raw_t)} | {ratio:.2f}× | {primary} {metrics['auc']:.3f} / "
              f"{raw[primary]:.3f}{second} |", flush=True)
        if abs(metrics["auc"] - raw[primary]) > 0.03:
            failures.append(f"realism {label}: AUC {metrics['auc']} against raw {raw[primary]:.4f}")
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory-sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--smoke", action="store_true", help=f"{SMOKE_N:,} texts, one run each; non-zero on failure")
    parser.add_argument("--memory-probe", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    import django

    django.setup()
    from gates import library, planted  # noqa: F401  (registers the gates)
    from gates.base import GATES

    near_params = GATES["near_dup"].defaults()
    if args.memory_probe:
        return memory_probe(args.memory_probe, args.seed, near_params)
    n, repeats = (SMOKE_N, 1) if args.smoke else (args.n, args.repeats)
    start = time.perf_counter()
    planted_pool = planted.generate(n, seed=args.seed)
    print(f"planted pool: {len(planted_pool.pool):,} texts, anchor {len(planted_pool.anchor):,} "
          f"({time.perf_counter() - start:.1f} s to generate)\n")
    _, failures = cascade_section(planted_pool, repeats, args.seed)
    near = near_dup_section(planted_pool.pool, repeats, near_params)
    if near["recall"] < 0.95:
        failures.append(f"near_dup recall of datasketch's pairs {near['recall']:.4f} < 0.95")
    failures += realism_section(planted_pool, repeats, args.seed, ["wine"] if args.smoke else ["breast_cancer"])
    sizes = [SMOKE_N] if args.smoke else args.memory_sizes
    memory = memory_section(sizes, 1 if args.smoke else args.repeats, args.seed)
    if memory.get(1_000_000, 0) > 600:
        failures.append(f"near_dup gate memory at 1M texts {memory[1_000_000]:.0f} MB > 600 MB")
    for failure in failures:
        print("FAILED:", failure, file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
