"""Seeded tabular cases from scikit-learn's bundled datasets (no network), for the
realism and fidelity tests, docs/gates.md's figures and benchmarks/gates.py.

Each table is a bundled dataset's columns (numbers rounded to 4 significant
digits) plus its target as a categorical column. It is split (seeded) into a
real **anchor** and a real **evaluation** set, and four synthetic pools are
built against the anchor:

- ``faithful``: a Gaussian copula fitted on the anchor, one per value of the
  categorical column (a class-conditional copula): rank-normal scores, their
  correlation, and each column's empirical quantiles (interpolated) to map back;
- ``shuffled``: every column of the anchor permuted independently: each
  column's distribution kept exactly, every relationship between columns broken;
- ``copies``: the faithful pool with a third of its rows replaced by copies of
  anchor rows; ``near_copies``: the same with every number of a copied row moved
  by 0.2% (exact deduplication no longer sees them, the distance to the closest
  record does);
- ``eval_rows``: the faithful pool with a tenth of its rows replaced by rows of
  the evaluation set.
"""
from dataclasses import dataclass, field

import numpy as np

# name -> (loader name in sklearn.datasets, categorical column, names of its values, pool rows per anchor row)
DATASETS = {
    "breast_cancer": ("load_breast_cancer", "diagnosis", ("malignant", "benign"), 1),
    # 178 rows: a pool twice the anchor's size gives the classifier enough synthetic rows to learn from.
    "wine": ("load_wine", "cultivar", ("barolo", "grignolino", "barbera"), 2),
}
CASES = ("faithful", "shuffled", "copies", "near_copies", "eval_rows")
NEAR_COPY_SHIFT = 1.002
COPY_SHARE, EVAL_SHARE = 1 / 3, 0.1


@dataclass
class Table:
    name: str
    label_column: str
    anchor: list  # dicts: the real anchor's rows
    evaluation: list  # dicts: the real evaluation set's rows
    pools: dict = field(default_factory=dict)  # case -> synthetic rows (dicts)
    planted: dict = field(default_factory=dict)  # case -> pool positions of the copied rows


def _round(value):
    return float(f"{value:.4g}")


def load(name):
    """(column names, numeric matrix, label column, labels as strings) of a bundled dataset."""
    import sklearn.datasets

    loader, label_column, label_names, _ = DATASETS[name]
    bunch = getattr(sklearn.datasets, loader)()
    columns = [c.replace(" ", "_").replace("/", "_") for c in bunch.feature_names]
    return columns, np.vectorize(_round)(bunch.data), label_column, np.array(label_names)[bunch.target]


def _records(columns, X, label_column, labels):
    return [{**dict(zip(columns, map(float, row))), label_column: str(label)} for row, label in zip(X, labels)]


def gaussian_copula(X, n, rng):
    """n rows from a Gaussian copula fitted on X (rows × numeric columns)."""
    from scipy.stats import norm

    m, d = X.shape
    scores = norm.ppf((np.argsort(np.argsort(X, axis=0, kind="stable"), axis=0) + 0.5) / m)
    correlation = np.corrcoef(scores, rowvar=False) if d > 1 else np.ones((1, 1))
    uniform = norm.cdf(rng.multivariate_normal(np.zeros(d), correlation, size=n, method="eigh"))
    return np.column_stack([np.quantile(X[:, j], uniform[:, j]) for j in range(d)])


def class_copula(X, labels, n, rng):
    """(rows, labels): n rows from one Gaussian copula per label, labels drawn at their shares."""
    values, counts = np.unique(labels, return_counts=True)
    drawn = rng.choice(values, size=n, p=counts / counts.sum())
    out = np.empty((n, X.shape[1]))
    for value in values:
        out[drawn == value] = gaussian_copula(X[labels == value], int((drawn == value).sum()), rng)
    return np.vectorize(_round)(out), drawn


def _replace(pool, rows, share, rng):
    """``pool`` with ``share`` of its positions (seeded) replaced by rows drawn from ``rows``."""
    positions = np.sort(rng.choice(len(pool), int(round(share * len(pool))), replace=False))
    sources = rng.choice(len(rows), len(positions), replace=len(positions) > len(rows))
    out = list(pool)
    for position, source in zip(positions, sources):
        out[position] = dict(rows[source])
    return out, positions.tolist()


def _nudged(record):
    return {k: _round(v * NEAR_COPY_SHIFT) if isinstance(v, float) else v for k, v in record.items()}


def build(name, *, seed=0, evaluation_share=0.25):
    """The Table of one bundled dataset with its pools (the dataset's pool factor × |anchor| rows)."""
    rng = np.random.default_rng(seed)
    pool_factor = DATASETS[name][3]
    columns, X, label_column, labels = load(name)
    order = rng.permutation(len(X))
    cut = int(round(len(X) * (1 - evaluation_share)))
    anchor_idx, eval_idx = np.sort(order[:cut]), np.sort(order[cut:])
    anchor = _records(columns, X[anchor_idx], label_column, labels[anchor_idx])
    table = Table(name, label_column, anchor, _records(columns, X[eval_idx], label_column, labels[eval_idx]))
    n = pool_factor * len(anchor)
    synthetic, drawn = class_copula(X[anchor_idx], labels[anchor_idx], n, rng)
    table.pools["faithful"] = _records(columns, synthetic, label_column, drawn)
    shuffled = [rng.permutation(np.tile(X[anchor_idx, j], pool_factor)) for j in range(len(columns))]
    table.pools["shuffled"] = _records(columns, np.column_stack(shuffled), label_column,
                                       rng.permutation(np.tile(labels[anchor_idx], pool_factor)))
    table.pools["copies"], table.planted["copies"] = _replace(table.pools["faithful"], anchor, COPY_SHARE, rng)
    table.pools["near_copies"] = [_nudged(r) if i in set(table.planted["copies"]) else r
                                  for i, r in enumerate(table.pools["copies"])]
    table.planted["near_copies"] = table.planted["copies"]
    table.pools["eval_rows"], table.planted["eval_rows"] = _replace(table.pools["faithful"], table.evaluation,
                                                                    EVAL_SHARE, rng)
    return table
