"""All pairs of near-identical texts (rapidfuzz ratio >= a threshold), in time that grows with the number
of texts rather than its square: candidates come from an index of character windows, and rapidfuzz's
ratio is computed for candidates only. The result is exactly the pairs that comparing all pairs gives.

Why no pair is missed (the filter is a bound, not a heuristic). fuzz.ratio(a, b) is
100 * (1 - d / (len(a) + len(b))), where d is the Indel distance (insertions and deletions turning a
into b), and d >= |len(a) - len(b)|. So ratio >= T needs a partner no longer than len(a) * (200 - T) / T,
and then d <= tau(a) = (100 - T) / 100 * (len(a) + that longest partner). Cut a into tau(a) + 1 windows
that do not overlap: one deletion removes a character of at most one window, one insertion lands inside
at most one window, so at most tau(a) windows are touched and at least one appears unchanged in b, moved
by at most tau(a) places (each edit before it moves it by one). Any tau(a) + 1 windows will do, so each
text takes the rarest ones (a small dynamic programme per length), and looks them up among every window
of the same length of every text, at most tau(a) places away. A hash collision only adds candidates.

Identical texts are compared once (a thousand copies of one text make half a million pairs, counted
rather than compared), and a text too short to hold tau + 1 windows is compared with every text of a
length that can reach the threshold, as before (so is one that would need windows under three characters:
they would find nearly every text, as at low thresholds).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.typing import NDArray
from rapidfuzz import fuzz, process, utils
from tqdm import tqdm

WINDOW = 7  # longest window: long enough to be rare in 600k phrasings, short enough to leave a choice
HITS_PER_BATCH = 1_000_000  # bounds the window hits held at once (tens of bytes each)
SHORTEST_WINDOW = 3  # shorter windows (texts too short for tau + 1 windows) find everything: compare all
PAIRS_PER_CALL = 1_000_000  # candidate pairs scored per rapidfuzz call
LENGTH_BAND = 4  # texts indexed by length in bands this wide, so a lookup skips lengths out of reach
LETTER_BUCKETS = 64  # letter counts kept per text for the last filter (code point modulo this)
# The same filter, coarser, on every window hit: 16 counts compare four times faster than 64 and drop
# nearly as many (at 100k synthetic entries, 29M hits of different texts, 20 alike).
COARSE_BUCKETS = 16
ROWS = 20_000
THREADS = 2  # the window lookups of this many length bands at once
# The programme takes windows x places vector steps per length: for texts longer than about 150
# characters it would cost more than rare windows save, and they are few.
PLACEMENT_STEPS = (
    2_000  # texts placed at once by the dynamic programme (its table is windows x places x rows)
)
_HASH = np.uint64(0x9E3779B97F4A7C15)  # an odd 64-bit multiplier for the polynomial window hash
_FAR = 1 << 50  # "no way to fit the windows" in the dynamic programme

Ints = NDArray[np.int64]


def near_duplicate_pairs(
    texts: Sequence[str], threshold: float, show_progress: bool = False, keep: int | None = None
) -> tuple[list[tuple[int, int]], int]:
    """Index pairs (i, j), i < j, whose texts score fuzz.ratio >= threshold (0 < threshold <= 100) after
    default_process, sorted; and how many there are. With `keep`, only the first that many pairs are
    returned (and held in memory)."""
    copies: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        copies.setdefault(utils.default_process(text), []).append(i)
    distinct = list(copies)
    alike = alike_pairs(distinct, threshold, show_progress)
    groups = [copies[text] for text in distinct]
    self_alike = [fuzz.ratio(text, text, score_cutoff=threshold) > 0 for text in distinct]
    total = sum(len(g) * (len(g) - 1) // 2 for g, same in zip(groups, self_alike, strict=True) if same)
    total += sum(len(groups[u]) * len(groups[v]) for u, v in alike)
    pairs = list(_index_pairs(groups, self_alike, alike, keep))
    return pairs, total


def alike_pairs(texts: Sequence[str], threshold: float, show_progress: bool = False) -> list[tuple[int, int]]:
    """Pairs (i, j), i < j, of texts (already processed, all different) with fuzz.ratio >= threshold."""
    if not texts:
        return []
    lengths = np.fromiter(map(len, texts), np.int64, len(texts))
    longest_partner = np.floor(lengths * (200 - threshold) / threshold + 1e-6).astype(np.int64)
    tau = np.floor((100 - threshold) * (lengths + longest_partner) / 100 + 1e-6).astype(np.int64)
    window = np.minimum(WINDOW, lengths // (tau + 1))
    window[window < SHORTEST_WINDOW] = 0
    found = [_pairs_of_short(texts, lengths, np.flatnonzero(window == 0), threshold)]
    coarse = _letter_counts(texts, lengths, COARSE_BUCKETS)
    for size in tqdm(
        np.unique(window[window > 0]).tolist(), desc="comparing phrasings", disable=not show_progress
    ):
        probing = np.flatnonzero(window == size)
        low, high = lengths[probing].min(), longest_partner[probing].max()
        indexed = np.flatnonzero(
            (lengths >= max(size, low * threshold / (200 - threshold) - 1e-6)) & (lengths <= high)
        )
        found.append(_pairs_by_windows(texts, lengths, tau, probing, indexed, int(size), threshold, coarse))
    candidates = _distinct(np.concatenate(found))
    first, second = _within_letter_counts(texts, lengths, *np.divmod(candidates, len(texts)), threshold)
    return list(zip(*_scored(texts, first, second, threshold), strict=True))


def _pairs_of_short(texts: Sequence[str], lengths: Ints, short: Ints, threshold: float) -> Ints:
    """Candidate pairs (as i * n + j) of texts too short for windows: every text of a reachable length."""
    pairs = [np.zeros(0, np.int64)]
    for i in short.tolist():
        partners = np.flatnonzero(_reachable(lengths[i], lengths, threshold))
        partners = partners[partners != i]
        pairs.append(_pair_keys(np.full(len(partners), i), partners, len(texts)))
    return np.concatenate(pairs)


def _pairs_by_windows(
    texts: Sequence[str],
    lengths: Ints,
    tau: Ints,
    probing: Ints,
    indexed: Ints,
    size: int,
    threshold: float,
    coarse: Counts,
) -> Ints:
    """Candidate pairs (as i * n + j, i < j) of a text in `probing` and a text in `indexed` that share one
    of the probing text's chosen windows, moved by at most tau edits. Edits before the window move it
    from the start, edits after it from the end, by tau in all: so the lengths differ by tau at most, and
    so does the window's skew (twice its position less the text's length: where it sits off the middle).
    The index is ordered by window, length band and skew, so a lookup reads only hits of that kind.
    `coarse`: each text's letter counts, for the letter count filter on every hit."""
    keys, owners, starts, (band_bits, bits) = _window_index(texts, lengths, indexed, size)
    grams = keys >> np.uint64(bits + band_bits)
    order = np.argsort(keys)  # the order among equal keys changes nothing found
    keys, owners = keys[order], owners[order]
    sorted_grams = keys >> np.uint64(bits)  # a window's rarity among texts of about the same length
    run_starts = np.flatnonzero(np.concatenate(([True], sorted_grams[1:] != sorted_grams[:-1])))
    del sorted_grams
    counts = np.diff(np.append(run_starts, len(keys)))
    frequency = np.empty(len(keys), np.int64)
    frequency[order] = np.repeat(counts, counts)
    del order, run_starts, counts
    # Where each probing text's windows are in the unsorted index: it is indexed too (it can reach itself).
    first_window = starts[np.searchsorted(indexed, probing)]
    chosen_text, at = _rarest_windows(lengths[probing], tau[probing], size, frequency, first_window)
    del frequency
    text = probing[chosen_text]
    gram = grams[first_window[chosen_text] + at] << np.uint64(band_bits)
    del grams
    spread, length = tau[text], lengths[text]
    skew = 2 * at - length + int(lengths.max())  # never negative

    def band_pairs(band: int) -> Ints:
        """The pairs found in the probing text's length band + `band` (the partner's length is within
        spread of this one's: its band and the next few)."""
        wanted = (length - spread) // LENGTH_BAND + band
        probe = np.flatnonzero((wanted <= (length + spread) // LENGTH_BAND) & (wanted >= 0))
        prefix = (gram[probe] | wanted[probe].astype(np.uint64)) << np.uint64(bits)
        low = prefix | np.maximum(skew[probe] - spread[probe], 0).astype(np.uint64)
        high = prefix | np.minimum(skew[probe] + spread[probe], (1 << bits) - 1).astype(np.uint64)
        # Looked up in order: each search then starts where the last one ended (far fewer cache misses).
        by_key = np.argsort(low)
        first, last = np.empty_like(probe), np.empty_like(probe)
        first[by_key] = np.searchsorted(keys, low[by_key])
        last[by_key] = np.searchsorted(keys, high[by_key], side="right")
        ends = np.cumsum(last - first)
        cuts = np.searchsorted(ends, np.arange(HITS_PER_BATCH, ends[-1] if len(ends) else 0, HITS_PER_BATCH))
        pairs = [np.zeros(0, np.int64)]
        for part in np.split(np.arange(len(probe)), np.unique(cuts)):
            hits = last[part] - first[part]
            found = np.repeat(first[part] - np.cumsum(hits) + hits, hits) + np.arange(hits.sum())
            prober = np.repeat(probe[part], hits)
            mine, theirs = _plausible(text[prober], owners[found], lengths, tau, threshold)
            close = _letters_close(coarse, lengths, mine, theirs, threshold)
            pairs.append(mine[close] * len(texts) + theirs[close])
        return np.concatenate(pairs)

    # numpy lets go of the GIL in its loops: two bands at once use both cores.
    with ThreadPoolExecutor(THREADS) as pool:
        pairs = [
            np.zeros(0, np.int64),
            *pool.map(band_pairs, range(-(-(2 * int(spread.max()) + 1) // LENGTH_BAND) + 1)),
        ]
    return _distinct(np.concatenate(pairs))


def _window_index(
    texts: Sequence[str], lengths: Ints, indexed: Ints, size: int
) -> tuple[NDArray[np.uint64], Ints, Ints, tuple[int, int]]:
    """Every window of `size` characters of the indexed texts as one number, hash | length band | skew
    (2 * position - length + the longest length; a hash collision only adds candidates), with its text's
    number; where each indexed text's windows start in these arrays; and the bits of band and skew."""
    chars = np.frombuffer("\0".join(texts[i] for i in indexed.tolist()).encode("utf-32-le"), np.uint32)
    hashes = np.zeros(max(len(chars) - size + 1, 0), np.uint64)
    for offset in range(size):
        hashes = hashes * _HASH + chars[offset : offset + len(hashes)].astype(np.uint64)
    windows = lengths[indexed] - size + 1
    text_starts = np.concatenate(([0], np.cumsum(lengths[indexed] + 1)[:-1]))
    starts = np.concatenate(([0], np.cumsum(windows)[:-1]))
    positions = np.arange(windows.sum()) - np.repeat(starts, windows)
    bits = max(int(3 * lengths.max()).bit_length(), 1)
    band_bits = max(int(lengths.max() // LENGTH_BAND).bit_length(), 1)
    hashed = hashes[np.repeat(text_starts, windows) + positions] >> np.uint64(bits + band_bits)
    band = np.repeat(lengths[indexed] // LENGTH_BAND, windows).astype(np.uint64)
    skew = 2 * positions - np.repeat(lengths[indexed], windows) + int(lengths.max())
    keys = (((hashed << np.uint64(band_bits)) | band) << np.uint64(bits)) | skew.astype(np.uint64)
    return keys, np.repeat(indexed, windows).astype(np.int32), starts, (band_bits, bits)


def _plausible(mine: Ints, theirs: Ints, lengths: Ints, tau: Ints, threshold: float) -> tuple[Ints, Ints]:
    """The hits (my window found in their text, skews at most tau apart: the lookup's range) that can be
    a pair: each pair once (i < j: either text's windows find the other), lengths at most tau apart,
    and lengths that allow the threshold."""
    once = mine < theirs
    mine, theirs = mine[once], theirs[once]
    mine_length, their_length = lengths[mine], lengths[theirs]
    near = np.abs(their_length - mine_length) <= tau[mine]
    useful = near & _reachable(mine_length, their_length, threshold)
    return mine[useful], theirs[useful]


def _rarest_windows(lengths: Ints, tau: Ints, size: int, frequency: Ints, starts: Ints) -> tuple[Ints, Ints]:
    """For each text, tau + 1 windows that do not overlap with the least total frequency: (the text's
    number in `lengths`, the window's position), tau + 1 rows per text."""
    texts: list[Ints] = []
    positions: list[Ints] = []
    for length in np.unique(lengths).tolist():
        count, places = int(tau[lengths == length][0]) + 1, length - size + 1
        for same in np.array_split(np.flatnonzero(lengths == length), -(-np.sum(lengths == length) // ROWS)):
            cost = frequency[starts[same][:, None] + np.arange(places)]
            texts.append(np.repeat(same, count))
            if count * places > PLACEMENT_STEPS:  # a long text: evenly spaced windows, found at once
                positions.append(np.tile(np.arange(count) * size, len(same)))
            else:
                positions.append(_cheapest_placement(cost, count, size).ravel())
    return np.concatenate(texts), np.concatenate(positions)


def _cheapest_placement(cost: Ints, count: int, size: int) -> Ints:
    """Rows of `count` window positions, `size` apart at least, with the least sum of cost per row."""
    rows, places = cost.shape
    # best[k, s]: the least cost of k windows starting at s or later.
    best = np.full((count + 1, places + size, rows), _FAR, np.int64)
    best[0] = 0
    for k in range(1, count + 1):
        for s in range(places - 1, -1, -1):
            best[k, s] = np.minimum(best[k, s + 1], cost[:, s] + best[k - 1, s + size])
    chosen = np.zeros((rows, count), np.int64)
    at = np.zeros(rows, np.int64)
    for j, k in enumerate(range(count, 0, -1)):
        pick = np.full(rows, -1)
        for s in range(places):
            take = (pick < 0) & (at <= s) & (best[k, s] == cost[:, s] + best[k - 1, s + size])
            pick[take] = s
        chosen[:, j], at = pick, pick + size
    return chosen


def _within_letter_counts(
    texts: Sequence[str], lengths: Ints, first: Ints, second: Ints, threshold: float
) -> tuple[Ints, Ints]:
    """The pairs whose letter counts (in LETTER_BUCKETS buckets) pass `_letters_close`."""
    counts = _letter_counts(texts, lengths, LETTER_BUCKETS)
    kept = [
        start + np.flatnonzero(_letters_close(counts, lengths, a, b, threshold))
        for start in range(0, len(first), PAIRS_PER_CALL)
        for a, b in [(first[start : start + PAIRS_PER_CALL], second[start : start + PAIRS_PER_CALL])]
    ]
    chosen = np.concatenate(kept) if kept else np.zeros(0, np.int64)
    return first[chosen], second[chosen]


Counts = NDArray[np.int16]


def _letter_counts(texts: Sequence[str], lengths: Ints, buckets: int) -> Counts:
    """Each text's count of characters per bucket of code points (code point modulo `buckets`)."""
    chars = np.frombuffer("".join(texts).encode("utf-32-le"), np.uint32) % buckets
    owner = np.repeat(np.arange(len(texts)), lengths)
    counts = np.bincount(owner * buckets + chars, minlength=len(texts) * buckets)
    return counts.reshape(len(texts), buckets).astype(np.int16)


def _letters_close(counts: Counts, lengths: Ints, a: Ints, b: Ints, threshold: float) -> NDArray[np.bool_]:
    """Whether the letter counts of texts a and b differ by no more than the edits the threshold allows:
    each insertion or deletion changes one count by one. Sharing a bucket only makes counts closer, so
    no pair that can reach the threshold is dropped, however few the buckets."""
    apart = np.abs(counts[a] - counts[b]).sum(axis=1)
    return np.asarray(apart <= np.floor((100 - threshold) * (lengths[a] + lengths[b]) / 100 + 1e-6))


def _distinct(numbers: Ints) -> Ints:
    """Sorted, each once (np.unique, but sorting: faster on tens of millions)."""
    numbers = np.sort(numbers)
    first = np.ones(len(numbers), bool)
    first[1:] = numbers[1:] != numbers[:-1]
    return numbers[first]


def _reachable(length: Ints | int, other: Ints, threshold: float) -> NDArray[np.bool_]:
    """Lengths that allow the threshold: the ratio is at most 200 * shorter / (shorter + longer)."""
    shorter = np.minimum(length, other)
    return np.asarray(200 * shorter >= threshold * (length + other) - 1e-6)


def _pair_keys(mine: Ints, theirs: Ints, n: int) -> Ints:
    return np.minimum(mine, theirs) * n + np.maximum(mine, theirs)


def _scored(texts: Sequence[str], first: Ints, second: Ints, threshold: float) -> tuple[list[int], list[int]]:
    """The candidate pairs that reach the threshold."""
    kept_first: list[int] = []
    kept_second: list[int] = []
    for start in range(0, len(first), PAIRS_PER_CALL):
        a, b = first[start : start + PAIRS_PER_CALL], second[start : start + PAIRS_PER_CALL]
        scores = process.cpdist(
            [texts[i] for i in a.tolist()],
            [texts[j] for j in b.tolist()],
            scorer=fuzz.ratio,
            score_cutoff=threshold,
            workers=-1,
        )
        alike = np.flatnonzero(scores)
        kept_first += a[alike].tolist()
        kept_second += b[alike].tolist()
    return kept_first, kept_second


def _index_pairs(
    groups: list[list[int]],
    self_alike: list[bool],
    alike: list[tuple[int, int]],
    keep: int | None,
) -> Iterator[tuple[int, int]]:
    """The pairs of text numbers, in order, that the alike distinct texts stand for (up to `keep`)."""
    near: list[list[int]] = [[] for _ in groups]
    for u, v in alike:
        near[u].append(v)
        near[v].append(u)
    paired = [g for g, members in enumerate(groups) if near[g] or (self_alike[g] and len(members) > 1)]
    group_of = {i: g for g in paired for i in groups[g]}
    given = 0
    for i in sorted(group_of):
        if keep is not None and given >= keep:
            return
        own = group_of[i]
        partners = [j for j in groups[own] if j > i] if self_alike[own] else []
        partners += [j for other in near[own] for j in groups[other] if j > i]
        for j in sorted(partners)[: None if keep is None else keep - given]:
            given += 1
            yield i, j
