"""gates.fidelity against hand-computed values (SDMetrics' definitions; sdmetrics itself
is not installed), and the fidelity partial rendered with Django's template engine. Pure: no db."""
import json
import math

import numpy as np
import pytest
from django.template.loader import render_to_string

from gates.base import Rows
from gates.fidelity import boundary_adherence, category_adherence, evaluate

# The small shared example: three columns, five real rows, four synthetic rows.
REAL = [{"x": 0, "y": 0, "c": "a"}, {"x": 1, "y": 4, "c": "a"}, {"x": 2, "y": 5, "c": "b"},
        {"x": 3, "y": 4, "c": "b"}, {"x": 10, "y": 10, "c": "c"}]
SYNTHETIC = [{"x": 0, "y": 0, "c": "a"}, {"x": 2, "y": 3, "c": "b"}, {"x": 2, "y": 2, "c": "b"},
             {"x": 10, "y": 10, "c": "d"}]


def table(data):
    return Rows(ids=list(range(len(data))), texts=[json.dumps(d) for d in data], labels=[""] * len(data),
                hashes=[""] * len(data), data=data)


def texts(items):
    return Rows(ids=list(range(len(items))), texts=[t for t, _ in items], labels=[label for _, label in items],
                hashes=[""] * len(items))


@pytest.fixture(scope="module")
def report():
    return evaluate(table(SYNTHETIC), table(REAL), "tabular", seed=0)


def close(a, b):
    return a == pytest.approx(b, abs=1e-6)


def test_column_shapes_by_hand(report):
    scores = {c["column"]: c["score"] for c in report["columns"]}
    # KSComplement(x): ECDFs at 0, 1, 2, 3, 10 — real .2 .4 .6 .8 1, synthetic .25 .25 .75 .75 1;
    # largest gap D = .15, so 1 − D = .85.
    assert close(scores["x"], 0.85)
    # KSComplement(y): at 0, 2, 3, 4, 5, 10 — real .2 .2 .2 .6 .8 1, synthetic .25 .5 .75 .75 .75 1; D = .55.
    assert close(scores["y"], 0.45)
    # TVComplement(c): real a .4 b .4 c .2, synthetic a .25 b .5 d .25;
    # ½(.15 + .1 + .2 + .25) = .35, so 1 − .35 = .65.
    assert close(scores["c"], 0.65)
    assert close(report["summary"]["column_shapes"], (0.85 + 0.45 + 0.65) / 3)
    assert [c["metric"] for c in report["columns"]] == ["KSComplement", "KSComplement", "TVComplement"]


