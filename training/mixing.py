"""The heavy half of a mix build: load the candidate rows as arrays, pick the
rows under the ratio cap, bulk-insert the selection, hash the result."""
import hashlib
import io
import json
from dataclasses import dataclass

import numpy as np
from django.db import connection

from registry.choices import Origin

from .models import MixExample
from .sampling import length_bands, stratified_sample, synthetic_allowance

POOL_SQL = (
    "SELECT id, version_id, origin, label, LENGTH(text), COALESCE(seed_example_id, 0) "
    "FROM registry_example WHERE version_id IN ({ids})"
)


@dataclass
class Pool:
    """All candidate rows of the components, one array per column."""

    ids: np.ndarray
    version_ids: np.ndarray
    synthetic: np.ndarray  # bool
    label_codes: np.ndarray
    labels: list  # code -> label text
    lengths: np.ndarray
    seeds: np.ndarray  # seed example id, 0 when none

    def __len__(self):
        return len(self.ids)


POOL_COLUMNS = ["id", "version_id", "origin", "label", "length", "seed"]


def _pool_frame(sql):
    """The pool as a DataFrame: streamed with COPY ... CSV on PostgreSQL (several
    times faster than a million Python tuples), fetched row by row elsewhere."""
    import pandas as pd  # only where a mix is built: the web process never loads pandas

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
                data = b"".join(bytes(chunk) for chunk in copy)
            return pd.read_csv(
                io.BytesIO(data), names=POOL_COLUMNS, header=None, keep_default_na=False,
                dtype={"origin": str, "label": str},
            )
        cursor.execute(sql)
        return pd.DataFrame.from_records(cursor.fetchall(), columns=POOL_COLUMNS)


def load_pool(version_ids):
    import pandas as pd

    frame = _pool_frame(POOL_SQL.format(ids=", ".join(str(int(v)) for v in version_ids)))
    # Hash-based factorizing: several times faster than sorting a million strings.
    label_codes, labels = pd.factorize(frame["label"].astype(object), sort=True)
    return Pool(
        ids=frame["id"].to_numpy(dtype=np.int64),
        version_ids=frame["version_id"].to_numpy(dtype=np.int64),
        synthetic=(frame["origin"] == Origin.SYNTHETIC.value).to_numpy(),
        label_codes=label_codes.astype(np.int64),
        labels=list(labels),
        lengths=frame["length"].fillna(0).to_numpy(dtype=np.int64),
        seeds=frame["seed"].to_numpy(dtype=np.int64),
    )


@dataclass
class Selection:
    keep: np.ndarray  # bool per pool row
    cap: float | None
    allowance: int

    @property
    def synthetic_kept(self):
        return int(self.keep.sum())


def select_rows(pool, *, cap, seed):
    """Keep every real row; downsample synthetic rows to the cap, stratified
    by label and by cluster (seed example x length band)."""
    real_count = int((~pool.synthetic).sum())
    synthetic_idx = np.flatnonzero(pool.synthetic)
    allowance = synthetic_allowance(cap=cap, real_count=real_count, synthetic_pool=len(synthetic_idx))
    keep = ~pool.synthetic.copy()
    if allowance >= len(synthetic_idx):
        keep[synthetic_idx] = True
    elif allowance > 0:
        bands = length_bands(pool.lengths[synthetic_idx])
        # Rows from one seed in one length band are the near-duplicates the cap should thin first.
        clusters = pool.seeds[synthetic_idx] * 8 + bands
        chosen = stratified_sample(pool.label_codes[synthetic_idx], clusters, allowance, seed)
        keep[synthetic_idx[chosen]] = True
    return Selection(keep=keep, cap=cap, allowance=allowance)


def label_distribution(pool, mask):
    """{label: {"real": n, "synthetic": n}} for the rows in ``mask``."""
    size = len(pool.labels)
    real = np.bincount(pool.label_codes[mask & ~pool.synthetic], minlength=size)
    synthetic = np.bincount(pool.label_codes[mask & pool.synthetic], minlength=size)
    return {
        label: {"real": int(real[i]), "synthetic": int(synthetic[i])}
        for i, label in enumerate(pool.labels)
        if real[i] or synthetic[i]
    }


def counts_by_version(pool, mask):
    versions, counts = np.unique(pool.version_ids[mask], return_counts=True)
    return dict(zip(versions.tolist(), counts.tolist()))


def selection_sha256(example_ids):
    """Hash of the sorted selected example ids (one decimal id per line)."""
    text = "\n".join(map(str, np.sort(example_ids).tolist()))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def canonical_hash(manifest):
    data = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def insert_mix_examples(mix_id, example_ids, *, batch_size=20000):
    """Bulk-insert the selection: COPY on PostgreSQL, batched executemany elsewhere."""
    table = MixExample._meta.db_table
    ids = example_ids.tolist()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            prefix = f"{mix_id}\t"
            buffer = io.StringIO()
            for start in range(0, len(ids), batch_size):
                chunk = ids[start:start + batch_size]
                buffer.write(prefix + ("\n" + prefix).join(map(str, chunk)) + "\n")
            with cursor.cursor.copy(f"COPY {table} (mix_id, example_id) FROM STDIN") as copy:
                copy.write(buffer.getvalue())
            return
        sql = f"INSERT INTO {table} (mix_id, example_id) VALUES (%s, %s)"
        for start in range(0, len(ids), batch_size):
            cursor.executemany(sql, [(mix_id, pk) for pk in ids[start:start + batch_size]])
