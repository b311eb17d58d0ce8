"""Batches built one query at a time, for selectors that pick a pair from per-response quantities.

A query is handed the local responses it may start from and the pool's still-selectable pairs, and returns
one pool row, which then stops being selectable, so a batch never repeats a pair. In-prompt pools (every pair
inside one prompt) give each query the responses of one prompt, prompts visited in a random order and a fresh
order once all are used, so a batch covers distinct prompts first; any other pool (cross-prompt, the implicit
all-pairs one included) gives each query all responses that still have a selectable partner.
"""

from collections.abc import Callable

import numpy as np
import torch

from benchmark.pools import CandidatePool, rank_triangle
from benchmark.selectors.base import SelectionContext

#: One query: (candidate local responses, the selectable pairs) -> the chosen pool row.
Query = Callable[[np.ndarray, "AvailablePairs"], int]


def query_batch(context: SelectionContext, n: int, query: Query) -> np.ndarray:
    """``n`` distinct pool rows, one ``query`` each (see the module docstring for which responses it gets)."""
    pool = context.pool
    pairs = AvailablePairs(pool)
    prompt = pool.prompt_of_response
    in_prompt = pool.within_prompts
    order, position = np.zeros(0, dtype=np.int64), 0
    rows = np.empty(n, dtype=np.int64)
    for step in range(n):
        if not pairs.degree.any():
            raise ValueError(f"the pool has {step} selectable pairs, fewer than the {n} requested")
        if not in_prompt:
            candidates = np.flatnonzero(pairs.degree)
        else:
            if position == len(order):  # every prompt in the order has a pair left when its turn comes
                order, position = context.rng.permutation(np.unique(prompt[pairs.degree > 0])), 0
            candidates = np.flatnonzero((prompt == order[position]) & (pairs.degree > 0))
            position += 1
        rows[step] = query(candidates, pairs)
        pairs.take(int(rows[step]))
    return rows


class AvailablePairs:
    """The pool's still-selectable pairs by response: partners of a response, and each response's count."""

    def __init__(self, pool: CandidatePool):
        self.pool = pool
        responses = len(pool.response_ids)
        if pool.implicit:
            first, second = pool.local_pairs(pool.excluded)
            self.taken = np.zeros(0, dtype=np.int64)
            self.degree = responses - 1 - np.bincount(np.concatenate([first, second]), minlength=responses)
            return
        ends = np.concatenate([pool.first, pool.second])
        order = np.argsort(ends, kind="stable")
        self.end = ends[order]
        self.partner = np.concatenate([pool.second, pool.first])[order]
        self.row = np.tile(np.arange(len(pool.first)), 2)[order]
        self.start = np.searchsorted(self.end, np.arange(responses + 1))
        self.available = np.ones(len(pool.first), dtype=bool)
        self.degree = np.bincount(ends, minlength=responses)

    def partners(self, a: int) -> tuple[np.ndarray, np.ndarray]:
        """Local responses b that still form a selectable pair with ``a``, and those pairs' rows."""
        if self.pool.implicit:
            others = np.delete(np.arange(len(self.pool.response_ids)), a)
            rows = rank_triangle(np.minimum(a, others), np.maximum(a, others), len(self.pool.response_ids))
            keep = ~self.blocked(rows)
            return others[keep], rows[keep]
        partners, rows = self.partner[self.start[a] : self.start[a + 1]], self.row[self.start[a] : self.start[a + 1]]
        keep = self.available[rows]
        return partners[keep], rows[keep]

    def best_partner_values(self, values: np.ndarray) -> np.ndarray:
        """max of ``values[b]`` over the selectable partners b of every response (R,); −inf without one.

        Implicit pools walk the responses in decreasing ``values`` and stop, per response, at the first one it
        still forms a selectable pair with; labelled and taken pairs are few per response, so the walk is short.
        """
        responses = len(self.pool.response_ids)
        if not self.pool.implicit:
            keep = self.available[self.row]
            best = torch.full((responses,), -torch.inf, dtype=torch.float64)
            index, partner_values = torch.as_tensor(self.end[keep]), torch.as_tensor(values[self.partner[keep]])
            return best.scatter_reduce_(0, index, partner_values, "amax").numpy()
        best = np.full(responses, -np.inf)
        order = np.argsort(-values, kind="stable")
        waiting = np.flatnonzero(self.degree > 0)
        for b in order:
            if len(waiting) == 0:
                break
            rows = rank_triangle(np.minimum(waiting, b), np.maximum(waiting, b), responses)
            found = (waiting != b) & ~self.blocked(np.where(waiting != b, rows, 0))
            best[waiting[found]] = values[b]
            waiting = waiting[~found]
        return best

    def blocked(self, rows: np.ndarray) -> np.ndarray:
        """Which implicit-pool ``rows`` are labelled (excluded) or already taken."""
        return self.pool.is_excluded(rows) | np.isin(rows, self.taken)

    def take(self, row: int) -> None:
        """Make pool row ``row`` unselectable."""
        first, second = self.pool.local_pairs(np.array([row]))
        self.degree[first] -= 1
        self.degree[second] -= 1
        if self.pool.implicit:
            self.taken = np.append(self.taken, row)
        else:
            self.available[row] = False
