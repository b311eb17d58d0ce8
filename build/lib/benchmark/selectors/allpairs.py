"""Scoring the implicit all-pairs pool block by block, and its top-n by a chunked partial sort.

A block covers anchors a ∈ [start, stop) against partners b ∈ [start, R): every pair a < b lies in
exactly one block, and blocks are visited in upper-triangle rank order, so a block's flat index order is
rank order. Only one block of scores (≈ ``BLOCK_VALUES`` entries) exists at a time, so memory is O(R·block),
never O(C(R,2)) and never O(pairs·h).
"""

from collections.abc import Callable, Iterator

import numpy as np
import torch

from benchmark.pools import CandidatePool, rank_triangle
from benchmark.selectors.ranking import top_n

#: Entries of one (anchors × partners) block: 16 MB of float32 scores, 32 MB of float64 weights.
BLOCK_VALUES = 1 << 22

#: Scores of the pairs (a ∈ [start, stop), b ∈ [start, R)) as a (stop − start, R − start) tensor.
BlockScores = Callable[[int, int], torch.Tensor]


def blocks(responses: int) -> Iterator[tuple[int, int]]:
    """Anchor ranges [start, stop) whose blocks hold about ``BLOCK_VALUES`` entries each."""
    start = 0
    while start < responses - 1:
        stop = min(responses - 1, start + max(1, BLOCK_VALUES // (responses - start)))
        yield start, stop
        start = stop


def fill_invalid_(block: torch.Tensor, pool: CandidatePool, start: int, stop: int, value: float) -> torch.Tensor:
    """Set, in place, the block entries that are not selectable pairs (b ≤ a, or excluded) to ``value``.

    Only the leading (stop − start) square holds pairs with b ≤ a, so only it is masked.
    """
    width = stop - start
    square = torch.ones((width, width), dtype=torch.bool, device=block.device).tril()
    block[:, :width].masked_fill_(square, value)
    span = rank_triangle([start, stop], [start + 1, stop + 1], len(pool.response_ids))
    low, high = np.searchsorted(pool.excluded, span)
    if high > low:
        first, second = pool.local_pairs(pool.excluded[low:high])
        anchors, partners = (torch.as_tensor(index - start, device=block.device) for index in (first, second))
        block[anchors, partners] = value
    return block


def top_pairs(pool: CandidatePool, scores: BlockScores, n: int) -> np.ndarray:
    """Rows (triangle ranks) of the ``n`` highest-scoring selectable pairs, best first, ties to the lower rank.

    Each block keeps its own top n (by ``torch.topk``, then every entry above the n-th value plus the
    lowest-ranked ones equal to it), merged with the running top n, so the result equals
    :func:`top_n` over all pairs.
    """
    responses = len(pool.response_ids)
    kept_values, kept_ranks = np.zeros(0, dtype=np.float64), np.zeros(0, dtype=np.int64)
    for start, stop in blocks(responses):
        block = fill_invalid_(scores(start, stop), pool, start, stop, -torch.inf).reshape(-1)
        threshold = torch.topk(block, min(n, len(block)), sorted=False).values.min()
        above = torch.nonzero(block > threshold).squeeze(1)
        tied = torch.nonzero(block == threshold).squeeze(1)[: n - len(above)]
        flat = torch.sort(torch.cat([above, tied])).values
        values = block[flat].double().cpu().numpy()
        flat = flat.cpu().numpy()[np.isfinite(values)]
        values = values[np.isfinite(values)]
        width = responses - start
        anchors, partners = start + flat // width, start + flat % width
        kept_values = np.concatenate([kept_values, values])
        kept_ranks = np.concatenate([kept_ranks, rank_triangle(anchors, partners, responses)])
        keep = np.sort(top_n(kept_values, n))
        kept_values, kept_ranks = kept_values[keep], kept_ranks[keep]
    if len(kept_ranks) < n:
        raise ValueError(f"the pool has {len(kept_ranks)} selectable pairs, fewer than the {n} requested")
    return kept_ranks[top_n(kept_values, n)]
