"""Copy evidence: how close synthetic rows sit to real ones, against how close
real rows sit to each other. Pure: no database. Shared by the realism gate
(on the rows it tests) and the fidelity report (on the accepted pool).

Tabular rows: DCR, the distance of a synthetic row to its closest real row,
Gower-style (the mean over columns of |a − b| / real range, capped at 1, for
numerical columns; a 0/1 mismatch otherwise; missing matches missing only). A
**near copy** is a synthetic row within a tenth of the real rows' median
leave-one-out DCR of some real row (a real row's typical nearest real
neighbour); the baseline is the share of real rows that close to another real
row. Texts: a near copy is a synthetic text whose estimated shingle Jaccard
with some real text is at least 0.8 (gates.minhash); the baseline, the share of
real texts with such a real twin.

``copy_excess`` = near-copy share − the real rows' own share: what a generator
adds beyond the duplicates real data already holds.
"""
import json

import numpy as np

from gates.features import NUMERICAL, column_values

DCR_MAX_SYNTHETIC, DCR_MAX_REAL, DCR_CHUNK = 2000, 20000, 64  # a chunk's temporaries: ~50 MB
NEAR_COPY_FRACTION = 0.1  # of the real rows' median nearest-neighbour distance
TEXT_NEAR_COPY_JACCARD = 0.8


def _dcr(query, reference, kinds, exclude=None):
    """Distance of each query row to its closest reference row (columns pre-scaled by
    ``_scaled``). ``exclude[i]`` is a reference row query row i may not match (itself,
    for the real-to-real baseline)."""
    n = len(next(iter(query.values()))) if query else 0
    out = np.empty(n)
    for start in range(0, n, DCR_CHUNK):
        stop = min(start + DCR_CHUNK, n)
        total = 0.0
        for name, kind in kinds.items():
            q, ref = query[name][start:stop, None], reference[name][None, :]
            if kind == NUMERICAL:
                qn, rn = np.isnan(q), np.isnan(ref)
                d = np.minimum(np.abs(np.nan_to_num(q) - np.nan_to_num(ref)), 1.0)
                total = total + np.where(qn & rn, 0.0, np.where(qn | rn, 1.0, d))
            else:
                total = total + (q != ref)
        total = total / len(kinds)
        if exclude is not None:
            total[np.arange(stop - start), exclude[start:stop]] = np.inf
        out[start:stop] = total.min(axis=1)
    return out


def _scaled(real, synthetic, kind):
    """Both sides of a column on the real range (numerical) or as shared integer codes
    (comparing codes is ~10× faster than comparing strings)."""
    if kind != NUMERICAL:
        codes = np.unique(np.concatenate([real, synthetic]).astype(str), return_inverse=True)[1].ravel()
        return codes[: len(real)], codes[len(real):]
    present = real[~np.isnan(real)]
    lo, span = (present.min(), np.ptp(present)) if len(present) else (0.0, 0.0)
    if span > 0:
        return (real - lo) / span, (synthetic - lo) / span
    # A constant real column: equal is 0, any other value a full mismatch.
    return (np.where(np.isnan(real), np.nan, 0.0),
            np.where(np.isnan(synthetic), np.nan, (synthetic != lo).astype(float)))


def _canonical(record):
    return json.dumps(record or {}, sort_keys=True, default=str)


