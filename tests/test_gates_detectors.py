"""The pure gates (format, exact dedup, PII, near duplicates) and the cascade
runner, on a planted pool with known defects. No database."""
import json
import random

import numpy as np
import pytest

from gates import cascade, minhash, planted
from gates.base import GATES, GateContext, Reject, Rows
from gates.cascade import CascadeError, run_cascade
from gates.library import pii

MINE = ["format", "exact_dedup", "pii", "near_dup"]


def rows(texts, labels=None, ids=None, data=None):
    ids = ids or list(range(1, len(texts) + 1))
    return Rows(ids=ids, texts=list(texts), labels=labels or [""] * len(texts), hashes=[""] * len(texts),
                data=data or [])


def run_gate(name, pool, anchor=None, modality="text", anchor_labels=(), **params):
    ctx = GateContext(pool=pool, anchor=anchor, params={**GATES[name].defaults(), **params}, seed=1,
                      modality=modality, allowed_labels=list(anchor_labels))
    return {r.index: r for r in GATES[name].func(ctx)}, ctx.metrics


@pytest.fixture(scope="module")
def planted_run():
    pool = planted.generate(4000, seed=11)
    outcomes = run_cascade(pool.pool, pool.anchor, [(name, {}) for name in MINE], seed=3, modality="text",
                           allowed_labels=pool.allowed_labels)
    return pool, outcomes


def test_each_gate_catches_its_plants_with_few_false_rejects(planted_run):
    pool, outcomes = planted_run
    scores = planted.score(pool, outcomes)
    for name in MINE:
        assert scores[name]["plants"] > 0, name
        assert scores[name]["catch_rate"] >= 0.95, (name, scores[name])
        assert scores[name]["false_rate"] <= 0.02, (name, scores[name])


def test_cascade_passes_survivors_on_and_reports_pool_indices(planted_run):
    pool, outcomes = planted_run
    assert outcomes[0].count_in == len(pool.pool)
    for before, after in zip(outcomes, outcomes[1:]):
        assert after.count_in == before.count_out
    rejected = [r.index for o in outcomes for r in o.rejects]
    assert len(rejected) == len(set(rejected))  # no row is rejected twice
    near = next(o for o in outcomes if o.gate == "near_dup")
    assert near.params == {**GATES["near_dup"].defaults()}
    assert {"bands", "rows", "clusters"} <= set(near.metrics)
    assert (near.metrics["bands"], near.metrics["rows"]) == minhash.lsh_params(0.8, 128, 0.9)
    reject = near.rejects[0]
    assert set(reject.details) == {"cluster", "kept", "similarity"}
    assert reject.details["kept"] < pool.pool.ids[reject.index]


def test_cascade_is_deterministic():
    pool = planted.generate(800, seed=5)

    def decisions():
        outcomes = run_cascade(pool.pool, pool.anchor, cascade.DEFAULT_STEPS[:4], seed=9, modality="text",
                               allowed_labels=pool.allowed_labels)
        return [(o.gate, o.count_out, [(r.index, r.reason, r.details) for r in o.rejects]) for o in outcomes]

    assert decisions() == decisions()
    assert planted.generate(800, seed=5).pool.texts == pool.pool.texts


def test_cascade_refuses_bad_steps_before_running_anything(monkeypatch):
    monkeypatch.setitem(GATES, "needs_real", GATES["format"].__class__(
        "needs_real", "Needs an anchor", lambda ctx: [], {}, needs_anchor=True))
    called = []
    with pytest.raises(CascadeError) as error:
        run_cascade(rows(["a b c"]), None, [
            ("format", {}), ("no_such_gate", {}), ("near_dup", {"threshold": 1.5, "bogus": 1}),
            ("near_dup", {"num_perm": "many"}), ("needs_real", {}),
        ], seed=1, modality="text", allowed_labels=[], on_step=called.append)
    messages = error.value.messages
    assert called == []
    assert any("step 2" in m and "unknown gate 'no_such_gate'" in m for m in messages)
    assert any("step 3 (near_dup)" in m and "threshold must be between 0.1 and 1.0, got 1.5" in m for m in messages)
    assert any("step 3 (near_dup)" in m and "unknown parameter 'bogus'" in m for m in messages)
    assert any("step 4 (near_dup)" in m and "num_perm must be an integer" in m for m in messages)
    assert any("step 5 (needs_real)" in m and "needs a real anchor" in m for m in messages)
    with pytest.raises(CascadeError, match="at least one gate"):
        run_cascade(rows(["x"]), None, [], seed=1, modality="text", allowed_labels=[])


