"""Gate cascade speed, and the near-duplicate gate against datasketch.

    nice .venv/bin/python benchmarks/gates.py [N] [--seed 7] [--threshold 0.8] [--num-perm 128] [--shingle-size 3]

1. A planted pool of N support tickets (gates.planted: exact and near
   duplicates, PII echoes of anchor identifiers, generic PII, mislabeled and
   malformed rows) and its real anchor.
2. The whole pure cascade (every registered gate, default parameters, in
   gates.cascade.ORDER): per gate rows in / out, seconds, rows per second, and
   the planted-defect catch rate and false-reject rate.
3. Near duplicates on the same N texts, both ways with the same parameters
   (threshold, permutations, shingles, LSH bands × rows): the registry's
   vectorized gates.minhash, and datasketch's MinHash (``MinHash.bulk``, shared
   permutations) + MinHashLSH (insertion session, a query per text, candidates
   verified with ``MinHash.jaccard``). Prints both throughputs, the ratio, and
   the recall of the pairs datasketch finds above the threshold.

No database: the cascade is pure (gates.cascade); Django is set up only for
the settings the gate modules import.
"""
import argparse
import time

from _setup import ROOT  # noqa: F401  (puts the project on sys.path)


def datasketch_pairs(texts, threshold, num_perm, shingle_size, params):
    """Pairs (i < j) datasketch finds at or above ``threshold``, with the same
    normalization and shingles as gates.minhash."""
    from datasketch import MinHash, MinHashLSH

    def shingles(text):
        words = text.lower().split()
        if len(words) < shingle_size:
            return [" ".join(words).encode()]
        return [" ".join(words[i : i + shingle_size]).encode() for i in range(len(words) - shingle_size + 1)]

    sketches = MinHash.bulk([shingles(t) for t in texts], num_perm=num_perm, seed=1)
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, params=params)
    with lsh.insertion_session() as session:
        for i, sketch in enumerate(sketches):
            session.insert(i, sketch, check_duplication=False)
    found = {}
    for i, sketch in enumerate(sketches):
        for j in lsh.query(sketch):
            if j > i and (similarity := sketch.jaccard(sketches[j])) >= threshold:
                found[(i, j)] = similarity
    return found


def registry_pairs(texts, threshold, num_perm, shingle_size, params):
    from gates import minhash

    sigs = minhash.signatures(texts, num_perm=num_perm, shingle_size=shingle_size, seed=1)
    bands, rows = params
    return {(i, j): s for i, j, s in minhash.candidate_pairs(sigs, threshold, bands=bands, rows=rows)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--num-perm", type=int, default=128)
    parser.add_argument("--shingle-size", type=int, default=3)
    parser.add_argument("--skip-datasketch", action="store_true", help="only the cascade")
    args = parser.parse_args()

    import django

    django.setup()
    from gates import cascade, minhash, planted
    from gates.base import GATES

    start = time.perf_counter()
    pool = planted.generate(args.n, seed=args.seed)
    print(f"planted pool: {len(pool.pool):,} texts, anchor {len(pool.anchor):,} "
          f"({time.perf_counter() - start:.1f} s to generate)")
    print("plants: " + ", ".join(f"{kind} {len(indices):,}" for kind, indices in pool.truth.items()))

    steps = [(name, {}) for name in cascade.ORDER if name in GATES]
    steps += [(name, {}) for name in sorted(GATES) if name not in cascade.ORDER]
    near_params = dict(threshold=args.threshold, num_perm=args.num_perm, shingle_size=args.shingle_size)
    steps = [(name, near_params if name == "near_dup" else params) for name, params in steps]
    start = time.perf_counter()
    outcomes = cascade.run_cascade(pool.pool, pool.anchor, steps, seed=args.seed, modality="text",
                                   allowed_labels=pool.allowed_labels)
    total = time.perf_counter() - start
    scores = planted.score(pool, outcomes)
    print(f"\n| gate | in | out | seconds | rows/s | plants | caught | catch rate | false rejects | false rate |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for outcome in outcomes:
        s = scores[outcome.gate]
        rate = f"{s['catch_rate']:.1%}" if s["catch_rate"] is not None else "–"
        print(f"| {outcome.gate} | {outcome.count_in:,} | {outcome.count_out:,} | {outcome.seconds:.2f} | "
              f"{outcome.count_in / max(outcome.seconds, 1e-9):,.0f} | {s['plants']:,} | {s['caught']:,} | {rate} | "
              f"{s['false_rejects']:,} | {s['false_rate']:.2%} |")
    print(f"| **cascade** | {len(pool.pool):,} | {outcomes[-1].count_out:,} | **{total:.1f}** | "
          f"{len(pool.pool) / total:,.0f} | | | | | |")
    for outcome in outcomes:
        if outcome.metrics:
            shown = {k: v for k, v in outcome.metrics.items() if not isinstance(v, (list, dict))}
            print(f"  {outcome.gate} metrics: {shown}")

    if args.skip_datasketch:
        return
    texts = pool.pool.texts
    params = minhash.lsh_params(args.threshold, args.num_perm)
    print(f"\nnear duplicates on all {len(texts):,} texts: threshold {args.threshold}, {args.num_perm} permutations, "
          f"{args.shingle_size}-word shingles, LSH {params[0]} bands × {params[1]} rows")
    start = time.perf_counter()
    ours = registry_pairs(texts, args.threshold, args.num_perm, args.shingle_size, params)
    ours_seconds = time.perf_counter() - start
    start = time.perf_counter()
    theirs = datasketch_pairs(texts, args.threshold, args.num_perm, args.shingle_size, params)
    theirs_seconds = time.perf_counter() - start
    found = set(ours) & set(theirs)
    clear = {pair for pair, s in theirs.items() if s >= args.threshold + 0.05}
    print(f"registry (gates.minhash): {ours_seconds:.2f} s, {len(texts) / ours_seconds:,.0f} texts/s, "
          f"{len(ours):,} pairs")
    print(f"datasketch:               {theirs_seconds:.2f} s, {len(texts) / theirs_seconds:,.0f} texts/s, "
          f"{len(theirs):,} pairs")
    print(f"ratio: **{theirs_seconds / ours_seconds:.1f}×** datasketch's throughput")
    print(f"recall of datasketch's pairs: **{len(found) / max(1, len(theirs)):.4f}** "
          f"({len(found):,} of {len(theirs):,}); of those with datasketch similarity ≥ "
          f"{args.threshold + 0.05:.2f}: {len(found & clear) / max(1, len(clear)):.4f} ({len(clear):,} pairs)")


if __name__ == "__main__":
    main()
