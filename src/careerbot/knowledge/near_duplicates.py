"""All pairs of near-identical texts (rapidfuzz ratio >= a threshold), comparing only texts whose
lengths allow it.

A ratio of 95 needs the two lengths within about 10% of each other (the ratio is at most
2 * shorter / (shorter + longer)), so texts are grouped by length and each group is compared, in
rapidfuzz's vectorised C code, with the groups of compatible length only. That is about a tenth of all
pairs: 60k phrasings (10k entries) take seconds. Still quadratic, so 100k entries take minutes; only
whole loads run this (`careerbot validate`, a first index build); edits check just the changed entry.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from rapidfuzz import fuzz, process, utils
from tqdm import tqdm

ROWS_PER_CALL = 2048  # bounds the score matrix of one rapidfuzz call (rows x compatible texts bytes)


def near_duplicate_pairs(
    texts: Sequence[str], threshold: float, show_progress: bool = False, keep: int | None = None
) -> tuple[list[tuple[int, int]], int]:
    """Index pairs (i, j), i < j, whose texts score fuzz.ratio >= threshold after default_process; and
    how many there are. With `keep`, only that many pairs are returned (and held in memory): a thousand
    copies of one text make half a million pairs."""
    processed = [utils.default_process(text) for text in texts]
    length_of = np.fromiter((len(text) for text in processed), np.int64, len(processed))
    by_length: defaultdict[int, list[int]] = defaultdict(list)
    for i, text in enumerate(processed):
        by_length[len(text)].append(i)
    lengths = sorted(by_length)
    pairs: list[tuple[int, int]] = []
    total = 0
    for length in tqdm(lengths, desc="comparing phrasings", unit=" lengths", disable=not show_progress):
        # Partners of this length or longer, up to the longest that can still reach the threshold.
        partners = [
            j
            for other in lengths
            if length <= other and 200 * length >= threshold * (length + other) - 1e-6
            for j in by_length[other]
        ]
        rows = by_length[length]
        for start in range(0, len(rows), ROWS_PER_CALL):
            chunk = rows[start : start + ROWS_PER_CALL]
            scores = process.cdist(
                [processed[i] for i in chunk],
                [processed[j] for j in partners],
                scorer=fuzz.ratio,
                score_cutoff=threshold,
                dtype=np.uint8,
                workers=-1,
            )
            found, against = np.nonzero(scores)
            mine, theirs = np.asarray(chunk)[found], np.asarray(partners)[against]
            # Texts of one length meet from both ends, and each text meets itself; texts of different
            # lengths meet once, from the shorter one's side.
            once = (theirs > mine) | (length_of[theirs] != length)
            mine, theirs = mine[once], theirs[once]
            total += len(mine)
            room = len(mine) if keep is None else max(0, keep - len(pairs))
            pairs += [
                (min(x, y), max(x, y))
                for x, y in zip(mine[:room].tolist(), theirs[:room].tolist(), strict=True)
            ]
    return sorted(pairs), total
