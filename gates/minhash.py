"""Vectorized MinHash on word shingles, and LSH banding to find similar pairs.

Normalization: a text is lowercased and split on Unicode whitespace (runs of
whitespace collapse; ASCII control characters separate words too); its
shingles are the runs of ``shingle_size`` consecutive words. A text with fewer
words is one shingle of all its words, an empty text one fixed "empty" shingle
(so two empty texts are identical).

Everything after the lowercasing runs in numpy over a batch of texts at once,
with no Python step per word, shingle or pair:

- word hashes: a polynomial hash (mod 2^64) of each word's UTF-8 bytes, plus
  its length, through the MurmurHash3 64-bit finalizer;
- shingle hashes: each word hash of the run times a distinct odd constant,
  summed and finalized again;
- signatures: ``num_perm`` affine permutations ``a*x + b mod 2^32`` of the
  shingle hashes' top 32 bits (odd a, b drawn from ``seed``; datasketch's
  "affine32" scheme), minimum per text with ``np.minimum.reduceat``.

The hashes are not datasketch's (it SHA-1s each shingle in Python, which is
what makes it slow); its LSH parameter choice is reproduced by
:func:`lsh_params`, so estimates agree up to MinHash sampling noise.
"""
import hashlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# Separates texts in the joined batch: lowercasing and UTF-8 keep it, and a
# NUL inside a text is first turned into a space (it is whitespace-like anyway).
SEPARATOR = "\x00"
# Every character str.isspace() knows (all below U+3001) becomes a plain space.
_WHITESPACE = {c: " " for c in range(0x3001) if chr(c).isspace()}
_BASE = np.uint64(0x100000001B3)  # the FNV-64 prime, as the polynomial base
_LONG_WORD = 64
_EMPTY = np.uint64(0x9E3779B97F4A7C15)  # the one shingle of an empty text
_CHUNK_BYTES = 500_000  # characters per batch: its arrays stay in the L2 cache through the permutations


def _fmix64(x):
    """MurmurHash3's 64-bit finalizer (an avalanching bijection), in place on a uint64 array."""
    x ^= x >> np.uint64(33)
    x *= np.uint64(0xFF51AFD7ED558CCD)
    x ^= x >> np.uint64(33)
    x *= np.uint64(0xC4CEB9FE1A85EC53)
    x ^= x >> np.uint64(33)
    return x


def _constants(count, seed, odd=True):
    rng = np.random.Generator(np.random.PCG64(seed))
    values = rng.integers(0, 1 << 64, size=count, dtype=np.uint64, endpoint=False)
    return values | np.uint64(1) if odd else values


def _shingle_hashes(texts, shingle_size):
    """(hashes, starts): every shingle's uint64 hash, grouped by text, and the
    index of each text's first shingle (every text has at least one)."""
    joined = SEPARATOR.join(texts)
    if joined.count(SEPARATOR) != len(texts) - 1:
        joined = SEPARATOR.join(t.replace(SEPARATOR, " ") for t in texts)
    normalized = joined.lower().translate(_WHITESPACE).encode("utf-8", "surrogatepass")
    return _hash_bytes(np.frombuffer(normalized, dtype=np.uint8), len(texts), shingle_size)


def _word_hashes(data, word_start, word_end):
    """Polynomial hash (base _BASE, mod 2^64) of each word's bytes, plus its
    length, finalized. Words are walked one byte offset at a time, longest
    first, so each step touches only the words still that long; the rare
    words over _LONG_WORD bytes are hashed one by one with BLAKE2b instead."""
    lengths = word_end - word_start
    hashes = np.zeros(len(lengths), dtype=np.uint64)
    long_words = np.flatnonzero(lengths > _LONG_WORD)
    for w in long_words.tolist():
        digest = hashlib.blake2b(data[word_start[w] : word_end[w]].tobytes(), digest_size=8).digest()
        hashes[w] = int.from_bytes(digest, "little")
    # Radix sort on the small capped lengths, longest first.
    order = np.argsort((_LONG_WORD + 1 - np.minimum(lengths, _LONG_WORD + 1)).astype(np.uint8), kind="stable")
    order = order[len(long_words) :]
    starts, sorted_lengths = word_start[order], lengths[order]
    active = np.searchsorted(-sorted_lengths, -np.arange(_LONG_WORD), side="left")
    rolling = np.zeros(len(order), dtype=np.uint64)
    for offset, count in enumerate(active.tolist()):
        if count == 0:
            break
        rolling[:count] *= _BASE
        rolling[:count] += data[starts[:count] + offset]
    hashes[order] = rolling
    hashes += lengths.astype(np.uint64)
    return _fmix64(hashes)


