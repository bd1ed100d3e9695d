"""Exact duplicates by normalized content hash, within the pool and against the real anchor."""
import hashlib

from gates.base import Param, Reject, gate


def normalized_hash(text, normalize):
    """Hash of the content after casefolding and collapsing whitespace (text
    modality), so copies differing only in case or spacing collide."""
    form = " ".join(text.casefold().split()) if normalize else text
    return hashlib.blake2b(form.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


@gate(
    "exact_dedup",
    "Exact duplicates",
    params={"normalize": Param(True), "against_anchor": Param(True)},
)
def exact_dedup(ctx):
    # Tabular rows arrive as canonical JSON: casefolding would merge distinct categories.
    normalize = ctx.params["normalize"] and ctx.modality != "tabular"
    anchor_ids = {}
    if ctx.anchor is not None and ctx.params["against_anchor"]:
        for anchor_id, text in zip(ctx.anchor.ids, ctx.anchor.texts):
            anchor_ids.setdefault(normalized_hash(text or "", normalize), anchor_id)
    digests = [normalized_hash(text or "", normalize) for text in ctx.pool.texts]
    kept = {}  # digest -> id of the lowest-id copy in the pool
    for digest, example_id in zip(digests, ctx.pool.ids):
        if digest not in anchor_ids and (digest not in kept or example_id < kept[digest]):
            kept[digest] = example_id
    rejects = []
    for index, (digest, example_id) in enumerate(zip(digests, ctx.pool.ids)):
        if digest in anchor_ids:
            rejects.append(Reject(index, f"Exact copy of real anchor example id {anchor_ids[digest]}.",
                                  {"anchor_id": anchor_ids[digest], "hash": digest}))
        elif kept[digest] != example_id:
            rejects.append(Reject(index, f"Exact duplicate of example id {kept[digest]}.",
                                  {"kept": kept[digest], "hash": digest}))
    ctx.metrics.update(distinct=len(kept), anchor_hashes=len(anchor_ids))
    return rejects
