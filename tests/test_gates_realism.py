"""The realism (classifier two-sample test) and label-consistency gates, pure:
no database. Pools are generated with fixed seeds."""
import random

import numpy as np
import pytest
from django.template.loader import render_to_string

from gates import planted
from gates.base import GATES, GateContext, Rows
from gates.cascade import run_cascade
from gates.library import label_consistency as _lc  # noqa: F401  (registers the gates)
from gates.library import realism as _realism  # noqa: F401

TOPICS = {
    "refund": "refund money back charged return payment reimburse order cancel price".split(),
    "shipping": "package delivery courier tracking shipped arrived late parcel address box".split(),
    "login": "password login account locked reset email code access sign verification".split(),
    "erasure": "delete data erase personal privacy gdpr remove records consent forget".split(),
}
FILLER = "please help i need the my this is not and it today thanks hello again still".split()
LABELS = sorted(TOPICS)


def tickets(n, seed, suffix=""):
    """n (text, label) pairs: a few topic words of the label among filler words."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        label = rng.choice(LABELS)
        words = [rng.choice(TOPICS[label]) for _ in range(rng.randint(3, 6))]
        words += [rng.choice(FILLER) for _ in range(rng.randint(4, 9))]
        rng.shuffle(words)
        out.append((" ".join(words) + suffix, label))
    return out


def rows(pairs, data=None):
    return Rows(ids=list(range(len(pairs))), texts=[t for t, _ in pairs], labels=[label for _, label in pairs],
                hashes=[""] * len(pairs), data=data or [])


def run(name, pool, anchor, modality="text", seed=0, **params):
    spec = GATES[name]
    ctx = GateContext(pool=pool, anchor=anchor, params={**spec.defaults(), **params}, seed=seed, modality=modality)
    rejects = spec.func(ctx)
    return rejects, ctx.metrics


# --- realism -------------------------------------------------------------------------------

def test_same_distribution_is_inside_the_null_band():
    _, m = run("realism", rows(tickets(600, 1)), rows(tickets(600, 2)))
    assert m["verdict"] == "indistinguishable"
    assert 0.42 <= m["auc"] <= 0.58
    assert m["null_low"] < 0.5 < m["null_high"] and m["null_high"] - m["null_low"] < 0.15
    assert m["passes"] is True and m["n_real"] == m["n_synthetic"] == 600
    assert set(m["synthetic_probability"]) == {"q05", "q25", "q50", "q75", "q95"}


def test_separable_pool_is_distinguishable_and_fails_the_threshold():
    _, m = run("realism", rows(tickets(400, 1, suffix=" kind regards, the team")), rows(tickets(400, 2)))
    assert m["auc"] > 0.95 and m["verdict"] == "distinguishable" and m["passes"] is False
    assert m["synthetic_probability"]["q50"] > 0.8


def test_copied_rows_drive_the_auc_well_below_chance_and_are_flagged():
    real = tickets(400, 2)
    _, m = run("realism", rows(real), rows(real))
    # Never hidden behind max(0.5, ·): the AUC is what was measured.
    assert m["auc"] < 0.3 < m["null_low"]
    assert m["verdict"] == "suspicious_copy" and m["passes"] is False


def test_deterministic_for_a_seed_and_the_seed_matters():
    pool, anchor = rows(tickets(300, 1)), rows(tickets(300, 2))
    first, second = run("realism", pool, anchor, seed=7)[1], run("realism", pool, anchor, seed=7)[1]
    assert first == second
    assert run("realism", pool, anchor, seed=8)[1]["null_low"] != first["null_low"]


def test_reject_most_synthetic_share_rejects_the_recognisable_rows_including_unsampled_ones():
    # 10% of the pool carries a signature the anchor never has; the sample cap leaves
    # most pool rows outside the classifier's sample, they are scored by the fold models.
    pool_pairs = tickets(900, 1) + tickets(100, 3, suffix=" kind regards, the team")
    rejects, m = run("realism", rows(pool_pairs), rows(tickets(400, 2)), reject_most_synthetic_share=0.1,
                     max_rows_per_side=300)
    assert len(rejects) == 100
    caught = {r.index for r in rejects} & set(range(900, 1000))
    assert len(caught) >= 95
    assert rejects[0].reason.startswith("most recognisably synthetic: P(synthetic)=")
    assert "p_synthetic" in rejects[0].details
    assert run("realism", rows(pool_pairs), rows(tickets(400, 2)), reject_most_synthetic_share=0.1,
               max_rows_per_side=300)[0] == rejects
    assert run("realism", rows(pool_pairs), rows(tickets(400, 2)))[0] == []  # rejects nothing by default


def test_tabular_realism_uses_the_columns():
    rng = random.Random(4)

    def table(n, shift):
        return [{"age": rng.gauss(40 + shift, 8), "plan": rng.choice(["free", "pro"])} for _ in range(n)]

    def tabular_rows(data):
        return Rows(ids=list(range(len(data))), texts=[str(d) for d in data], labels=[""] * len(data),
                    hashes=[""] * len(data), data=data)

    same = run("realism", tabular_rows(table(300, 0)), tabular_rows(table(300, 0)), modality="tabular")[1]
    shifted = run("realism", tabular_rows(table(300, 15)), tabular_rows(table(300, 0)), modality="tabular")[1]
    assert same["verdict"] == "indistinguishable"
    assert shifted["auc"] > 0.8 and shifted["verdict"] == "distinguishable"


def tabular(data):
    return Rows(ids=list(range(len(data))), texts=[str(d) for d in data], labels=[""] * len(data),
                hashes=[""] * len(data), data=data)


def test_boosted_trees_see_an_interaction_with_a_categorical_column_the_linear_model_misses():
    rng = random.Random(6)

    def table(n, linked):
        rows_ = []
        for _ in range(n):
            plan = rng.choice(["free", "pro", "team"])
            # Real: the amount's sign follows the plan; synthetic: the same marginals, unlinked.
            sign = {"free": -1, "pro": 1, "team": rng.choice([-1, 1])}[plan] if linked else rng.choice([-1, 1])
            rows_.append({"amount": sign * abs(rng.gauss(3, 1)), "plan": plan})
        return rows_

    _, m = run("realism", tabular(table(400, linked=False)), tabular(table(400, linked=True)), modality="tabular")
    # Half the synthetic rows carry a sign the real plan never has: the best possible AUC is 0.75.
    assert m["classifier"] == "boosting" and m["auc"] > 0.65 and m["verdict"] == "distinguishable"
    assert m["second_opinion"]["classifier"] == "linear" and m["second_opinion"]["auc"] < 0.6
    _, linear = run("realism", tabular(table(400, linked=False)), tabular(table(400, linked=True)),
                    modality="tabular", classifier="linear")
    assert linear["classifier"] == "linear" and linear["second_opinion"]["classifier"] == "boosting"


def test_categories_are_coded_by_frequency_with_missing_and_a_cap():
    from gates.features import CATEGORICAL, NUMERICAL, tabular_codes

    records = [{"n": 1.5, "c": "b"}, {"n": None, "c": "a"}, {"n": 2.0, "c": "b"}, {"n": 3.0}]
    X, categorical = tabular_codes(records, {"n": NUMERICAL, "c": CATEGORICAL})
    assert categorical.tolist() == [False, True]
    # b twice first, then a and missing once each, ties by name (missing sorts first).
    assert np.isnan(X[1, 0]) and X[:, 1].tolist() == [0.0, 2.0, 0.0, 1.0]
    many = [{"c": f"v{i:04d}"} for i in range(400)]
    codes, _ = tabular_codes(many, {"c": CATEGORICAL})
    assert codes.max() == 254 and len(np.unique(codes)) == 255


def test_the_null_band_covers_real_against_real():
    # Seeded splits of the bundled wine table into two real halves: the AUC falls inside
    # the band (nominal 90%) and a below-band AUC is never called a copy without copies.
    from gates.planted_tabular import load

    columns, X, label_column, labels = load("wine")
    records = [{**dict(zip(columns, map(float, r))), label_column: str(lab)} for r, lab in zip(X, labels)]
    inside = 0
    for seed in range(8):
        order = np.random.default_rng(seed).permutation(len(records))
        half = len(records) // 2
        _, m = run("realism", tabular([records[i] for i in order[half:]]), tabular([records[i] for i in order[:half]]),
                   modality="tabular", seed=seed)
        inside += m["null_low"] <= m["auc"] <= m["null_high"]
        assert m["verdict"] != "suspicious_copy" and m["null_inflation"] == 1.5
    assert inside >= 7


def test_the_null_band_is_the_permutation_band_widened_by_nadeau_bengio():
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(500), np.ones(500)].astype(int)
    fold_of = np.tile(np.arange(5), 200)
    oof = rng.random(1000)
    low, high, inflation = _realism.null_band(oof, y, fold_of, folds=5, quantiles=(0.05, 0.95), permutations=4000,
                                              seed=1)
    # Mann–Whitney under the null: the mean of 5 fold AUCs (100 v 100 each) has sd √(201/(12·100²)/5).
    sd = np.sqrt(201 / (12 * 100 * 100) / 5)
    assert inflation == 1.5
    assert low == pytest.approx(0.5 - 1.645 * 1.5 * sd, abs=0.006) and high == pytest.approx(0.5 + 1.645 * 1.5 * sd,
                                                                                            abs=0.006)
    _, _, two_folds = _realism.null_band(oof, y, np.tile(np.arange(2), 500), folds=2, quantiles=(0.05, 0.95),
                                         permutations=200, seed=1)
    assert two_folds == pytest.approx(np.sqrt(3))


def test_too_few_rows_is_reported_not_measured():
    rejects, m = run("realism", rows(tickets(6, 1)), rows(tickets(30, 2)))
    assert rejects == [] and m["verdict"] == "not_measured" and m["auc"] is None
    assert "at least 10 rows" in m["note"]


def test_parameters_are_validated():
    spec = GATES["realism"]
    assert spec.needs_anchor
    assert spec.validate({"max_auc": 1.5}) == ["realism: max_auc must be between 0.5 and 1.0, got 1.5"]
    assert spec.validate({"reject_most_synthetic_share": 0.7})
    assert spec.validate({"folds": 2.5})
    assert spec.validate({"classifier": "forest"}) == [
        "realism: classifier must be one of auto, boosting, linear, got 'forest'"]
    assert spec.validate({"n_null": 10}) == ["realism: unknown parameter 'n_null'"]
    with pytest.raises(ValueError, match="boosting classifier reads table columns"):
        run("realism", rows(tickets(50, 1)), rows(tickets(50, 2)), classifier="boosting")


def test_realism_partial_draws_the_auc_against_its_null_band():
    _, m = run("realism", rows(tickets(200, 2)), rows(tickets(200, 2)))
    html = render_to_string("gates/_realism.html", {"metrics": m})
    assert '<svg class="chart" id="realism-chart"' in html
    assert f"AUC {m['auc']:.3f}" in html and f"{m['null_low']:.3f}–{m['null_high']:.3f}" in html
    assert "suspicious_copy" in html and "copy real ones" in html and "Fails the threshold 0.60" in html
    assert "not measured: needs at least" in render_to_string(
        "gates/_realism.html", {"metrics": {"auc": None, "note": "needs at least 10 rows on each side, has 3"}})


# --- label consistency ---------------------------------------------------------------------

def planted_mislabels(n, share, seed):
    """A pool with ``share`` of its rows given the wrong label, and their indices."""
    pairs = tickets(n, seed)
    planted_rows = set(random.Random(seed + 1).sample(range(n), int(n * share)))
    shifted = [(t, LABELS[(LABELS.index(label) + 1) % len(LABELS)] if i in planted_rows else label)
               for i, (t, label) in enumerate(pairs)]
    return rows(shifted), planted_rows


@pytest.mark.parametrize("n, anchor_size, mode", [(4000, None, "anchor"), (2000, 40, "pool_cv")])
def test_label_gate_catches_the_planted_mislabels_behind_the_detectors(n, anchor_size, mode):
    # gates.planted: the shared planted pool; the label gate runs where the cascade puts it,
    # on the survivors of the four detector gates.
    pool = planted.generate(n, seed=11, anchor_size=anchor_size)
    steps = [(name, {}) for name in ("format", "exact_dedup", "pii", "near_dup", "label_consistency")]
    outcomes = run_cascade(pool.pool, pool.anchor, steps, seed=3, modality="text", allowed_labels=pool.allowed_labels)
    figures = planted.score(pool, outcomes)["label_consistency"]
    assert outcomes[-1].metrics["mode"] == mode, outcomes[-1].metrics["mode_reason"]
    assert figures["plants"] >= 40
    assert figures["catch_rate"] >= 0.95 and figures["false_rate"] <= 0.02, figures


@pytest.mark.parametrize("anchor_rows, mode", [(400, "anchor"), (12, "pool_cv")])
def test_label_gate_catches_mislabels_in_a_small_pool(anchor_rows, mode):
    pool, planted_rows = planted_mislabels(1000, 0.05, seed=11)
    rejects, m = run("label_consistency", pool, rows(tickets(anchor_rows, 2)))
    flagged = {r.index for r in rejects}
    catch = len(flagged & planted_rows) / len(planted_rows)
    false = len(flagged - planted_rows) / (len(pool) - len(planted_rows))
    assert m["mode"] == mode, m["mode_reason"]
    assert catch >= 0.95 and false <= 0.02, (catch, false)
    assert m["n_flagged"] == len(rejects) and m["n_judged"] == 1000
    assert 0.93 <= m["agreement_rate"] <= 0.97


def test_label_reject_reason_names_both_labels_and_the_probability():
    pool, planted_rows = planted_mislabels(400, 0.05, seed=12)
    rejects, m = run("label_consistency", pool, rows(tickets(400, 2)))
    r = next(r for r in rejects if r.index in planted_rows)
    label, predicted = pool.labels[r.index], r.details["predicted"]
    assert r.reason == f"labelled {label}, model says {predicted} (p={r.details['p']:.2f})"
    assert r.details["p"] >= 0.9 and predicted != label and r.details["mode"] == "anchor"
    assert run("label_consistency", pool, rows(tickets(400, 2)))[0] == rejects  # deterministic


def test_label_mode_falls_back_and_says_why():
    pool, _ = planted_mislabels(200, 0.05, seed=13)
    anchor = rows([(t, label) for t, label in tickets(400, 2) if label != "login"])
    _, m = run("label_consistency", pool, anchor)
    assert m["mode"] == "pool_cv" and "fewer than 10 labelled rows of login" in m["mode_reason"]
    _, single = run("label_consistency", rows([(t, "refund") for t, _ in tickets(50, 1)]), anchor)
    assert single["mode"] == "not_judged" and single["agreement_rate"] is None


def test_label_gate_on_tabular_rows_ignores_a_column_repeating_the_label():
    rng = random.Random(5)
    truth = [rng.choice(["small", "large"]) for _ in range(600)]
    planted_rows = set(range(0, 600, 40))
    labels = [("large" if t == "small" else "small") if i in planted_rows else t for i, t in enumerate(truth)]
    # "tier" repeats the given label, wrong ones included: a model reading it would
    # agree with every mislabel, so the gate must leave it out.
    data = [{"amount": rng.gauss(10 if t == "small" else 100, 5), "tier": label} for t, label in zip(truth, labels)]
    pool = Rows(ids=list(range(600)), texts=[str(d) for d in data], labels=labels, hashes=[""] * 600, data=data)
    rejects, m = run("label_consistency", pool, None, modality="tabular")
    assert m["mode"] == "pool_cv"
    assert {r.index for r in rejects} == planted_rows