def test_a_gate_returning_bad_indices_fails_the_run(monkeypatch):
    monkeypatch.setitem(GATES, "broken", GATES["format"].__class__(
        "broken", "Broken", lambda ctx: [Reject(5, "no such row")], {}))
    seen = []
    with pytest.raises(ValueError, match="broken"):
        run_cascade(rows(["a", "b"]), None, [("format", {}), ("broken", {})], seed=1, modality="text",
                    allowed_labels=[], on_step=seen.append)
    assert [o.gate for o in seen] == ["format"]  # what earlier gates decided was already handed on


def test_default_steps_per_use_cell():
    training = cascade.default_steps("training")
    assert [s["gate"] for s in training] == [n for n in cascade.ORDER if n in GATES]
    assert {"gate": "near_dup", "params": {"threshold": 0.7}} in cascade.default_steps("evaluation")
    assert "realism" not in [s["gate"] for s in cascade.default_steps("demo")]


# -- format --------------------------------------------------------------------

def test_format_gate_checks_content_length_labels_and_columns():
    pool = rows(["fine text", "", "   ", "x" * 50, "ok", "short"], labels=["a", "a", "a", "a", "Other", ""])
    rejects, _ = run_gate("format", pool, anchor_labels=["a"], max_chars=40, min_chars=3, require_label=True)
    assert sorted(rejects) == [1, 2, 3, 4, 5]
    assert rejects[1].details["problems"][0]["check"] == "empty"
    assert rejects[3].details["problems"] == [{"check": "max_chars", "chars": 50, "limit": 40}]
    assert rejects[4].reason == "Content has 2 characters, fewer than 3; label 'Other' is not allowed."
    assert rejects[5].details["problems"] == [{"check": "label"}]
    # A label allowed by the parameter passes; with no allowed labels at all, any label does.
    assert not run_gate("format", rows(["text"], ["zzz"]), anchor_labels=["a"], allowed_labels=["zzz"])[0]
    assert not run_gate("format", rows(["text"], ["anything"]))[0]
    table = rows(['{"age": 3}', '{"age": "old"}', '{"name": "x"}'],
                 data=[{"age": 3, "name": "a"}, {"age": "old", "name": "b"}, {"name": "x"}])
    rejects, _ = run_gate("format", table, modality="tabular", required_columns=["age", "name"],
                          numeric_columns=["age"])
    assert sorted(rejects) == [1, 2]
    assert rejects[1].details["problems"] == [{"check": "numeric_columns", "columns": ["age"]}]
    assert rejects[2].details["problems"] == [{"check": "required_columns", "columns": ["age"]}]


# -- exact dedup -----------------------------------------------------------------

def test_exact_dedup_keeps_the_lowest_id_and_rejects_anchor_copies():
    pool = rows(["Refund please", "refund   PLEASE", "other", "Real ticket text", "Refund please"],
                ids=[30, 10, 11, 12, 20])
    anchor = rows(["real ticket  text"], ids=[900])
    rejects, metrics = run_gate("exact_dedup", pool, anchor)
    assert sorted(rejects) == [0, 3, 4]
    assert rejects[0].details["kept"] == 10 and "example id 10" in rejects[0].reason
    assert rejects[3].details["anchor_id"] == 900 and "real anchor example id 900" in rejects[3].reason
    assert metrics == {"distinct": 2, "anchor_hashes": 1}
    assert sorted(run_gate("exact_dedup", pool, anchor, normalize=False, against_anchor=False)[0]) == [0]
    # Tabular rows are compared as stored: "A" and "a" are different categories.
    table = rows(['{"c": "A"}', '{"c": "a"}'])
    assert not run_gate("exact_dedup", table, modality="tabular")[0]


