"""Tabular data for monitors: building frames from registry rows or uploaded
files, typing them by a column definition, storing them once as Parquet under
MEDIA_ROOT (generated names, outside the web root) and reading them back."""
import hashlib
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
from django.conf import settings
from django.core.exceptions import ValidationError

from .models import ColumnType

UPLOAD_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}
# Columns every text version offers: the text, its label and its length in characters.
EXAMPLE_COLUMNS = ("text", "label", "length")
STORE_DIR = "monitoring"


def examples_frame(examples):
    """Example rows (a queryset) as a frame: text, label, length, and the keys of ``data``."""
    rows = list(examples.order_by("pk").values_list("text", "label", "data").iterator(chunk_size=5000))
    frame = pd.DataFrame.from_records(rows, columns=["text", "label", "data"])
    extra = pd.json_normalize([data if isinstance(data, dict) else {} for data in frame.pop("data")], max_level=0)
    frame["length"] = frame["text"].str.len()
    for name in extra.columns:
        if name not in frame.columns:
            frame[name] = extra[name].to_numpy()
    return frame


def upload_format(file_name):
    suffix = Path(file_name).suffix.lower()
    if suffix not in UPLOAD_FORMATS:
        raise ValidationError({"file": "The file name must end in .csv, .parquet or .jsonl."})
    return UPLOAD_FORMATS[suffix]


def _store_dir(kind):
    folder = Path(settings.MEDIA_ROOT) / STORE_DIR / kind
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def read_upload(chunks, file_name):
    """Spool the upload to a generated name (size-limited), parse it, delete it."""
    format = upload_format(file_name)
    spool = _store_dir("incoming") / f"{uuid.uuid4().hex}.{format}"
    size = 0
    try:
        with open(spool, "xb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > settings.MAX_UPLOAD_BYTES:
                    raise ValidationError({"file": f"Larger than the {settings.MAX_UPLOAD_BYTES:,}-byte upload limit."})
                out.write(chunk)
        try:
            if format == "csv":
                return pd.read_csv(spool)
            if format == "parquet":
                return pd.read_parquet(spool)
            return pd.read_json(spool, lines=True)
        except Exception as error:  # the parsers raise many types for malformed files
            raise ValidationError({"file": f"Unreadable {format} file: {str(error)[:200]}"}) from None
    finally:
        spool.unlink(missing_ok=True)


def validate_columns(columns, available=None):
    """A column definition: a non-empty list of {"name", "type"}; names unique
    (and present in ``available`` when given)."""
    if not isinstance(columns, list) or not columns:
        raise ValidationError({"columns": "Give at least one column as {\"name\": ..., \"type\": ...}."})
    seen = set()
    for index, column in enumerate(columns):
        if not isinstance(column, dict) or not isinstance(column.get("name"), str) or not column["name"]:
            raise ValidationError({"columns": f"Column {index + 1}: needs a name."})
        if column.get("type") not in ColumnType.values:
            raise ValidationError(
                {"columns": f"Column {column['name']!r}: type must be one of {', '.join(ColumnType.values)}."}
            )
        if column["name"] in seen:
            raise ValidationError({"columns": f"Column {column['name']!r} is listed twice."})
        if available is not None and column["name"] not in available:
            raise ValidationError({"columns": f"Column {column['name']!r} is not in the data."})
        seen.add(column["name"])
    return [{"name": column["name"], "type": column["type"]} for column in columns]


def infer_columns(frame):
    """A default definition: numbers numeric, datetimes datetime, long or
    high-cardinality strings text, other strings categorical."""
    columns = []
    for name in frame.columns:
        series = frame[name]
        if pd.api.types.is_bool_dtype(series):
            kind = ColumnType.CATEGORICAL
        elif pd.api.types.is_numeric_dtype(series):
            kind = ColumnType.NUMERIC
        elif pd.api.types.is_datetime64_any_dtype(series):
            kind = ColumnType.DATETIME
        else:
            strings = series.dropna().astype(str)
            long_text = strings.str.len().mean() > 40 if len(strings) else False
            kind = ColumnType.TEXT if long_text or strings.nunique() > max(50, len(strings) // 2) else ColumnType.CATEGORICAL
        columns.append({"name": str(name), "type": kind.value})
    return columns


def typed(frame, columns):
    """The frame's defined columns, cast to their types (unparseable -> missing)."""
    missing = [column["name"] for column in columns if column["name"] not in frame.columns]
    if missing:
        raise ValidationError({"columns": f"Missing column(s) in the data: {', '.join(missing)}."})
    out = {}
    for column in columns:
        series = frame[column["name"]]
        kind = column["type"]
        if kind == ColumnType.NUMERIC:
            out[column["name"]] = pd.to_numeric(series, errors="coerce").astype("float64")
        elif kind == ColumnType.DATETIME:
            out[column["name"]] = pd.to_datetime(series, errors="coerce", utc=True)
        else:
            strings = series.astype(str).astype(object)
            strings[series.isna().to_numpy()] = None
            out[column["name"]] = strings
    return pd.DataFrame(out)


def store_frame(frame, kind):
    """Write Parquet under MEDIA_ROOT/monitoring/<kind>/ with a generated name;
    returns (path relative to MEDIA_ROOT, sha256)."""
    relative = Path(STORE_DIR) / kind / f"{uuid.uuid4().hex}.parquet"
    target = Path(settings.MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(target, index=False)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    return str(relative), digest


def read_frame(relative, columns=None):
    return pd.read_parquet(Path(settings.MEDIA_ROOT) / relative, columns=columns)


def sample(frame, rows, seed):
    """At most ``rows`` rows, drawn uniformly without replacement with ``seed``."""
    if rows is None or len(frame) <= rows:
        return frame, False
    picked = np.sort(np.random.default_rng(seed).choice(len(frame), size=rows, replace=False))
    return frame.iloc[picked].reset_index(drop=True), True


def _number(value):
    return None if value is None or (isinstance(value, float) and not np.isfinite(value)) else float(value)


def column_stats(frame, columns):
    """Reference statistics per column, stored with the baseline version."""
    stats = {}
    for column in columns:
        series = frame[column["name"]]
        entry = {"count": int(series.notna().sum()), "missing": int(series.isna().sum())}
        if column["type"] == ColumnType.NUMERIC:
            values = series.dropna()
            if len(values):
                quantiles = values.quantile([0.05, 0.5, 0.95]).tolist()
                entry.update(mean=_number(values.mean()), std=_number(values.std()), min=_number(values.min()),
                             p05=_number(quantiles[0]), p50=_number(quantiles[1]), p95=_number(quantiles[2]),
                             max=_number(values.max()))
        elif column["type"] == ColumnType.CATEGORICAL:
            shares = series.value_counts(normalize=True, dropna=True)
            entry.update(distinct=int(len(shares)), top={str(k): round(float(v), 6) for k, v in shares.head(20).items()})
        elif column["type"] == ColumnType.TEXT:
            lengths = series.dropna().str.len()
            entry.update(mean_length=_number(lengths.mean()) if len(lengths) else None)
        else:
            values = series.dropna()
            if len(values):
                entry.update(min=values.min().isoformat(), max=values.max().isoformat())
        stats[column["name"]] = entry
    return stats