def test_column_pair_trends_by_hand(report):
    pairs = {tuple(p["columns"]): p for p in report["pairs"]}
    # CorrelationSimilarity(x, y), Pearson. Real: x̄ = 3.2, ȳ = 4.6, Σdxdy = 52.4, Σdx² = 62.8, Σdy² = 51.2.
    # Synthetic: x̄ = 3.5, ȳ = 3.75, Σdxdy = 57.5, Σdx² = 59, Σdy² = 56.75.
    rho_real, rho_syn = 52.4 / math.sqrt(62.8 * 51.2), 57.5 / math.sqrt(59 * 56.75)
    corr = 1 - abs(rho_real - rho_syn) / 2
    assert pairs[("x", "y")]["metric"] == "CorrelationSimilarity"
    assert close(pairs[("x", "y")]["score"], corr)
    assert close(pairs[("x", "y")]["real_correlation"], rho_real)
    assert close(pairs[("x", "y")]["synthetic_correlation"], rho_syn)
    # ContingencySimilarity(x, c): x is binned on each side's own 10 equal-width bins (np.histogram_bin_edges
    # + np.digitize, as SDMetrics' report does): both ranges are 0–10, edges 0, 1, …, 10, and the maximum
    # lands past the last edge (11). Real codes 1 2 3 4 11 with a a b b c: five cells of .2 each.
    # Synthetic codes 1 3 3 11 with a b b d: (1,a) .25, (3,b) .5, (11,d) .25.
    # |diffs|: (1,a) .05, (2,a) .2, (3,b) .3, (4,b) .2, (11,c) .2, (11,d) .25 → Σ 1.2, TVD .6 → .4.
    assert pairs[("x", "c")]["metric"] == "ContingencySimilarity"
    assert close(pairs[("x", "c")]["score"], 0.4)
    # ContingencySimilarity(y, c): real y 0 4 5 4 10 → codes 1 5 6 5 11: (1,a) (5,a) (6,b) (5,b) (11,c) .2 each;
    # synthetic y 0 3 2 10 → codes 1 4 3 11: (1,a) (4,b) (3,b) (11,d) .25 each.
    # |diffs|: .05 + .2 + .2 + .2 + .2 + .25 + .25 + .25 = 1.6, TVD .8 → .2.
    assert close(pairs[("y", "c")]["score"], 0.2)
    # SDMetrics' report (0.32) averages the pairs related in the real data: |ρ_real| > 0.5, or Cramér's V
    # of the real table > 0.3. (x, c): every x code has one category → V = 1. (y, c): rows 1/5/6/11 ×
    # a/b/c with 5 in both a and b; χ² = n(Σ O²/(r·c) − 1) = 5(½ + ¼ + ¼ + ½ + 1 − 1) = 7.5,
    # V = √(χ² / (n(min(4, 3) − 1))) = √.75. All three pairs count.
    assert close(pairs[("x", "c")]["real_association"], 1.0)
    assert close(pairs[("y", "c")]["real_association"], math.sqrt(0.75))
    assert all(p["meets_threshold"] for p in pairs.values())
    trends = (corr + 0.4 + 0.2) / 3
    assert close(report["summary"]["column_pair_trends"], trends)
    # Overall quality: the mean of the two property scores.
    assert close(report["summary"]["overall"], ((0.85 + 0.45 + 0.65) / 3 + trends) / 2)


def test_pairs_unrelated_in_the_real_data_do_not_count():
    real = [{"x": 1, "y": 1, "z": 1}, {"x": 2, "y": -1, "z": 2}, {"x": 3, "y": -1, "z": 3}, {"x": 4, "y": 1, "z": 4}]
    synthetic = [{"x": 1, "y": 1, "z": 4}, {"x": 2, "y": 2, "z": 3}, {"x": 3, "y": 3, "z": 2}, {"x": 4, "y": 4, "z": 1}]
    report = evaluate(table(synthetic), table(real), "tabular")
    pairs = {tuple(p["columns"]): p for p in report["pairs"]}
    # Real ρ(x, y) = ρ(y, z) = 0 (y is symmetric around x's middle), ρ(x, z) = 1; synthetic ρ(x, y) = 1,
    # ρ(x, z) = ρ(y, z) = −1. Only (x, z) is related in the real data: trends = 1 − |1 − (−1)|/2 = 0.
    assert [pairs[k]["meets_threshold"] for k in (("x", "y"), ("x", "z"), ("y", "z"))] == [False, True, False]
    assert close(report["summary"]["column_pair_trends"], 0.0)
    # Every pair: (x, y) 1 − |0 − 1|/2 = .5, (x, z) 0, (y, z) 1 − |0 + 1|/2 = .5 → 1/3.
    assert close(report["summary"]["column_pair_trends_all_pairs"], 1 / 3)


