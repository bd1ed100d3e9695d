"""Fidelity of an accepted pool against its real anchor. Pure: no database.

Tabular figures follow SDMetrics' Quality Report so they are comparable with
it (KSComplement, TVComplement, CorrelationSimilarity, ContingencySimilarity,
BoundaryAdherence, CategoryAdherence; see docs/gates.md for the formulas), plus
a distance-to-closest-record privacy check. Text figures compare length,
vocabulary and diversity, overall and per label.

``evaluate`` returns a JSON-safe dict: floats rounded to 6 places, never NaN.
``None`` means "not computable here" — an empty side, a constant column for a
correlation, a label with fewer than two texts — and is left out of averages.
scipy and scikit-learn load inside the functions that use them (only when a run ends).
"""
import itertools
import re
from collections import Counter

import numpy as np

from gates.features import MISSING, NUMERICAL, SKIP, column_values, infer_column_types
from gates.privacy import normalized_text, tabular_copies, text_copies

KS_DECIMALS = 14  # SDMetrics rounds to sys.float_info.dig - 1 places before the KS test
PAIR_BINS = 10  # numpy's default, as in SDMetrics' Column Pair Trends
# SDMetrics' Quality Report (0.32) averages only the pairs related in the real data.
REAL_CORRELATION_THRESHOLD, REAL_ASSOCIATION_THRESHOLD = 0.5, 0.3
HIST_BINS, TOP_CATEGORIES, WORST_COLUMNS = 20, 12, 4
DISTINCT_SAMPLE, COSINE_SAMPLE = 1000, 300
WORST_PAIRS = 5
# The real-vs-real baseline compares two halves of the anchor, of at least and at most this many rows.
BASELINE_MIN_ROWS, BASELINE_MAX_ROWS = 10, 5000
WORD = re.compile(r"\w+")
SENTENCE_END = re.compile(r"[.!?]+(?:\s+|$)|\n+")


# --- SDMetrics' single-column and column-pair metrics -----------------------------------------

def ks_complement(real, synthetic):
    """1 − two-sample Kolmogorov–Smirnov D over non-missing values."""
    from scipy.stats import ks_2samp

    real, synthetic = real[~np.isnan(real)].round(KS_DECIMALS), synthetic[~np.isnan(synthetic)].round(KS_DECIMALS)
    if not len(real) or not len(synthetic):
        return None
    # The statistic is the same for every method; "asymp" skips the exact p-value's cost.
    return 1.0 - float(ks_2samp(real, synthetic, method="asymp").statistic)


def _shares(values):
    keys, counts = np.unique(values, return_counts=True)
    return dict(zip(keys.tolist(), (counts / counts.sum()).tolist()))


def tv_complement(real, synthetic):
    """1 − ½ Σ_c |R_c − S_c| over the categories c of either side, missing values dropped."""
    real, synthetic = real[real != MISSING], synthetic[synthetic != MISSING]
    if not len(real) or not len(synthetic):
        return None
    r, s = _shares(real), _shares(synthetic)
    return 1.0 - 0.5 * sum(abs(r.get(c, 0.0) - s.get(c, 0.0)) for c in r.keys() | s.keys())


def correlation_similarity(real_a, real_b, syn_a, syn_b):
    """(1 − |ρ_real − ρ_syn| / 2, ρ_real, ρ_syn), Pearson over the rows where both values are
    present; the score is None when a column is constant on either side or ρ is undefined."""
    def pearson(a, b):
        both = ~np.isnan(a) & ~np.isnan(b)
        a, b = a[both], b[both]
        return float(np.corrcoef(a, b)[0, 1]) if len(a) >= 2 and a.std() > 0 and b.std() > 0 else None

    def constant(x):
        return len(np.unique(x[~np.isnan(x)])) == 1

    if any(constant(x) for x in (real_a, real_b, syn_a, syn_b)):
        return None, None, None
    rho_real, rho_syn = pearson(real_a, real_b), pearson(syn_a, syn_b)
    if rho_real is None or rho_syn is None:
        return None, rho_real, rho_syn
    return 1.0 - abs(rho_real - rho_syn) / 2, rho_real, rho_syn


def _joint(a, b):
    return np.char.add(np.char.add(a.astype(str), "\x1f"), b.astype(str))