def _hash_bytes(data, n_texts, shingle_size):
    in_word = data > 32  # spaces, the separator and control characters end words
    edges = np.flatnonzero(np.concatenate(([False], in_word)) != np.concatenate((in_word, [False])))
    word_start, word_end = edges[0::2], edges[1::2]
    words = _word_hashes(data, word_start, word_end)
    # Which text each word belongs to, and each text's word range.
    text_of_word = np.searchsorted(np.flatnonzero(data == 0), word_start)
    word_counts = np.bincount(text_of_word, minlength=n_texts)
    first_word = np.concatenate(([0], np.cumsum(word_counts)[:-1]))
    end_of_word = (first_word + word_counts)[text_of_word]
    # A shingle starts at word p when k words fit in its text (summed over
    # contiguous slices), or at a short text's first word (its few words summed).
    k = shingle_size
    multipliers = _constants(k, seed=0x5EED)
    count = max(len(words) - k + 1, 0)
    full = np.zeros(count, dtype=np.uint64)
    for q in range(k):
        full += words[q : q + count] * multipliers[q]
    starts = np.flatnonzero(np.arange(count) + k <= end_of_word[:count])
    hashes = full[starts]
    short_first = first_word[(word_counts < k) & (word_counts > 0)]
    if len(short_first):
        short = np.zeros(len(short_first), dtype=np.uint64)
        for q in range(k - 1):
            inside = short_first + q < end_of_word[short_first]
            short[inside] += words[short_first[inside] + q] * multipliers[q]
        starts = np.concatenate((starts, short_first))
        order = np.argsort(starts, kind="stable")
        starts, hashes = starts[order], np.concatenate((hashes, short))[order]
    _fmix64(hashes)
    # Empty texts get the fixed empty shingle.
    owner = text_of_word[starts]  # already in text order
    empty = np.flatnonzero(word_counts == 0)
    if len(empty):
        owner = np.concatenate((owner, empty))
        order = np.argsort(owner, kind="stable")
        owner, hashes = owner[order], np.concatenate((hashes, np.full(len(empty), _EMPTY, np.uint64)))[order]
    per_text = np.bincount(owner, minlength=n_texts)
    return hashes, np.concatenate(([0], np.cumsum(per_text)[:-1]))


def _batches(texts):
    """Slices of ``texts`` of about _CHUNK_BYTES characters each."""
    start, size = 0, 0
    for i, text in enumerate(texts):
        size += len(text) + 1
        if size >= _CHUNK_BYTES:
            yield slice(start, i + 1)
            start, size = i + 1, 0
    if start < len(texts):
        yield slice(start, len(texts))


def _minima(texts, num_perm, shingle_size, seed):
    """Yield (batch slice, minima) per batch of about _CHUNK_BYTES characters:
    the batch's signatures permutation-major, shape (num_perm, batch size)."""
    if num_perm < 1 or shingle_size < 1:
        raise ValueError("num_perm and shingle_size must be at least 1")
    a = _constants(num_perm, seed).astype(np.uint32)  # odd: each permutation is a bijection
    b = _constants(num_perm, seed + 0x9E3779B9, odd=False).astype(np.uint32)
    for part in _batches(texts):
        hashes, starts = _shingle_hashes(texts[part], shingle_size)
        hashes = (hashes >> np.uint64(32)).astype(np.uint32)
        buffer = np.empty_like(hashes)
        minima = np.empty((num_perm, len(starts)), dtype=np.uint32)
        for p in range(num_perm):
            np.multiply(hashes, a[p], out=buffer)
            np.add(buffer, b[p], out=buffer)
            np.minimum.reduceat(buffer, starts, out=minima[p])
        yield part, minima


def signatures(texts, num_perm=128, shingle_size=3, seed=1):
    """MinHash signatures, shape (len(texts), num_perm), dtype uint32; the same
    texts and arguments always give the same signatures."""
    texts = list(texts)
    out = np.empty((len(texts), num_perm), dtype=np.uint32)
    for part, minima in _minima(texts, num_perm, shingle_size, seed):
        out[part] = minima.T
    return out


