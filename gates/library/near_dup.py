"""Near-duplicate clustering: MinHash + LSH on word shingles (gates.minhash),
clusters as connected components of the similar pairs, one survivor per
cluster (the lowest id)."""
import numpy as np

from gates import minhash
from gates.base import Param, Reject, gate


@gate(
    "near_dup",
    "Near-duplicate clustering",
    params={
        "threshold": Param(0.8, 0.1, 1.0),  # estimated Jaccard of the shingle sets
        "num_perm": Param(128, 16, 1024),
        "shingle_size": Param(3, 1, 20),
        # MinHash seed: fixed apart from the run's seed so signatures stay comparable across runs.
        "seed": Param(1, 0, 2**31 - 1),
        # LSH banding weighs missed pairs against extra candidates (see minhash.lsh_params).
        "false_negative_weight": Param(0.9, 0.5, 0.99),
    },
)
def near_dup(ctx):
    p = ctx.params
    n = len(ctx.pool)
    bands, rows = minhash.lsh_params(p["threshold"], p["num_perm"], p["false_negative_weight"])
    ctx.metrics.update(bands=bands, rows=rows)
    if n < 2:
        ctx.metrics.update(candidate_pairs=0, clusters=0, largest_cluster=n, distinct_signatures=n)
        return []
    sigs = minhash.signatures(ctx.pool.texts, p["num_perm"], p["shingle_size"], p["seed"])
    # Identical signatures are linked to one representative instead of pairing
    # them all (a bucket of m copies would cost m² pairs).
    first, inverse = minhash.distinct_rows(sigs)
    found = minhash.candidate_pairs(sigs[first], p["threshold"], bands=bands, rows=rows)
    pairs = np.array([(i, j) for i, j, _ in found], dtype=np.int64).reshape(-1, 2)
    left = np.concatenate((np.arange(n), first[pairs[:, 0]]))
    right = np.concatenate((first[inverse], first[pairs[:, 1]]))
    from scipy.sparse import coo_matrix  # scipy loads only when the gate runs
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(left), np.int8), (left, right)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    ids = np.asarray(ctx.pool.ids)
    # Survivor per component: the member with the lowest id.
    order = np.lexsort((ids, component))
    head = np.ones(n, bool)
    head[1:] = component[order][1:] != component[order][:-1]
    survivor = np.empty(component.max() + 1, np.int64)
    survivor[component[order][head]] = order[head]
    sizes = np.bincount(component)
    # Clusters of two or more, numbered by their survivor's id.
    clustered = np.flatnonzero(sizes > 1)
    number = np.zeros(len(sizes), np.int64)
    number[clustered[np.argsort(ids[survivor[clustered]], kind="stable")]] = np.arange(1, len(clustered) + 1)
    members = np.flatnonzero(survivor[component] != np.arange(n))
    kept = survivor[component[members]]
    similarity = (sigs[members] == sigs[kept]).mean(axis=1) if len(members) else np.zeros(0)
    ctx.metrics.update(candidate_pairs=len(pairs), clusters=len(clustered),
                       largest_cluster=int(sizes.max()), distinct_signatures=len(first))
    return [
        Reject(int(i), f"Near duplicate of example id {ids[k]} (estimated Jaccard {s:.2f}).",
               {"cluster": int(number[component[i]]), "kept": int(ids[k]), "similarity": round(float(s), 4)})
        for i, k, s in zip(members.tolist(), kept.tolist(), similarity.tolist())
    ]