def contingency_similarity(real_a, real_b, syn_a, syn_b):
    """1 − ½ Σ_{a,b} |R_ab − S_ab| over the normalized 2-D contingency tables, missing as a category."""
    if not len(real_a) or not len(syn_a):
        return None
    r, s = _shares(_joint(real_a, real_b)), _shares(_joint(syn_a, syn_b))
    return 1.0 - 0.5 * sum(abs(r.get(c, 0.0) - s.get(c, 0.0)) for c in r.keys() | s.keys())


def cramers_v(a, b):
    """Cramér's V of the real contingency table (no continuity correction); None when
    either column has a single value."""
    from scipy.stats.contingency import association

    rows, row_index = np.unique(a.astype(str), return_inverse=True)
    cols, col_index = np.unique(b.astype(str), return_inverse=True)
    if len(rows) < 2 or len(cols) < 2:
        return None
    table = np.zeros((len(rows), len(cols)), dtype=int)
    np.add.at(table, (row_index, col_index), 1)
    return float(association(table, method="cramer"))


def discretize(values):
    """SDMetrics' Column Pair Trends binning: each side on its own 10 equal-width bins
    (np.histogram_bin_edges of its non-missing values, then np.digitize; missing lands
    past the last edge)."""
    present = values[~np.isnan(values)]
    return np.digitize(values, np.histogram_bin_edges(present, bins=PAIR_BINS))


def boundary_adherence(real, synthetic):
    """Share of non-missing synthetic values within [min real, max real]."""
    real, synthetic = real[~np.isnan(real)], synthetic[~np.isnan(synthetic)]
    if not len(real) or not len(synthetic):
        return None
    return float(np.mean((synthetic >= real.min()) & (synthetic <= real.max())))


def category_adherence(real, synthetic):
    """Share of synthetic values (missing included) that are a real category; a missing
    value counts as valid when the real column has missing values."""
    if not len(synthetic):
        return None
    return float(np.mean(np.isin(synthetic, np.unique(real))))


def _mean(values):
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


# --- Tabular ---------------------------------------------------------------------------------

def _short(x):
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def _histogram(kind, real, synthetic):
    """Binned shares of real and synthetic for an overlay picture."""
    if kind == NUMERICAL:
        r, s = real[~np.isnan(real)], synthetic[~np.isnan(synthetic)]
        both = np.concatenate([r, s])
        if not len(both):
            return []
        edges = np.histogram_bin_edges(both, bins=HIST_BINS)
        rc, sc = np.histogram(r, edges)[0], np.histogram(s, edges)[0]
        return [{"label": f"{_short(lo)}–{_short(hi)}", "real": rc[i] / max(len(r), 1),
                 "synthetic": sc[i] / max(len(s), 1)} for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:]))]
    r, s = _shares(real) if len(real) else {}, _shares(synthetic) if len(synthetic) else {}
    top = sorted(r, key=lambda c: (-r[c], c))[:TOP_CATEGORIES]
    top += sorted((c for c in s if c not in r), key=lambda c: (-s[c], c))[: max(0, TOP_CATEGORIES - len(top))]
    bins = [{"label": "(missing)" if c == MISSING else c, "real": r.get(c, 0.0), "synthetic": s.get(c, 0.0)}
            for c in top]
    other_r, other_s = 1 - sum(b["real"] for b in bins), 1 - sum(b["synthetic"] for b in bins)
    if other_r > 1e-9 or other_s > 1e-9:
        bins.append({"label": "(other)", "real": max(other_r, 0.0), "synthetic": max(other_s, 0.0)})
    return bins


def _column_shapes(real, syn, judged):
    """Each column's shape score (and adherence) of ``syn`` against ``real``."""
    columns = []
    for name, kind in judged.items():
        if kind == NUMERICAL:
            columns.append({"column": name, "type": kind, "metric": "KSComplement",
                            "score": ks_complement(real[name], syn[name]),
                            "boundary_adherence": boundary_adherence(real[name], syn[name])})
        else:
            columns.append({"column": name, "type": kind, "metric": "TVComplement",
                            "score": tv_complement(real[name], syn[name]),
                            "category_adherence": category_adherence(real[name], syn[name])})
    return columns