def test_adherence_and_privacy_by_hand(report):
    by_column = {c["column"]: c for c in report["columns"]}
    assert by_column["x"]["boundary_adherence"] == 1.0 and by_column["y"]["boundary_adherence"] == 1.0
    assert close(by_column["c"]["category_adherence"], 0.75)  # "d" is not a real category
    # BoundaryAdherence ignores missing synthetic values: −1 and 11 fall outside [0, 10] → 2 of 4.
    assert boundary_adherence(np.array([0.0, 10.0]), np.array([-1, 5, 10, 11, np.nan])) == 0.5
    # CategoryAdherence: a missing value is valid only when the real column has missing values.
    assert category_adherence(np.array(["a", "\0missing"], dtype=object),
                              np.array(["a", "\0missing", "z"], dtype=object)) == pytest.approx(2 / 3)
    privacy = report["privacy"]
    # DCR: mean over x, y (|a − b| / 10) and c (0/1). Synthetic rows: (0,0,a) copies real row 1 → 0;
    # (2,3,b) → real (2,5,b) or (3,4,b): (0 + .2 + 0)/3 = .0667; (2,2,b) → (2,5,b): (0 + .3 + 0)/3 = .1;
    # (10,10,d) → (10,10,c): (0 + 0 + 1)/3 = .3333. Median of 0, .0667, .1, .3333 = .0833.
    assert close(privacy["dcr_median"], (0.2 / 3 + 0.1) / 2)
    assert close(privacy["dcr_zero_share"], 0.25)
    assert close(privacy["exact_copy_share"], 0.25)
    # Real rows to each other (leave one out): .1667 .1667 .0667 .0667 .7667 → median .1667.
    assert close(privacy["real_dcr_median"], 0.5 / 3)
    assert report["summary"]["exact_copy_share"] == 0.25 and report["n_real"] == 5 and report["n_synthetic"] == 4
    # Near copies: within a tenth of the real median (.01667) of a real row. Synthetic: the copy only
    # (.25); real rows: none of their leave-one-out distances is that small. Excess .25.
    assert close(privacy["near_copy_distance"], 0.05 / 3)
    assert close(privacy["near_copy_share"], 0.25) and privacy["real_near_copy_share"] == 0.0
    assert close(report["summary"]["copy_excess"], 0.25)