# -- PII -------------------------------------------------------------------------

def test_luhn_and_iban_checks():
    assert pii.luhn_valid("4539578763621486") and pii.luhn_valid("79927398713")
    assert not pii.luhn_valid("4539578763621487")
    assert pii.iban_valid("DE89 3704 0044 0532 0130 00") and pii.iban_valid("GB82WEST12345698765432")
    assert not pii.iban_valid("DE89 3704 0044 0532 0130 01") and not pii.iban_valid("DE89")
    assert all(pii.luhn_valid(planted.luhn_complete(random.Random(s))) for s in range(50))
    assert all(pii.iban_valid(planted.iban(random.Random(s))) for s in range(50))


@pytest.mark.parametrize("text, detector, raw", [
    ("write to Jane.Doe+x@mail-host.co.uk.", "email", "Jane.Doe+x@mail-host.co.uk"),
    ("call +44 20 7946 0958 today", "phone", "7946 0958"),
    ("call (415) 555-0132", "phone", "555-0132"),
    ("or 415-555-0132.", "phone", "415-555-0132"),
    ("card 4539 5787 6362 1486 thanks", "card", "4539578763621486"),
    ("card 4539-5787-6362-1486", "card", "4539-5787-6362-1486"),
    ("IBAN DE89 3704 0044 0532 0130 00", "iban", "DE89370400440532013000"),
    ("IBAN GB82WEST12345698765432.", "iban", "GB82WEST12345698765432"),
    ("SSN 123-45-6789", "national_id", "123-45-6789"),
    ("NI number JK 12 34 56 C", "national_id", "JK123456C"),
    ("from 49.115.196.2.", "ipv4", "49.115.196.2"),
    ("host 2001:db8::8a2e:370:7334 down", "ipv6", "2001:db8::8a2e:370:7334"),
])
def test_pii_detectors_find_and_mask(text, detector, raw):
    rejects, _ = run_gate("pii", rows([text]))
    assert list(rejects) == [0]
    assert rejects[0].details["findings"][0]["detector"] == detector
    shown = str(rejects[0].details) + rejects[0].reason
    assert raw not in shown and raw.lower() not in shown and raw[:-2] not in shown


@pytest.mark.parametrize("text", [
    "Card 4539 5787 6362 1487 fails Luhn",
    "IBAN DE89 3704 0044 0532 0130 01 fails mod 97",
    "SSN 000-12-3456 and 666-12-3456 are never issued",
    "Paid 1943.35 EUR on 12.03.2024 at 10:30:00",
    "version 1.2.3.4.5 and 10.0.0.256",
    "order ORD-1563363 and customer CU-204817",
    "write to someone@example.com",
    "ratio 3:2 and a :: separator",
])
def test_pii_detectors_leave_lookalikes_alone(text):
    assert not run_gate("pii", rows([text]))[0]


def test_pii_flags_echoes_of_anchor_identifiers_only():
    anchor = rows(["Customer CU-204817 here, account 99887766, mail marta@example.net"], ids=[500])
    pool = rows([
        "My customer number is CU-204817.",  # echo no pattern would catch
        "My customer number is CU-204818.",  # a fresh id: nobody's
        "Account 99887766 again",  # an echoed digit run
        "Reach me at marta@example.net",  # an example domain, but the anchor's own address
        "Reach me at other@example.net",
    ])
    rejects, metrics = run_gate("pii", pool, anchor)
    assert sorted(rejects) == [0, 2, 3]
    assert rejects[0].details["findings"] == [{"detector": "anchor_identifier", "match": "*******17"}]
    assert "real anchor" in rejects[0].reason and "CU-204817" not in str(rejects[0].details)
    assert metrics["anchor_identifiers"] >= 3
    assert sorted(run_gate("pii", pool, anchor, anchor_identifiers=False)[0]) == []
    assert list(run_gate("pii", rows(["a@mailbox.org"]), email=False)[0]) == []