def tabular_copies(real_records, synthetic_records, kinds, rng):
    """DCR figures and copy shares of the synthetic rows against the real ones over the
    columns ``kinds`` ({column: type}, identifiers left out). Up to DCR_MAX_SYNTHETIC
    synthetic rows against up to DCR_MAX_REAL real rows (seeded); exact copies (the whole
    data dict equal to a real row's) over all rows."""
    real_set = {_canonical(r) for r in real_records}
    copies = sum(_canonical(r) in real_set for r in synthetic_records)
    result = {"exact_copy_share": copies / len(synthetic_records) if synthetic_records else None,
              "dcr_median": None, "dcr_q05": None, "dcr_zero_share": None, "real_dcr_median": None,
              "near_copy_distance": None, "near_copy_share": None, "real_near_copy_share": None,
              "copy_excess": None, "n_compared": 0}
    if not kinds or not real_records or not synthetic_records:
        return result
    real_idx = np.sort(rng.choice(len(real_records), min(len(real_records), DCR_MAX_REAL), replace=False))
    syn_idx = np.sort(rng.choice(len(synthetic_records), min(len(synthetic_records), DCR_MAX_SYNTHETIC),
                                 replace=False))
    reference, query = {}, {}
    for name, kind in kinds.items():
        r, s = _scaled(column_values(real_records, name, kind), column_values(synthetic_records, name, kind), kind)
        reference[name], query[name] = r[real_idx], s[syn_idx]
    dcr = _dcr(query, reference, kinds)
    result.update(dcr_median=float(np.median(dcr)), dcr_q05=float(np.quantile(dcr, 0.05)),
                  dcr_zero_share=float(np.mean(dcr == 0)), n_compared=len(syn_idx))
    if len(real_idx) > 1:
        # Baseline: how close real rows are to each other (leave-one-out).
        probe = np.arange(min(len(real_idx), DCR_MAX_SYNTHETIC))
        real_dcr = _dcr({n: c[probe] for n, c in reference.items()}, reference, kinds, exclude=probe)
        distance = NEAR_COPY_FRACTION * float(np.median(real_dcr))
        near, real_near = float(np.mean(dcr <= distance)), float(np.mean(real_dcr <= distance))
        result.update(real_dcr_median=float(np.median(real_dcr)), near_copy_distance=distance,
                      near_copy_share=near, real_near_copy_share=real_near, copy_excess=near - real_near)
    return result


def normalized_text(text):
    """A text as compared for exact copies: casefolded, whitespace collapsed."""
    return " ".join((text or "").casefold().split())


def text_copies(real_texts, synthetic_texts, rng):
    """Exact copies (after casefolding and collapsing whitespace; all texts) and near
    copies (MinHash; up to DCR_MAX_SYNTHETIC synthetic against up to DCR_MAX_REAL real
    texts, seeded) of the synthetic texts against the real ones."""
    from gates import minhash

    real_set = {normalized_text(t) for t in real_texts}
    copies = sum(normalized_text(t) in real_set for t in synthetic_texts)
    result = {"exact_copy_share": copies / len(synthetic_texts) if synthetic_texts else None,
              "near_copy_share": None, "real_near_copy_share": None, "copy_excess": None, "n_compared": 0}
    if not real_texts or not synthetic_texts:
        return result
    real = [real_texts[i] for i in np.sort(rng.choice(len(real_texts), min(len(real_texts), DCR_MAX_REAL),
                                                      replace=False))]
    syn = [synthetic_texts[i] for i in np.sort(rng.choice(len(synthetic_texts),
                                                          min(len(synthetic_texts), DCR_MAX_SYNTHETIC),
                                                          replace=False))]
    real_sigs, syn_sigs = minhash.signatures(real), minhash.signatures(syn)
    near = {i for i, _, _ in minhash.candidate_pairs(syn_sigs, TEXT_NEAR_COPY_JACCARD, other=real_sigs)}
    twins = {k for i, j, _ in minhash.candidate_pairs(real_sigs, TEXT_NEAR_COPY_JACCARD) for k in (i, j)}
    result.update(near_copy_share=len(near) / len(syn), real_near_copy_share=len(twins) / len(real),
                  copy_excess=len(near) / len(syn) - len(twins) / len(real), n_compared=len(syn))
    return result


def copies_agree(copies, min_copy_share):
    """Whether the copy evidence says synthetic rows copy real ones: an exact copy, or a
    near-copy share above the real rows' own by more than ``min_copy_share``."""
    excess = copies.get("copy_excess")
    return bool(copies.get("exact_copy_share")) or (excess is not None and excess > min_copy_share)
