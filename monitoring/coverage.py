"""Coverage: does production land where the training data has support?

Regions are KMeans clusters fitted (seeded) on the baseline, i.e. the training
data, over scaled numeric columns, one-hot categorical columns and TF-IDF ->
SVD text columns. A production point farther from its nearest centre than
that cluster's farthest training member falls "outside" every region (no
training support at all). A region is unsupported when its training share is
below ``min_support``; the run reports, per region, production share against
training share and the share of production in unsupported regions.
"""
import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from .models import ColumnType

OUTSIDE = "outside"


def _features(columns, rows):
    parts = []
    for column in columns:
        name, kind = column["name"], column["type"]
        if kind == ColumnType.NUMERIC:
            parts.append((name, StandardScaler(), [name]))
        elif kind == ColumnType.CATEGORICAL:
            parts.append((name, OneHotEncoder(handle_unknown="ignore", max_categories=50), [name]))
        elif kind == ColumnType.TEXT:
            components = max(2, min(20, rows - 1))
            text = make_pipeline(TfidfVectorizer(max_features=5000, sublinear_tf=True),
                                 TruncatedSVD(n_components=components, random_state=0))
            parts.append((name, text, name))
    if not parts:
        raise ValueError("no numeric, categorical or text column to cluster on")
    return ColumnTransformer(parts, sparse_threshold=0)


def _prepared(frame, columns):
    out = {}
    for column in columns:
        series = frame[column["name"]]
        if column["type"] == ColumnType.NUMERIC:
            out[column["name"]] = series.astype("float64")
        elif column["type"] in (ColumnType.CATEGORICAL, ColumnType.TEXT):
            out[column["name"]] = series.fillna("").astype(str)
    return pd.DataFrame(out)


def coverage(reference, current, *, columns, clusters, min_support, seed=0):
    columns = [column for column in columns if column["type"] != ColumnType.DATETIME]
    reference, current = _prepared(reference, columns), _prepared(current, columns)
    medians = reference.median(numeric_only=True)
    reference, current = reference.fillna(medians), current.fillna(medians)
    transformer = _features(columns, len(reference))
    train = transformer.fit_transform(reference)
    live = transformer.transform(current)
    k = min(clusters, len(reference))
    model = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(train)
    train_distance = model.transform(train).min(axis=1)
    radius = np.zeros(k)
    np.maximum.at(radius, model.labels_, train_distance)
    live_all = model.transform(live)
    live_region = live_all.argmin(axis=1)
    outside = live_all[np.arange(len(live)), live_region] > radius[live_region] + 1e-9
    train_share = np.bincount(model.labels_, minlength=k) / len(train)
    live_share = np.bincount(live_region[~outside], minlength=k) / max(len(live), 1)
    regions = [
        {"region": str(index), "training_share": round(float(train_share[index]), 6),
         "production_share": round(float(live_share[index]), 6), "supported": bool(train_share[index] >= min_support)}
        for index in range(k)
    ]
    outside_share = float(outside.mean()) if len(live) else 0.0
    regions.append({"region": OUTSIDE, "training_share": 0.0, "production_share": round(outside_share, 6),
                    "supported": False})
    uncovered = sum(region["production_share"] for region in regions if not region["supported"])
    return {"regions": regions, "uncovered_share": round(float(uncovered), 6), "clusters": k,
            "min_support": min_support}
