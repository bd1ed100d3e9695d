"""Ratio caps and diversity-preserving downsampling, on numpy arrays.

Pure functions (no database), deterministic from a seed.
"""
import math

import numpy as np

LENGTH_BANDS = 4


def synthetic_allowance(*, cap, real_count, synthetic_pool):
    """The most synthetic rows a mix may hold: s / (real + s) <= cap.

    ``cap`` None means no component set one (keep the pool). The tiny epsilon
    keeps float noise (0.3 * 7 / 0.7 = 2.9999...) from costing a row."""
    if cap is None or cap >= 1:
        return synthetic_pool
    allowed = math.floor(cap * real_count / (1 - cap) + 1e-9)
    return min(synthetic_pool, allowed)


def length_bands(lengths, bands=LENGTH_BANDS):
    """Quantile band (0..bands-1) of each length: short, medium, long, very long."""
    if len(lengths) == 0:
        return np.zeros(0, dtype=np.int64)
    edges = np.quantile(lengths, np.linspace(0, 1, bands + 1)[1:-1])
    return np.searchsorted(edges, lengths, side="right").astype(np.int64)


def label_quotas(label_counts, k):
    """Rows to keep per label: every label keeps at least one row (when k allows),
    the rest proportionally to the pool (largest remainder, ties to the smaller code)."""
    label_counts = np.asarray(label_counts, dtype=np.int64)
    n, labels = int(label_counts.sum()), len(label_counts)
    if k >= n:
        return label_counts.copy()
    if k < labels:
        # Not enough room for every label: keep the k most frequent ones.
        quotas = np.zeros(labels, dtype=np.int64)
        quotas[np.argsort(-label_counts, kind="stable")[:k]] = 1
        return quotas
    spare = label_counts - 1
    share = (k - labels) * spare / max(int(spare.sum()), 1)
    quotas = np.floor(share).astype(np.int64)
    remainder = (k - labels) - int(quotas.sum())
    if remainder:
        order = np.lexsort((np.arange(labels), -(share - quotas)))
        quotas[order[:remainder]] += 1
    return quotas + 1


def stratified_sample(labels, clusters, k, seed):
    """Indices of ``k`` rows kept, stratified by label then spread over clusters.

    ``labels`` and ``clusters`` are integer codes per row (a cluster groups
    near-duplicates, e.g. rows generated from one seed in one length band).
    Within a label, rows are taken round-robin across its clusters in random
    order: the first row of every cluster before the second of any, so large
    clusters of near-duplicates shrink first and rare ones survive.
    """
    labels = np.asarray(labels, dtype=np.int64)
    clusters = np.asarray(clusters, dtype=np.int64)
    n = len(labels)
    if k >= n:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    tiebreak = rng.random(n)
    label_codes, label_of_row = np.unique(labels, return_inverse=True)
    cluster_codes, cluster_of_row = np.unique(clusters, return_inverse=True)
    group_of_row = label_of_row * len(cluster_codes) + cluster_of_row
    # Rank of each row within its (label, cluster) group, in random order.
    by_group = np.lexsort((tiebreak, group_of_row))
    sorted_groups = group_of_row[by_group]
    group_start = np.searchsorted(sorted_groups, sorted_groups, side="left")
    rank = np.empty(n, dtype=np.int64)
    rank[by_group] = np.arange(n) - group_start
    # Within each label: rows by (rank, random); keep the label's quota.
    order = np.lexsort((tiebreak, rank, label_of_row))
    sorted_labels = label_of_row[order]
    position = np.arange(n) - np.searchsorted(sorted_labels, sorted_labels, side="left")
    quotas = label_quotas(np.bincount(label_of_row, minlength=len(label_codes)), k)
    return np.sort(order[position < quotas[sorted_labels]])
