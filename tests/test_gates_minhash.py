"""gates.minhash: normalization, estimate accuracy, LSH parameters and pairs (pure, no database)."""
import random

import numpy as np
import pytest
from datasketch.lsh import _optimal_param

from gates import minhash


def shingles(text, k=3):
    words = text.lower().split()
    return {" ".join(words[i : i + k]) for i in range(max(1, len(words) - k + 1))}


def jaccard(a, b):
    a, b = shingles(a), shingles(b)
    return len(a & b) / len(a | b)


def random_texts(n, seed, vocabulary=400, length=(8, 40)):
    rng = random.Random(seed)
    words = [f"word{i}" for i in range(vocabulary)]
    return [" ".join(rng.choices(words, k=rng.randint(*length))) for _ in range(n)]


def test_signatures_are_deterministic_and_seeded():
    texts = random_texts(50, seed=1)
    first = minhash.signatures(texts, num_perm=64, seed=3)
    assert first.shape == (50, 64) and first.dtype == np.uint32
    assert np.array_equal(first, minhash.signatures(texts, num_perm=64, seed=3))
    assert not np.array_equal(first, minhash.signatures(texts, num_perm=64, seed=4))
    # A text's signature does not depend on the batch it is hashed in.
    assert np.array_equal(first[7:9], minhash.signatures(texts[7:9], num_perm=64, seed=3))


def test_normalization_case_whitespace_short_and_empty_texts():
    texts = [
        "Refund my Order please",
        "  refund\tMY order\u00a0 \n please ",  # case and (Unicode) whitespace only
        "refund\x00my order please",  # a NUL is whitespace, not a text boundary
        "two words",
        "Two  WORDS",
        "",
        "   ",
        "refund my order now",
    ]
    sigs = minhash.signatures(texts)
    assert len(sigs) == len(texts)
    assert np.array_equal(sigs[0], sigs[1]) and np.array_equal(sigs[0], sigs[2])
    assert np.array_equal(sigs[3], sigs[4])  # shorter than a shingle: one shingle of all words
    assert np.array_equal(sigs[5], sigs[6])  # empty texts are identical
    assert not np.array_equal(sigs[0], sigs[3]) and not np.array_equal(sigs[0], sigs[7])
    assert minhash.signatures([]).shape == (0, 128)


def test_long_tokens_and_non_ascii_text_hash_consistently():
    token = "x" * 500
    texts = [f"see {token} here today", f"SEE {token} here today", f"see {token}y here today", "café naïve 東京 ok"]
    sigs = minhash.signatures(texts)
    assert np.array_equal(sigs[0], sigs[1]) and not np.array_equal(sigs[0], sigs[2])
    assert np.array_equal(sigs[3], minhash.signatures(["CAFÉ NAÏVE 東京 OK"])[0])


def test_estimated_jaccard_tracks_the_true_jaccard():
    rng = random.Random(5)
    base = random_texts(300, seed=2, vocabulary=200, length=(20, 60))
    pairs = []
    for text in base:
        words = text.split()
        for _ in range(rng.randint(0, 6)):
            words[rng.randrange(len(words))] = "edited"
        pairs.append((text, " ".join(words)))
    sigs = minhash.signatures([t for pair in pairs for t in pair], num_perm=256)
    estimates = (sigs[0::2] == sigs[1::2]).mean(axis=1)
    errors = np.abs(estimates - [jaccard(a, b) for a, b in pairs])
    assert errors.mean() < 0.03 and errors.max() < 0.15


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.8, 0.9, 0.95])
@pytest.mark.parametrize("num_perm", [64, 128, 256])
@pytest.mark.parametrize("weight", [0.5, 0.9])
def test_lsh_params_match_datasketch(threshold, num_perm, weight):
    expected = _optimal_param(threshold, num_perm, 1 - weight, weight)
    assert minhash.lsh_params(threshold, num_perm, false_negative_weight=weight) == expected


def brute_force(a, b, threshold, within):
    equal = (a[:, None, :] == b[None, :, :]).mean(axis=2)
    found = {(i, j) for i, j in zip(*np.nonzero(equal >= threshold - 1e-9))}
    return {(i, j) for i, j in found if i < j} if within else found


def test_candidate_pairs_within_and_across_sets():
    rng = random.Random(9)
    texts = random_texts(400, seed=3, length=(30, 50))
    texts += [t.replace(t.split()[rng.randrange(30)], "changed", 1) for t in texts[:120]]
    texts += texts[:20]  # exact copies
    sigs = minhash.signatures(texts)
    within = list(minhash.candidate_pairs(sigs, 0.7))
    assert within == sorted(within) and all(i < j and 0.7 <= s <= 1 for i, j, s in within)
    truth = brute_force(sigs, sigs, 0.7, within=True)
    found = {(i, j) for i, j, _ in within}
    assert found <= truth and len(found) >= 0.95 * len(truth) and len(truth) > 140
    left, right = sigs[:300], sigs[300:]
    across = {(i, j) for i, j, _ in minhash.candidate_pairs(left, 0.7, other=right)}
    truth = brute_force(left, right, 0.7, within=False)
    assert across <= truth and len(across) >= 0.95 * len(truth) and len(truth) > 100
    # Explicit bands (one band of all rows) still finds exact copies only.
    exact = {(i, j) for i, j, s in minhash.candidate_pairs(sigs, 0.7, bands=1)}
    assert exact == {(i, j) for i, j in brute_force(sigs, sigs, 1.0, within=True)}


def test_candidate_pairs_rejects_mismatched_signatures():
    with pytest.raises(ValueError, match="num_perm"):
        list(minhash.candidate_pairs(np.zeros((2, 64), np.uint32), 0.8, other=np.zeros((2, 32), np.uint32)))


def test_candidate_pairs_across_sets_with_repeated_members():
    a, b, c = random_texts(3, seed=4, length=(20, 30))
    left, right = minhash.signatures([a, a, b]), minhash.signatures([a, b, b, c])
    pairs = list(minhash.candidate_pairs(left, 0.9, other=right))
    assert pairs == [(0, 0, 1.0), (1, 0, 1.0), (2, 1, 1.0), (2, 2, 1.0)]
    assert list(minhash.candidate_pairs(minhash.signatures([a, b, a, a]), 0.9)) == [
        (0, 2, 1.0), (0, 3, 1.0), (2, 3, 1.0)]