def correlated(n, seed, shuffle=False):
    """x and y with ρ ≈ 0.9 and a category following x; ``shuffle`` breaks y's link."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = 0.9 * x + 0.45 * rng.normal(size=n)
    if shuffle:
        y = rng.permutation(y)
    return [{"x": float(a), "y": float(b), "band": "high" if a > 0 else "low"} for a, b in zip(x, y)]


def test_pair_trends_are_judged_against_the_anchors_real_vs_real_baseline():
    anchor = table(correlated(400, 1))
    faithful = evaluate(table(correlated(400, 2)), anchor, "tabular", seed=3)
    broken = evaluate(table(correlated(400, 2, shuffle=True)), anchor, "tabular", seed=3)
    structure = faithful["structure"]
    assert structure["n_per_side"] == 200
    assert 0.8 <= structure["real_vs_real"]["column_pair_trends"] <= 1.0  # small halves score below 1
    assert 0.93 <= faithful["summary"]["pair_trends_ratio"] <= 1.07
    assert broken["summary"]["pair_trends_ratio"] < 0.8
    assert faithful["summary"]["column_shapes_ratio"] == pytest.approx(1.0, abs=0.07)
    worst = broken["worst_pairs"][0]
    assert worst["columns"] == ["x", "y"] and worst["metric"] == "CorrelationSimilarity"
    assert worst["real_correlation"] > 0.85 and abs(worst["synthetic_correlation"]) < 0.2
    contingency = next(p for p in broken["worst_pairs"] if p["columns"] == ["y", "band"])
    assert contingency["real_association"] > 0.3 > contingency["synthetic_association"]
    assert evaluate(table(correlated(19, 2)), table(correlated(19, 1)), "tabular")["structure"] is None  # halves < 10


def test_text_reports_near_copies_against_the_real_texts_own():
    rng = np.random.default_rng(4)
    words = [f"w{i}" for i in range(500)]

    def text():
        return " ".join(rng.choice(words, 40))

    real = [(text(), "x") for _ in range(60)]
    copies = [(t.replace(" ", " really ", 1), label) for t, label in real[:20]]  # one word inserted
    fresh = [(text(), "x") for _ in range(80)]
    privacy = evaluate(texts(copies + fresh), texts(real), "text")["privacy"]
    assert privacy["exact_copy_share"] == 0 and privacy["real_near_copy_share"] == 0
    assert privacy["near_copy_share"] == pytest.approx(0.2, abs=0.05)


def test_worst_columns_carry_binned_overlays(report):
    worst = report["worst_columns"]
    assert [w["column"] for w in worst] == ["y", "c", "x"]  # .45, .65, .85
    y_bins = worst[0]["bins"]
    assert len(y_bins) == 20
    assert close(sum(b["real"] for b in y_bins), 1.0) and close(sum(b["synthetic"] for b in y_bins), 1.0)
    c_bins = {b["label"]: (b["real"], b["synthetic"]) for b in worst[1]["bins"]}
    assert c_bins == {"a": (0.4, 0.25), "b": (0.4, 0.5), "c": (0.2, 0.0), "d": (0.0, 0.25)}


def test_report_is_json_safe_and_none_marks_the_incomputable():
    # A constant synthetic column: CorrelationSimilarity is undefined (None), left out of the mean.
    synthetic = [{"x": 5, "y": i, "c": "a"} for i in range(4)]
    report = evaluate(table(synthetic), table(REAL), "tabular")
    json.dumps(report, allow_nan=False)
    pair = next(p for p in report["pairs"] if p["columns"] == ["x", "y"])
    assert pair["score"] is None
    others = [p["score"] for p in report["pairs"] if p["score"] is not None]
    assert close(report["summary"]["column_pair_trends"], sum(others) / len(others))
    with pytest.raises(ValueError, match="modality"):
        evaluate(table(synthetic), table(REAL), "audio")


def test_identifier_columns_are_skipped_and_types_can_be_overridden():
    real = [{"id": f"R{i}", "n": i % 3} for i in range(30)]
    synthetic = [{"id": f"S{i}", "n": i % 3} for i in range(30)]
    report = evaluate(table(synthetic), table(real), "tabular")
    assert [c["column"] for c in report["columns"]] == ["n"] and report["skipped_columns"][0]["column"] == "id"
    forced = evaluate(table(synthetic), table(real), "tabular", column_types={"n": "categorical", "id": "categorical"})
    assert {c["column"]: c["metric"] for c in forced["columns"]} == {"id": "TVComplement", "n": "TVComplement"}
    with pytest.raises(ValueError, match="column_types"):
        evaluate(table(synthetic), table(real), "tabular", column_types={"n": "money"})


# --- Text ----------------------------------------------------------------------------------

REAL_TEXTS = [("The cat sat. The dog ran!", "x"), ("A cat", "y"), ("Dog ran", "x")]
SYNTHETIC_TEXTS = [("the cat sat", "x"), ("A bird flew. Then it sat.\nOk", "y"), ("a cat", "y")]


def test_text_figures_by_hand():
    report = evaluate(texts(SYNTHETIC_TEXTS), texts(REAL_TEXTS), "text", seed=3)
    overall = report["overall"]
    # Vocabularies: real {the cat sat dog ran a} (6), synthetic {the cat sat a bird flew then it ok} (9);
    # 4 shared of 11 → Jaccard 4/11. Synthetic tokens: 3 + 7 + 2 = 12, of which bird flew then it ok
    # are not real words → OOV rate 5/12.
    assert close(overall["vocabulary"]["jaccard"], 4 / 11) and close(overall["vocabulary"]["oov_rate"], 5 / 12)
    # Distinct-n on equal-size samples (3 = every text): real 6 unique of 10 tokens, 6 unique of 7
    # bigrams ("dog ran" twice); synthetic 9 of 12 tokens, 9 of 9 bigrams.
    real, synthetic = overall["diversity"]["real"], overall["diversity"]["synthetic"]
    assert close(real["distinct_1"], 0.6) and close(real["distinct_2"], 6 / 7)
    assert close(synthetic["distinct_1"], 0.75) and close(synthetic["distinct_2"], 1.0)
    # Lengths in characters: real 25 5 7, synthetic 11 28 5. ECDF gap 1/3 at 7 and at 25 → KS complement 2/3.
    # Wasserstein: sorted pairs (5,5) (7,11) (25,28) → 7/3, over the real standard deviation √(242.667/3).
    chars = overall["lengths"]["chars"]
    assert close(chars["ks_complement"], 2 / 3)
    assert close(chars["wasserstein_std"], (7 / 3) / np.std([25, 5, 7]))
    # Sentences: real 2 1 1, synthetic 1 3 1 (". " and ".\n" both end one).
    assert close(overall["lengths"]["sentences"]["real_mean"], 4 / 3)
    assert close(overall["lengths"]["sentences"]["synthetic_mean"], 5 / 3)
    # "a cat" copies "A cat" once case and spacing are normalized: 1 of 3 overall, 1 of 2 for label y.
    assert close(overall["exact_copy_share"], 1 / 3) and close(report["per_label"]["y"]["exact_copy_share"], 0.5)
    assert report["per_label"]["x"]["n_real"] == 2 and report["per_label"]["x"]["n_synthetic"] == 1
    assert report["summary"]["vocabulary_jaccard"] == overall["vocabulary"]["jaccard"]
    json.dumps(report, allow_nan=False)


def test_mean_pairwise_cosine_and_determinism():
    real = [("cat", "x"), ("dog", "x"), ("fish", "x")]
    synthetic = [("cat dog", "x")] * 3
    report = evaluate(texts(synthetic), texts(real), "text")
    # Identical synthetic texts: every pair has cosine 1; real texts share no word: 0.
    assert close(report["summary"]["mean_cosine_synthetic"], 1.0) and close(report["summary"]["mean_cosine_real"], 0.0)
    big_real = [(f"ticket {i} about {w}", "x") for i, w in enumerate(["cards", "loans", "fees"] * 200)]
    big_syn = [(f"note {i} on {w}", "x") for i, w in enumerate(["cards", "fees"] * 400)]
    first = evaluate(texts(big_syn), texts(big_real), "text", seed=5)
    assert first == evaluate(texts(big_syn), texts(big_real), "text", seed=5)
    diversity = first["overall"]["diversity"]
    assert diversity["sample_size"] == 600 and diversity["cosine_sample_size"] == 300


# --- The partial ---------------------------------------------------------------------------

def test_fidelity_partial_draws_tabular_figures(report):
    html = render_to_string("gates/_fidelity.html", {"report": report})
    assert '<svg class="chart" id="fidelity-columns"' in html and html.count('class="chart overlay"') == 3
    assert "0.450" in html and "0.650" in html and "0.850" in html  # the column bars' figures
    assert f'{report["summary"]["overall"]:.3f}' in html
    assert "a · real 0.400" in html and "d · synthetic 0.250" in html  # overlay bars name their bins
    assert "x × c" in html and "exact copies of a real row" in html
    assert "near copies 0.250 (real rows among themselves 0.000)" in html
    assert 'id="fidelity-structure"' not in html  # five real rows: no baseline
    broken = evaluate(table(correlated(400, 2, shuffle=True)), table(correlated(400, 1)), "tabular", seed=3)
    html = render_to_string("gates/_fidelity.html", {"report": broken})
    assert 'id="fidelity-structure"' in html and f'{broken["structure"]["pair_trends_ratio"]:.3f}' in html


def test_fidelity_partial_draws_text_figures():
    report = evaluate(texts(SYNTHETIC_TEXTS), texts(REAL_TEXTS), "text")
    html = render_to_string("gates/_fidelity.html", {"report": report})
    assert 'id="fidelity-diversity"' in html and 'id="fidelity-text-similarity"' in html
    assert "real 0.857" in html and "synthetic 1.000" in html  # distinct-2 bars
    assert f'{4 / 11:.3f}' in html and "length in characters" in html
    assert '<td>y</td><td>1</td><td>2</td>' in html  # per-label row


def test_fidelity_partial_accepts_a_stored_report_object(report):
    class Stored:  # a FidelityReport keeps evaluate()'s dict in ``results``
        results = report

    assert render_to_string("gates/_fidelity.html", {"report": Stored()}) == render_to_string(
        "gates/_fidelity.html", {"report": report})
    assert "No fidelity report" in render_to_string("gates/_fidelity.html", {"report": None})
