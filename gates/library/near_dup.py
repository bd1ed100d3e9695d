"""Near-duplicate clustering: MinHash + LSH on word shingles (gates.minhash),
clusters as connected components of the similar pairs, one survivor per
cluster (the lowest id).

Memory stays linear and small: the texts are sketched batch by batch into each
band's bucket keys and 8-bit compact signatures (minhash.sketch, ~190 bytes per
text at 128 permutations and 14 bands); pairs are found one band at a time."""
import numpy as np

from gates import minhash
from gates.base import Param, Reject, gate


def _components(n, left, right):
    """Connected component of each of ``n`` nodes given the edges (left, right)."""
    # scipy loads only when a gate runs: the registry of gates is read at start-up.
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(left), np.int8), (left, right)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


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
    sk = minhash.sketch(ctx.pool.texts, num_perm=p["num_perm"], shingle_size=p["shingle_size"], seed=p["seed"],
                        bands=bands, rows=rows)
    # Identical signatures are linked to one representative instead of pairing them all
    # (a bucket of m copies would cost m² pairs). Grouped by a 64-bit hash of the whole
    # signature: two different signatures collide with probability ~n²/2⁶⁵.
    _, first, inverse = np.unique(sk.identity, return_index=True, return_inverse=True)
    left, right = minhash.sketch_pairs(sk, p["threshold"], first)
    component = _components(n, np.concatenate((np.arange(n), first[left])),
                            np.concatenate((first[inverse.ravel()], first[right])))
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
    similarity = minhash.estimated_jaccard(sk.compact, members, kept)
    ctx.metrics.update(candidate_pairs=len(left), clusters=len(clustered),
                       largest_cluster=int(sizes.max()), distinct_signatures=len(first))
    return [
        Reject(int(i), f"Near duplicate of example id {ids[k]} (estimated Jaccard {s:.2f}).",
               {"cluster": int(number[component[i]]), "kept": int(ids[k]), "similarity": round(float(s), 4)})
        for i, k, s in zip(members.tolist(), kept.tolist(), similarity.tolist())
    ]