def _pair_trends(real, syn, judged, only=None):
    """Each column pair's trend score of ``syn`` against ``real``, with the real and
    synthetic correlation (numerical pairs) or Cramér's V (pairs with a discrete column);
    ``only``: the pairs to score (all by default)."""
    continuous = {n for n, k in judged.items() if k == NUMERICAL}
    # A contingency pair reads a numerical column through its bins.
    binned_real = {**real, **{n: discretize(real[n]) for n in continuous}}
    binned_syn = {**syn, **{n: discretize(syn[n]) for n in continuous}}
    pairs = []
    for a, b in itertools.combinations(judged, 2):
        if only is not None and (a, b) not in only:
            continue
        if a in continuous and b in continuous:
            score, rho_real, rho_syn = correlation_similarity(real[a], real[b], syn[a], syn[b])
            pairs.append({"columns": [a, b], "metric": "CorrelationSimilarity", "score": score,
                          "real_correlation": rho_real, "synthetic_correlation": rho_syn,
                          "meets_threshold": rho_real is not None and abs(rho_real) > REAL_CORRELATION_THRESHOLD})
        else:
            association_ = cramers_v(binned_real[a], binned_real[b])
            pairs.append({"columns": [a, b], "metric": "ContingencySimilarity",
                          "score": contingency_similarity(binned_real[a], binned_real[b], binned_syn[a], binned_syn[b]),
                          "real_association": association_,
                          "synthetic_association": cramers_v(binned_syn[a], binned_syn[b]),
                          "meets_threshold": association_ is not None and association_ > REAL_ASSOCIATION_THRESHOLD})
    return pairs