@lru_cache(maxsize=64)
def lsh_params(threshold, num_perm, false_negative_weight=0.9):
    """(bands, rows) minimizing the weighted false positive + false negative
    probability mass around ``threshold``: datasketch's ``_optimal_param`` with
    weights (1 - w, w), integrated on a fine grid instead of with scipy's quad.

    datasketch weighs both at 0.5, which at threshold 0.8 and 128 permutations
    makes a pair of true similarity 0.85 a candidate only 69% of the time. A
    false positive candidate costs one vectorized signature comparison, a false
    negative a missed duplicate, so the default leans to recall (w = 0.9:
    97.5% at 0.85)."""
    false_positive_weight = 1.0 - false_negative_weight
    grid = np.linspace(0.0, 1.0, 4001)
    below = grid <= threshold
    best, best_error = (1, 1), np.inf
    for bands in range(1, num_perm + 1):
        rows = np.arange(1, num_perm // bands + 1, dtype=float)[:, None]
        collide = 1.0 - (1.0 - grid[None, :] ** rows) ** bands  # P(candidate | similarity)
        false_positive = np.trapezoid(np.where(below, collide, 0.0), grid, axis=1)
        false_negative = np.trapezoid(np.where(below, 0.0, 1.0 - collide), grid, axis=1)
        error = false_positive * false_positive_weight + false_negative * false_negative_weight
        r = int(np.argmin(error))
        if error[r] < best_error - 1e-12:
            best, best_error = (bands, r + 1), error[r]
    return best


def _mix(columns):
    """One uint64 key per signature from ``columns`` (shape (rows, n), any layout): the
    rows' values times distinct odd constants, summed and finalized."""
    key = np.zeros(columns.shape[1], dtype=np.uint64)
    for q, multiplier in enumerate(_constants(len(columns), seed=0xBA4D)):
        key += columns[q].astype(np.uint64) * multiplier
    return _fmix64(key)


def _band_keys(sigs, band, rows):
    """One uint64 bucket key per signature (rows of ``sigs``) for ``band``."""
    return _mix(sigs[:, band * rows : (band + 1) * rows].T)


def _distinct(values):
    """The sorted distinct values: sort and drop repeats (several times faster than
    np.unique on millions of int64 keys in numpy 2.x, and no hash table in memory)."""
    values = np.sort(values)
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if len(values) else values


def _ragged_arange(counts):
    """Concatenated range(c) for each c in counts."""
    total = int(counts.sum())
    ends = np.cumsum(counts)
    return np.arange(total) - np.repeat(ends - counts, counts)


def _bucket_pairs(keys, split):
    """Pairs (i, j) sharing a key; with ``split`` only pairs i < split <= j."""
    order = np.argsort(keys, kind="stable")  # stable: indices ascend within a bucket
    ordered = keys[order]
    boundary = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1], [True])))
    sizes = np.diff(boundary)
    group = np.repeat(np.arange(len(sizes)), sizes)
    group_end = boundary[1:][group]
    position = np.arange(len(keys))
    if split is None:
        partner_start = position + 1
    else:
        # Bucket members of the first set come first; partners are the bucket's second-set members.
        first_count = np.add.reduceat(order < split, boundary[:-1]) if len(keys) else np.zeros(0, int)
        partner_start = (boundary[:-1] + first_count)[group]
        partner_start = np.where(order < split, partner_start, group_end)
    counts = group_end - partner_start
    left = np.repeat(order, counts)
    right = order[np.repeat(partner_start, counts) + _ragged_arange(counts)]
    return left, right


def candidate_pairs(sigs, threshold, other=None, bands=None, rows=None):
    """Yield (i, j, estimated_jaccard) for signature pairs that share an LSH
    bucket in some band and whose estimated Jaccard (share of equal signature
    columns) is at least ``threshold``; sorted by (i, j).

    Without ``other``: pairs within ``sigs`` with i < j. With ``other``: i
    indexes ``sigs`` and j indexes ``other``. ``bands`` and ``rows`` default to
    :func:`lsh_params`; given ``bands`` alone, rows is num_perm // bands.
    A bucket of m near-identical signatures costs m² pairs: collapse identical
    signatures first when many exact copies are expected (as :func:`sketch_pairs` does).
    """
    sigs = np.asarray(sigs)
    num_perm = sigs.shape[1]
    targets = sigs if other is None else np.asarray(other)
    if targets.shape[1] != num_perm:
        raise ValueError("signatures differ in num_perm")
    if bands is None:
        bands, rows = lsh_params(threshold, num_perm)
    rows = rows or num_perm // bands
    if bands * rows > num_perm:
        raise ValueError(f"{bands} bands of {rows} rows need more than {num_perm} permutations")
    split = None if other is None else len(sigs)
    stacked = sigs if other is None else np.concatenate((sigs, targets))
    width = len(targets)
    found = []
    for band in range(bands):
        left, right = _bucket_pairs(_band_keys(stacked, band, rows), split)
        if split is not None:
            right = right - split
        found.append(_distinct(left.astype(np.int64) * width + right))
    keys = _distinct(np.concatenate(found)) if found else np.zeros(0, np.int64)
    needed = threshold * num_perm - 1e-9
    for start in range(0, len(keys), 200_000):
        chunk = keys[start : start + 200_000]
        i, j = chunk // width, chunk % width
        equal = (sigs[i] == targets[j]).sum(axis=1)
        keep = equal >= needed
        for a, b, e in zip(i[keep].tolist(), j[keep].tolist(), equal[keep].tolist()):
            yield a, b, e / num_perm