def test_pii_spans_gives_each_match_with_its_detector_and_the_gate_uses_the_same():
    text = "Mail jane.doe@mailbox.org or someone@example.com, card 4539 5787 6362 1486, from 49.115.196.2."
    spans = pii.pii_spans(text)
    assert [(text[s:e], d) for s, e, d in spans] == [
        ("jane.doe@mailbox.org", "email"), ("4539 5787 6362 1486", "card"), ("49.115.196.2", "ipv4")]
    assert pii.pii_spans("order ORD-1563363, paid 1943.35 EUR") == []
    texts = [t for t, _ in planted.pii_sample(per_kind=4)]
    rejected = set(run_gate("pii", rows(texts))[0])
    assert rejected == {i for i, t in enumerate(texts) if pii.pii_spans(t)}


def test_each_detector_records_its_precision_on_the_labelled_sample():
    _, metrics = run_gate("pii", rows(["nothing here"]))
    figures = metrics["detector_precision"]
    assert figures["sample"] == len(planted.pii_sample()) and set(figures["detectors"]) == set(pii.DETECTORS)
    for name, f in figures["detectors"].items():
        assert f["recall"] == 1.0 and f["labelled"] > 0, name
        assert f["precision"] >= 0.7, name
    # Look-alikes the shapes cannot tell apart, measured rather than hidden: SKUs shaped like
    # US phone numbers, invoice numbers and ISBNs passing Luhn, dotted build numbers.
    assert figures["detectors"]["email"]["precision"] == figures["detectors"]["iban"]["precision"] == 1.0
    assert figures["detectors"]["phone"]["precision"] < 1.0 and figures["detectors"]["card"]["precision"] < 1.0


def plain_table(n, seed):
    rng = random.Random(seed)
    return [{"balance_cents": rng.randrange(10**9, 10**13), "ratio": rng.random(), "opened": 1.7e9 + rng.randrange(10**8),
             "plan": rng.choice(["free", "pro", "team"]), "branch": rng.choice(["415-555-0100", "212-555-0199"]),
             "contact": rng.randrange(2012000000, 9899999999), "notes": f"ticket {i}: {rng.choice(['ok', 'late'])}"}
            for i in range(n)]


def test_pii_reads_a_table_by_column_not_its_json():
    data = plain_table(3000, seed=3)
    texts = [json.dumps(d) for d in data]
    # Scanned as one JSON text, long digit runs of plain numbers pass Luhn one time in ten.
    assert len(run_gate("pii", rows(texts))[0]) > 300
    rejects, metrics = run_gate("pii", rows(texts, data=data), modality="tabular")
    assert rejects == {}
    assert metrics["scanned_columns"] == {"text": ["notes"], "categorical": ["branch", "plan"],
                                          "skip": ["balance_cents", "contact", "opened", "ratio"]}
    # A numeric column declared sensitive is read as its digits; a free-text column by every detector.
    data[5]["contact"], data[7]["notes"] = 4155550132, "call me, card 4539 5787 6362 1486"
    data[9]["plan"] = "(415) 555-0132"
    rejects, _ = run_gate("pii", rows(texts, data=data), modality="tabular", sensitive_columns=["contact"])
    found = [(i, f) for i, r in rejects.items() for f in r.details["findings"]]
    assert (7, {"detector": "card", "match": "**************86", "column": "notes"}) in found
    assert "in column 'notes'" in rejects[7].reason
    assert {f["column"] for _, f in found} == {"notes", "contact"}, "categorical columns: no phone numbers"
    assert sum(f["column"] == "contact" and f["detector"] == "phone" for _, f in found) == len(data)
    rejects, _ = run_gate("pii", rows(texts, data=data), modality="tabular", free_text_columns=["plan"])
    assert list(rejects) == [7, 9] and rejects[9].details["findings"][0] == {
        "detector": "phone", "match": "********32", "column": "plan"}


