"""Feature matrices shared by the classifier gates (realism, label consistency)
and the column typing shared with ``gates.fidelity``. Pure: no database.

Vectorizers are fitted on all the rows given (real and synthetic together):
fitting is unsupervised, so it leaks no label into the cross-validation.
"""
import numbers

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

NUMERICAL, CATEGORICAL, BOOLEAN, SKIP = "numerical", "categorical", "boolean", "skip"
COLUMN_TYPES = (NUMERICAL, CATEGORICAL, BOOLEAN, SKIP)
# A string column whose real values are nearly all distinct is an identifier or
# free text: its category frequencies say nothing, so it is skipped.
ID_DISTINCT_SHARE, ID_MIN_ROWS = 0.9, 20


def _is_number(value):
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def infer_column_types(records, overrides=None):
    """{column: type} from the values seen in ``records`` (dicts; the real anchor),
    in first-seen column order; ``overrides`` ({column: type}) wins."""
    overrides = overrides or {}
    bad = {c: t for c, t in overrides.items() if t not in COLUMN_TYPES}
    if bad:
        raise ValueError(f"column_types: unknown type(s) {bad}; use one of {', '.join(COLUMN_TYPES)}")
    values = {}
    for record in records:
        for column, value in (record or {}).items():
            values.setdefault(column, [])
            if value is not None and not (isinstance(value, float) and np.isnan(value)):
                values[column].append(value)
    types = {}
    for column, seen in values.items():
        if column in overrides:
            types[column] = overrides[column]
        elif seen and all(isinstance(v, bool) for v in seen):
            types[column] = BOOLEAN
        elif seen and all(_is_number(v) for v in seen):
            types[column] = NUMERICAL
        elif len(seen) >= ID_MIN_ROWS and len(set(map(str, seen))) > ID_DISTINCT_SHARE * len(seen):
            types[column] = SKIP
        else:
            types[column] = CATEGORICAL
    return types


def classifier(C, seed):
    """The logistic regression both classifier gates use. saga with a loose tolerance: on
    long-text TF-IDF it is several times faster than liblinear or lbfgs (which crawl on
    the separable, label-shuffled null runs) and gives the same AUCs and probabilities to
    well within what the gates read."""
    return LogisticRegression(C=C, solver="saga", tol=1e-3, max_iter=2000, random_state=seed)


def text_matrix(texts, chars=True, max_features=50000):
    """TF-IDF of word 1-2 grams and, with ``chars``, character 2-4 grams (within words),
    stacked. Character grams see style (spelling, morphology) but cost ~6× the nonzeros."""
    texts = list(texts)
    blocks = [TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, max_features=max_features).fit_transform(texts)]
    if chars:
        blocks.append(TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True,
                                      max_features=max_features).fit_transform(texts))
    return sparse.hstack(blocks).tocsr()


def tabular_matrix(records, types):
    """Numerical columns standardized (missing → 0 plus a missing flag),
    categorical and boolean columns one-hot (missing is its own category)."""
    blocks = []
    for column, kind in types.items():
        raw = [(record or {}).get(column) for record in records]
        if kind == NUMERICAL:
            x = np.array([float(v) if _is_number(v) else np.nan for v in raw])
            missing = np.isnan(x)
            if missing.all():
                continue
            std = np.nanstd(x) or 1.0
            blocks.append(np.where(missing, 0.0, (x - np.nanmean(x)) / std)[:, None])
            if missing.any():
                blocks.append(missing[:, None].astype(float))
        elif kind in (CATEGORICAL, BOOLEAN):
            keys = ["\0missing" if v is None else str(v) for v in raw]
            categories = {key: i for i, key in enumerate(sorted(set(keys)))}
            onehot = sparse.csr_matrix(
                (np.ones(len(keys)), (np.arange(len(keys)), [categories[k] for k in keys])),
                shape=(len(keys), len(categories)),
            )
            blocks.append(onehot)
    if not blocks:
        return sparse.csr_matrix((len(records), 1))
    return sparse.hstack([sparse.csr_matrix(b) for b in blocks]).tocsr()


def matrix(modality, parts, drop_columns=(), chars=True):
    """One feature matrix for the concatenated ``parts`` (each a ``Rows``) and
    the row offsets of each part in it."""
    offsets = np.cumsum([0] + [len(part) for part in parts])
    if modality == "tabular":
        records = [record for part in parts for record in (part.data or [{}] * len(part))]
        types = {c: t for c, t in infer_column_types(records).items() if c not in drop_columns and t != SKIP}
        return tabular_matrix(records, types), offsets
    return text_matrix([text for part in parts for text in part.texts], chars=chars), offsets
