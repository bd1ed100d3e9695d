"""Feature matrices shared by the classifier gates (realism, label consistency)
and the column typing shared with ``gates.fidelity``. Pure: no database.

Vectorizers and encoders are fitted on all the rows given (real and synthetic
together): fitting is unsupervised, so it leaks no label into the
cross-validation. scipy and scikit-learn are imported inside the functions that
use them: the gate registry is read at start-up, the classifiers only when a gate runs.
"""
import numbers

import numpy as np

NUMERICAL, CATEGORICAL, BOOLEAN, SKIP = "numerical", "categorical", "boolean", "skip"
COLUMN_TYPES = (NUMERICAL, CATEGORICAL, BOOLEAN, SKIP)
# A string column whose real values are nearly all distinct is an identifier or
# free text: its category frequencies say nothing, so it is skipped.
ID_DISTINCT_SHARE, ID_MIN_ROWS = 0.9, 20
MISSING = "\0missing"  # a missing category, as its own value
# HistGradientBoostingClassifier bins a categorical feature into at most 255 categories
# (its max_bins); rarer categories beyond that share one code.
MAX_CATEGORY_CODES = 255


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


def to_float(value):
    """A cell as a float; NaN when missing, boolean or not a number."""
    try:
        return float(value) if value is not None and not isinstance(value, bool) else np.nan
    except (TypeError, ValueError):
        return np.nan


def column_values(records, name, kind):
    """One column of ``records``: floats (NaN when missing) for a numerical column,
    strings (MISSING when missing) otherwise."""
    raw = [(record or {}).get(name) for record in records]
    if kind == NUMERICAL:
        return np.array([to_float(v) for v in raw], dtype=float)
    return np.array([MISSING if v is None else str(v) for v in raw], dtype=object)


def linear_classifier(C, seed):
    """The logistic regression of label consistency, of realism on text and of its
    linear second opinion on tables. saga with a loose tolerance: on long-text TF-IDF it
    is several times faster than liblinear or lbfgs and gives the same AUCs and
    probabilities to well within what the gates read."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, solver="saga", tol=1e-3, max_iter=2000, random_state=seed)


def boosting_classifier(categorical, seed):
    """scikit-learn's HistGradientBoostingClassifier with its defaults (100 trees of at
    most 31 leaves, learning rate 0.1) and native categorical splits on the columns
    flagged in ``categorical``: it sees interactions between columns that a linear
    model on one-hot and standardized columns cannot."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(categorical_features=categorical, random_state=seed)


def text_matrix(texts, chars=True, max_features=50000):
    """TF-IDF of word 1-2 grams and, with ``chars``, character 2-4 grams (within words),
    stacked. Character grams see style (spelling, morphology) but cost ~6× the nonzeros."""
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = list(texts)
    blocks = [TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, max_features=max_features).fit_transform(texts)]
    if chars:
        blocks.append(TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True,
                                      max_features=max_features).fit_transform(texts))
    return sparse.hstack(blocks).tocsr()


def tabular_matrix(records, types):
    """For the linear classifier: numerical columns standardized (missing → 0 plus a
    missing flag), categorical and boolean columns one-hot (missing is its own category)."""
    from scipy import sparse

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
            keys = [MISSING if v is None else str(v) for v in raw]
            categories = {key: i for i, key in enumerate(sorted(set(keys)))}
            onehot = sparse.csr_matrix(
                (np.ones(len(keys)), (np.arange(len(keys)), [categories[k] for k in keys])),
                shape=(len(keys), len(categories)),
            )
            blocks.append(onehot)
    if not blocks:
        return sparse.csr_matrix((len(records), 1))
    return sparse.hstack([sparse.csr_matrix(b) for b in blocks]).tocsr()


def tabular_codes(records, types):
    """For the boosted trees: (X, categorical) with numerical columns as floats (NaN
    when missing: the trees learn where missing values go) and categorical and boolean
    columns as integer codes of their categories, most frequent first (a missing value
    is its own category; beyond MAX_CATEGORY_CODES - 1 categories, the rarest share the
    last code). ``categorical`` flags the coded columns."""
    columns, categorical = [], []
    for column, kind in types.items():
        if kind == NUMERICAL:
            values = column_values(records, column, NUMERICAL)
            if np.isnan(values).all():
                continue
            columns.append(values)
            categorical.append(False)
        elif kind in (CATEGORICAL, BOOLEAN):
            keys, inverse, counts = np.unique(column_values(records, column, kind).astype(str), return_inverse=True,
                                              return_counts=True)
            rank = np.empty(len(keys), dtype=int)
            rank[np.lexsort((keys, -counts))] = np.arange(len(keys))  # by frequency, then name: stable codes
            columns.append(np.minimum(rank[inverse.ravel()], MAX_CATEGORY_CODES - 1).astype(float))
            categorical.append(True)
    if not columns:
        return np.zeros((len(records), 1)), np.zeros(1, dtype=bool)
    return np.column_stack(columns), np.array(categorical)


def tabular_types(parts, drop_columns=()):
    """(records, {column: type}): the rows of the concatenated ``parts`` (each a ``Rows``) and
    the columns the classifiers read (identifier-like and ``drop_columns`` left out)."""
    records = [record for part in parts for record in (part.data or [{}] * len(part))]
    types = {c: t for c, t in infer_column_types(records).items() if c not in drop_columns and t != SKIP}
    return records, types


def matrix(modality, parts, drop_columns=(), chars=True):
    """One feature matrix for the linear classifier over the concatenated ``parts``
    (each a ``Rows``), and the row offsets of each part in it."""
    offsets = np.cumsum([0] + [len(part) for part in parts])
    if modality == "tabular":
        return tabular_matrix(*tabular_types(parts, drop_columns)), offsets
    return text_matrix([text for part in parts for text in part.texts], chars=chars), offsets