def test_pii_anchor_echoes_in_tables_come_from_scanned_columns_only():
    anchor = [{"customer": "CU-204817", "amount": 123456789}, {"customer": "CU-555001", "amount": 5}]
    pool = [{"customer": "CU-204817", "amount": 1}, {"customer": "CU-204818", "amount": 123456789}]
    rejects, metrics = run_gate("pii", rows([""] * 2, data=pool), rows([""] * 2, data=anchor), modality="tabular")
    assert list(rejects) == [0] and rejects[0].details["findings"][0]["column"] == "customer"
    assert "real anchor in column 'customer'" in rejects[0].reason


# -- near duplicates ---------------------------------------------------------------

def test_near_dup_clusters_and_keeps_the_lowest_id():
    base = ("the parcel with my new blender never arrived and the tracking page has not moved since "
            "monday so please resend it or refund the full amount to my card")
    texts = [base.replace("blender", "kettle"), base, "something else entirely " * 5, base + " thanks", base]
    rejects, metrics = run_gate("near_dup", rows(texts, ids=[7, 3, 4, 5, 9]))
    assert sorted(rejects) == [0, 3, 4]
    assert {r.details["kept"] for r in rejects.values()} == {3}
    assert {r.details["cluster"] for r in rejects.values()} == {1}
    assert rejects[4].details["similarity"] == 1.0 and 0.8 <= rejects[3].details["similarity"] < 1
    assert metrics["clusters"] == 1 and metrics["largest_cluster"] == 4
    assert (metrics["bands"], metrics["rows"]) == minhash.lsh_params(0.8, 128, 0.9)


def test_near_dup_handles_many_identical_texts():
    texts = ["the same ticket text every time"] * 3000 + ["a different ticket about billing"]
    rejects, metrics = run_gate("near_dup", rows(texts))
    assert len(rejects) == 2999 and 0 not in rejects
    assert metrics["distinct_signatures"] == 2


def test_near_dup_recall_of_datasketch_pairs():
    from datasketch import MinHash, MinHashLSH

    texts = planted.generate(1500, seed=2).pool.texts
    params = minhash.lsh_params(0.8, 128)

    def shingles(text):
        words = text.lower().split()
        return [" ".join(words[i : i + 3]).encode() for i in range(max(1, len(words) - 2))]

    sketches = MinHash.bulk([shingles(t) for t in texts], num_perm=128, seed=1)
    lsh = MinHashLSH(threshold=0.8, num_perm=128, params=params)
    for i, sketch in enumerate(sketches):
        lsh.insert(i, sketch)
    theirs = {(i, j) for i, s in enumerate(sketches) for j in lsh.query(s) if j > i and s.jaccard(sketches[j]) >= 0.8}
    sigs = minhash.signatures(texts)
    ours = {(i, j) for i, j, _ in minhash.candidate_pairs(sigs, 0.8)}
    assert len(theirs) > 50
    assert len(ours & theirs) / len(theirs) >= 0.95
    # The gate (streamed 8-bit sketch) puts both ends of datasketch's pairs in one cluster.
    rejects, _ = run_gate("near_dup", rows(texts))
    cluster = {i: r.details["cluster"] for i, r in rejects.items()}
    cluster.update({r.details["kept"] - 1: r.details["cluster"] for r in rejects.values()})
    together = {(i, j) for i, j in theirs if i in cluster and cluster[i] == cluster.get(j)}
    assert len(together) / len(theirs) >= 0.95


def test_near_dup_memory_is_a_few_hundred_bytes_per_text():
    import tracemalloc

    texts = planted.generate(20000, seed=4).pool.texts
    sk = minhash.sketch(texts, num_perm=128, shingle_size=3, seed=1, bands=14, rows=9)
    assert sk.compact.dtype == np.uint8 and sk.band_keys.shape == (14, len(texts))
    tracemalloc.start()
    run_gate("near_dup", rows(texts))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # Sketch 192 bytes, pairs, components and the rejects' objects; a signature matrix
    # with its transposed copy alone would be 1,024.
    assert peak / len(texts) < 900, peak / len(texts)
