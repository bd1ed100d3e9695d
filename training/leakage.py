"""Finding leaks between an evaluation version and training candidates.

Exact and seed overlaps are set-based INSERT ... SELECT joins (content-hash
index, seed_example FK index); near duplicates reuse the gates' MinHash + LSH,
streaming the candidates in id-ordered chunks so memory stays flat.
"""
import json

from django.db import connection

from registry.lineage import canonical_data

from .models import LeakagePair, LeakKind

EXAMPLE = "registry_example"
PAIR = LeakagePair._meta.db_table
DEFAULT_PARAMS = {"threshold": 0.8, "num_perm": 128, "shingle_size": 5, "chunk_size": 50000}


def _ids(version_ids):
    return ", ".join(str(int(v)) for v in version_ids)


# How a training row t meets an eval item e, per set-based pair kind.
JOINS = {
    LeakKind.EXACT: "t.content_hash = e.content_hash",  # the content-hash index
    LeakKind.SEED: "t.seed_example_id = e.id",  # the seed_example FK index
}


def insert_joined_pairs(kind, scan_id, eval_version_id, candidate_ids):
    """Store every pair of one kind with a single INSERT ... SELECT join."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {PAIR} (scan_id, kind, eval_example_id, training_example_id, similarity) "
            f"SELECT %s, %s, e.id, t.id, 1.0 FROM {EXAMPLE} e JOIN {EXAMPLE} t ON {JOINS[kind]} "
            f"WHERE e.version_id = %s AND t.version_id IN ({_ids(candidate_ids)})",
            [scan_id, kind.value, eval_version_id],
        )


def _text(text, data):
    """What MinHash shingles: the text, or a tabular row's canonical JSON."""
    if text:
        return text
    if isinstance(data, str):  # SQLite hands JSON columns back as text
        data = json.loads(data)
    return canonical_data(data) if data is not None else ""


def _load_rows(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def near_pairs(eval_version_id, candidate_ids, params, progress=None):
    """Yield LeakagePair-ready (eval_id, training_id, similarity) lists, one per
    chunk of candidates; exact copies are skipped (already exact pairs)."""
    from gates import minhash

    sig_args = {"num_perm": params["num_perm"], "shingle_size": params["shingle_size"]}
    eval_rows = _load_rows(
        f"SELECT id, text, data, content_hash FROM {EXAMPLE} WHERE version_id = %s ORDER BY id", [eval_version_id]
    )
    if not eval_rows:
        return
    eval_sigs = minhash.signatures([_text(r[1], r[2]) for r in eval_rows], **sig_args)
    last_id = 0
    while True:
        chunk = _load_rows(
            f"SELECT id, text, data, content_hash FROM {EXAMPLE} WHERE version_id IN ({_ids(candidate_ids)}) "
            f"AND id > %s ORDER BY id LIMIT %s",
            [last_id, params["chunk_size"]],
        )
        if not chunk:
            return
        last_id = chunk[-1][0]
        sigs = minhash.signatures([_text(r[1], r[2]) for r in chunk], **sig_args)
        found = []
        for i, j, similarity in minhash.candidate_pairs(eval_sigs, threshold=params["threshold"], other=sigs):
            if eval_rows[i][3] != chunk[j][3]:
                found.append((eval_rows[i][0], chunk[j][0], float(similarity)))
        if progress:
            progress(len(chunk))
        yield found