def _structure(real, syn, judged, related, rng):
    """The real-vs-real baseline: two disjoint halves of the anchor compared with each
    other, and a synthetic sample of the same size compared with the same half, on the
    pairs related in the whole anchor. Equal sample sizes make the two comparable (small
    samples score lower by chance); the ratios say how much of the real structure the
    synthetic rows keep."""
    n_real = len(next(iter(real.values()))) if real else 0
    n_syn = len(next(iter(syn.values()))) if syn else 0
    size = min(n_real // 2, n_syn, BASELINE_MAX_ROWS)
    if size < BASELINE_MIN_ROWS:
        return None
    order = rng.permutation(n_real)
    half, other = order[:size], order[size: 2 * size]
    picked = np.sort(rng.choice(n_syn, size, replace=False))

    def properties(reference, compared):
        pairs = _pair_trends(reference, compared, judged, only=related)
        return {"column_shapes": _mean(c["score"] for c in _column_shapes(reference, compared, judged)),
                "column_pair_trends": _mean(p["score"] for p in pairs)}

    reference = {n: c[half] for n, c in real.items()}
    real_vs_real = properties(reference, {n: c[other] for n, c in real.items()})
    synthetic_vs_real = properties(reference, {n: c[picked] for n, c in syn.items()})

    def ratio(key):
        base, value = real_vs_real[key], synthetic_vs_real[key]
        return value / base if base is not None and base > 1e-9 and value is not None else None

    return {"n_per_side": size, "real_vs_real": real_vs_real, "synthetic_vs_real": synthetic_vs_real,
            "column_shapes_ratio": ratio("column_shapes"), "pair_trends_ratio": ratio("column_pair_trends")}


def _worst_pairs(pairs):
    """The lowest-scoring pairs related in the real data, with both sides' figures."""
    related = sorted((p for p in pairs if p["meets_threshold"] and p["score"] is not None),
                     key=lambda p: (p["score"], p["columns"]))
    return [{key: p[key] for key in ("columns", "metric", "score", "real_correlation", "synthetic_correlation",
                                     "real_association", "synthetic_association") if key in p}
            for p in related[:WORST_PAIRS]]


def tabular_report(pool, anchor, seed=0, column_types=None):
    real_records, syn_records = list(anchor.data or []), list(pool.data or [])
    types = infer_column_types(real_records, column_types)
    judged = {name: kind for name, kind in types.items() if kind != SKIP}
    extra = sorted(set().union(*(set(r or {}) for r in syn_records)) - set(types)) if syn_records else []
    real = {n: column_values(real_records, n, k) for n, k in judged.items()}
    syn = {n: column_values(syn_records, n, k) for n, k in judged.items()}
    rng = np.random.default_rng(seed)

    columns = _column_shapes(real, syn, judged)
    pairs = _pair_trends(real, syn, judged)
    shapes = _mean(c["score"] for c in columns)
    trends = _mean(p["score"] for p in pairs if p["meets_threshold"])
    privacy = tabular_copies(real_records, syn_records, judged, rng)
    related = {tuple(p["columns"]) for p in pairs if p["meets_threshold"]}
    structure = _structure(real, syn, judged, related, rng)
    ranked = sorted((c for c in columns if c["score"] is not None), key=lambda c: (c["score"], c["column"]))
    worst = [{"column": c["column"], "type": c["type"], "metric": c["metric"], "score": c["score"],
              "bins": _histogram(c["type"], real[c["column"]], syn[c["column"]])} for c in ranked[:WORST_COLUMNS]]
    return {
        "summary": {
            "overall": _mean([shapes, trends]), "column_shapes": shapes, "column_pair_trends": trends,
            # Every pair, related in the real data or not (earlier SDMetrics releases averaged them all).
            "column_pair_trends_all_pairs": _mean(p["score"] for p in pairs),
            "boundary_adherence": _mean(c.get("boundary_adherence") for c in columns),
            "category_adherence": _mean(c.get("category_adherence") for c in columns),
            "dcr_median": privacy["dcr_median"], "dcr_zero_share": privacy["dcr_zero_share"],
            "exact_copy_share": privacy["exact_copy_share"], "copy_excess": privacy["copy_excess"],
            "column_shapes_ratio": structure and structure["column_shapes_ratio"],
            "pair_trends_ratio": structure and structure["pair_trends_ratio"],
        },
        "columns": columns,
        "pairs": pairs,
        "worst_pairs": _worst_pairs(pairs),
        "structure": structure,
        "privacy": privacy,
        "worst_columns": worst,
        "skipped_columns": [{"column": n, "reason": "identifier-like: nearly every real value is distinct"
                             if not (column_types or {}).get(n) else "skipped by override"}
                            for n, k in types.items() if k == SKIP],
        "unexpected_columns": extra,
    }


# --- Text ------------------------------------------------------------------------------------

def _tokens(text):
    return WORD.findall(text.lower())


def _sentences(text):
    return sum(1 for part in SENTENCE_END.split(text) if part.strip())


def _distribution(real, synthetic):
    real, synthetic = np.asarray(real, dtype=float), np.asarray(synthetic, dtype=float)
    if not len(real) or not len(synthetic):
        return {"real_mean": None, "synthetic_mean": None, "ks_complement": None, "wasserstein_std": None}
    from scipy.stats import wasserstein_distance

    std = real.std()
    return {
        "real_mean": real.mean(), "synthetic_mean": synthetic.mean(),
        "ks_complement": ks_complement(real, synthetic),
        # Earth mover's distance in real standard deviations: 0.5 = half a std apart on average.
        "wasserstein_std": wasserstein_distance(real, synthetic) / std if std > 0 else None,
    }


def _distinct(token_lists, n):
    grams = [tuple(tokens[i:i + n]) for tokens in token_lists for i in range(len(tokens) - n + 1)]
    return len(set(grams)) / len(grams) if grams else None


def _mean_cosine(vectors):
    """Mean cosine similarity over distinct pairs of l2-normalized rows:
    (‖Σ rows‖² − Σ ‖row‖²) / (k(k − 1))."""
    k = vectors.shape[0]
    if k < 2:
        return None
    total = np.asarray(vectors.sum(axis=0)).ravel()
    return float(total @ total - vectors.multiply(vectors).sum()) / (k * (k - 1))


class _Side:
    """Per-text figures of one side, computed once for the overall and the per-label blocks."""

    def __init__(self, rows):
        self.texts, self.labels = list(rows.texts), np.array(rows.labels, dtype=object)
        self.tokens = [_tokens(t) for t in self.texts]
        self.chars = np.array([len(t) for t in self.texts], dtype=float)
        self.words = np.array([len(t) for t in self.tokens], dtype=float)
        self.sentences = np.array([_sentences(t) for t in self.texts], dtype=float)
        self.normalized = [normalized_text(t) for t in self.texts]

    def rows(self, label=None):
        return np.arange(len(self.texts)) if label is None else np.flatnonzero(self.labels == label)


def _mean_cosines(real_texts, syn_texts):
    """Mean pairwise TF-IDF cosine within each side; the vectorizer is fitted on both samples."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if len(real_texts) < 2 or not any(_tokens(t) for t in real_texts + syn_texts):
        return None, None
    vectorizer = TfidfVectorizer(sublinear_tf=True, token_pattern=r"(?u)\b\w+\b").fit(real_texts + syn_texts)
    return _mean_cosine(vectorizer.transform(real_texts)), _mean_cosine(vectorizer.transform(syn_texts))


def _text_block(real, syn, real_rows, syn_rows, rng):
    real_vocab = set(itertools.chain.from_iterable(real.tokens[i] for i in real_rows))
    syn_counts = Counter(itertools.chain.from_iterable(syn.tokens[i] for i in syn_rows))
    syn_total = sum(syn_counts.values())
    union = real_vocab | syn_counts.keys()
    # Equal-size samples: distinct-n falls as a corpus grows, so sizes are matched.
    k = min(len(real_rows), len(syn_rows), DISTINCT_SAMPLE)
    real_pick, syn_pick = rng.choice(real_rows, k, replace=False), rng.choice(syn_rows, k, replace=False)
    c = min(len(real_rows), len(syn_rows), COSINE_SAMPLE)
    real_cos, syn_cos = rng.choice(real_rows, c, replace=False), rng.choice(syn_rows, c, replace=False)
    cosine_real, cosine_syn = _mean_cosines([real.texts[i] for i in real_cos], [syn.texts[i] for i in syn_cos])
    copies = {real.normalized[i] for i in real_rows}

    def diversity(side, pick, cosine):
        tokens = [side.tokens[i] for i in pick]
        return {"distinct_1": _distinct(tokens, 1), "distinct_2": _distinct(tokens, 2), "mean_pairwise_cosine": cosine}

    def lengths(attribute):
        return _distribution(getattr(real, attribute)[real_rows], getattr(syn, attribute)[syn_rows])

    return {
        "n_real": len(real_rows), "n_synthetic": len(syn_rows),
        "lengths": {"chars": lengths("chars"), "words": lengths("words"), "sentences": lengths("sentences")},
        "vocabulary": {
            "real_size": len(real_vocab), "synthetic_size": len(syn_counts),
            "jaccard": len(real_vocab & syn_counts.keys()) / len(union) if union else None,
            "oov_rate": (sum(n for w, n in syn_counts.items() if w not in real_vocab) / syn_total
                         if syn_total else None),
        },
        "diversity": {"real": diversity(real, real_pick, cosine_real),
                      "synthetic": diversity(syn, syn_pick, cosine_syn),
                      "sample_size": k, "cosine_sample_size": c},
        "exact_copy_share": (sum(syn.normalized[i] in copies for i in syn_rows) / len(syn_rows)
                             if len(syn_rows) else None),
    }


def text_report(pool, anchor, seed=0):
    rng = np.random.default_rng(seed)
    real, syn = _Side(anchor), _Side(pool)
    overall = _text_block(real, syn, real.rows(), syn.rows(), rng)
    per_label = {label: _text_block(real, syn, real.rows(label), syn.rows(label), rng)
                 for label in sorted(set(anchor.labels) | set(pool.labels)) if label}
    privacy = text_copies(real.texts, syn.texts, rng)
    return {
        "summary": {
            "length_ks_complement": overall["lengths"]["chars"]["ks_complement"],
            "words_ks_complement": overall["lengths"]["words"]["ks_complement"],
            "sentences_ks_complement": overall["lengths"]["sentences"]["ks_complement"],
            "vocabulary_jaccard": overall["vocabulary"]["jaccard"],
            "oov_rate": overall["vocabulary"]["oov_rate"],
            "distinct_2_real": overall["diversity"]["real"]["distinct_2"],
            "distinct_2_synthetic": overall["diversity"]["synthetic"]["distinct_2"],
            "mean_cosine_real": overall["diversity"]["real"]["mean_pairwise_cosine"],
            "mean_cosine_synthetic": overall["diversity"]["synthetic"]["mean_pairwise_cosine"],
            "exact_copy_share": overall["exact_copy_share"], "copy_excess": privacy["copy_excess"],
        },
        "overall": overall,
        "privacy": privacy,
        "per_label": per_label,
        "length_histogram": _histogram(NUMERICAL, real.chars, syn.chars),
    }


# --- Entry point -----------------------------------------------------------------------------

def _clean(value):
    """JSON-safe: numpy scalars to Python, NaN/inf to None, floats to 6 places."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return round(float(value), 6) if np.isfinite(value) else None
    return value


def evaluate(pool, anchor, modality, seed=0, column_types=None):
    """Fidelity of ``pool`` (the accepted synthetic rows) against ``anchor`` (real rows).

    ``column_types`` ({column: "numerical" | "categorical" | "boolean" | "skip"}) overrides
    the inferred tabular column types. Sampling (DCR, diversity) is seeded by ``seed``.
    """
    if modality == "tabular":
        body = tabular_report(pool, anchor, seed, column_types)
    elif modality == "text":
        body = text_report(pool, anchor, seed)
    else:
        raise ValueError(f"modality must be 'text' or 'tabular', got {modality!r}")
    return _clean({"modality": modality, "n_real": len(anchor), "n_synthetic": len(pool), "seed": seed, **body})