# -- The gate's streamed sketch -------------------------------------------------------
# A million signatures of 128 uint32 would take 512 MB. The near-duplicate gate keeps
# only what it reads: each band's 32-bit bucket key, the low COMPACT_BITS bits of every
# minimum (b-bit MinHash, Li & König 2010) to estimate Jaccard, and one 64-bit hash of
# the whole signature to group identical ones: 128 + 4 × bands + 8 bytes per text.
COMPACT_BITS = 8
_CHANCE = 2.0 ** -COMPACT_BITS  # P(two different minima agree on their low bits)
_PAIR_CHUNK = 65_536


@dataclass
class Sketch:
    band_keys: np.ndarray  # (bands, n) uint32: the bucket of each text in each band
    compact: np.ndarray  # (n, num_perm) uint8: the low bits of each minimum
    identity: np.ndarray  # (n,) uint64: a hash of the whole signature


def sketch(texts, *, num_perm, shingle_size, seed, bands, rows):
    """The :class:`Sketch` of ``texts``, written batch by batch: no signature matrix (nor a
    transposed copy of one) is ever held, only one batch's minima at a time."""
    if bands * rows > num_perm:
        raise ValueError(f"{bands} bands of {rows} rows need more than {num_perm} permutations")
    texts = list(texts)
    out = Sketch(np.empty((bands, len(texts)), np.uint32), np.empty((len(texts), num_perm), np.uint8),
                 np.empty(len(texts), np.uint64))
    for part, minima in _minima(texts, num_perm, shingle_size, seed):
        for band in range(bands):
            out.band_keys[band, part] = _mix(minima[band * rows : (band + 1) * rows]) >> np.uint64(32)
        out.compact[part] = minima.T.astype(np.uint8)  # the low 8 bits (the cast wraps)
        out.identity[part] = _mix(minima)
    return out


def estimated_jaccard(compact, left, right):
    """b-bit estimate of the Jaccard similarity of each pair (left[k], right[k]):
    the share of equal low bits, corrected for chance agreement, clipped to [0, 1]."""
    equal = np.empty(len(left))
    for start in range(0, len(left), _PAIR_CHUNK):
        i, j = left[start : start + _PAIR_CHUNK], right[start : start + _PAIR_CHUNK]
        equal[start : start + _PAIR_CHUNK] = np.count_nonzero(compact[i] == compact[j], axis=1)
    equal /= compact.shape[1]
    return np.clip((equal - _CHANCE) / (1.0 - _CHANCE), 0.0, 1.0)


def sketch_pairs(sk, threshold, members):
    """(left, right): pairs of ``members`` (indices into the sketch, one per distinct
    signature) sharing a bucket in some band and whose estimated Jaccard is at least
    ``threshold``; left < right as positions in ``members``, sorted.

    Band by band, each band's candidates are verified at once and only the similar
    pairs kept: memory follows one band's candidates, not all bands' (templated texts
    share buckets often: 12.5M candidates for 36k similar pairs in a 1M planted pool)."""
    members = np.asarray(members, dtype=np.int64)
    width = len(members)
    found = []
    for band in range(len(sk.band_keys)):
        left, right = _bucket_pairs(sk.band_keys[band, members], None)
        keys = _distinct(left.astype(np.int64) * width + right)
        left, right = keys // width, keys % width
        found.append(keys[estimated_jaccard(sk.compact, members[left], members[right]) >= threshold - 1e-9])
    keys = _distinct(np.concatenate(found)) if found else np.zeros(0, np.int64)
    return keys // width, keys % width
