"""Double Thompson sampling (Dwaracherla et al., 2024): each pair is two posterior draws' favourite responses.

One query: draw θ₁ from the last layer's Laplace posterior and take its best response a; draw θ₂ and take
its best response b among a and a's partners (responses that form a selectable pool pair with a). While
b = a, θ₂ is drawn again, at most ``max_redraws`` times; if the last draw still prefers a, b is that draw's
best partner of a. The pair (a, b) is explored where the posterior is unsure which response is best — the
pairs that matter for Best-of-N — rather than where the label is merely uncertain.

Setups: when every pool pair lies inside one prompt (in-prompt), each query takes the responses of one
prompt, prompts visited in a random order (a fresh order once all are used, so a batch covers distinct
prompts first); otherwise (cross-prompt) each query ranges over all the pool's responses. A batch is n
queries, none repeating a pair: a picked pair stops being selectable. The implicit all-pairs pool is
supported: a pair's row is its upper-triangle rank, and excluded (labelled) ranks are never partners.
θ is drawn in blocks (one Cholesky factor each), so a query costs O(R) after O(R·h) per drawn θ.
"""

import numpy as np

from benchmark.pools import CandidatePool, rank_triangle
from benchmark.selectors.base import SelectionContext, Selector
from benchmark.selectors.posterior import LastLayerPosterior

#: θ drawn per block at least (each block needs one Cholesky factor of the h × h precision).
MIN_BLOCK = 64


class DoubleTSSelector(Selector):
    implicit_pool = True

    def __init__(self, max_redraws: int = 10, prior_precision: float | None = None):
        if max_redraws < 0:
            raise ValueError(f"max_redraws must be zero or positive, got {max_redraws}")
        self.max_redraws = max_redraws
        self.prior_precision = prior_precision

    def select(self, context: SelectionContext, n: int) -> np.ndarray:
        pool = context.pool
        pairs = AvailablePairs(pool)
        draws = RewardDraws(context, LastLayerPosterior("laplace", max(2 * n, MIN_BLOCK), self.prior_precision))
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
            rows[step] = self.query(candidates, pairs, draws)
        return rows

    def query(self, candidates: np.ndarray, pairs: "AvailablePairs", draws: "RewardDraws") -> int:
        """One double-TS pair among ``candidates`` (local responses with a selectable partner); takes its row."""
        first = draws.next()
        a = int(candidates[np.argmax(first[candidates])])
        partners, rows = pairs.partners(a)
        for _ in range(self.max_redraws + 1):
            second = draws.next()
            best = int(np.argmax(second[partners]))
            if second[partners[best]] > second[a]:
                break
        pairs.take(int(rows[best]))
        return int(rows[best])


class RewardDraws:
    """Per-response rewards φθ under successive posterior draws of θ (R,), sampled a block at a time."""

    def __init__(self, context: SelectionContext, posterior: LastLayerPosterior):
        self.context, self.posterior = context, posterior
        self.block, self.used = np.zeros((0, 0)), 0

    def next(self) -> np.ndarray:
        if self.used == len(self.block):
            heads = self.posterior.sample(self.context)
            self.block, self.used = (heads @ self.context.features.double().T).cpu().numpy(), 0
        self.used += 1
        return self.block[self.used - 1]


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
        self.partner = np.concatenate([pool.second, pool.first])[order]
        self.row = np.tile(np.arange(len(pool.first)), 2)[order]
        self.start = np.searchsorted(ends[order], np.arange(responses + 1))
        self.available = np.ones(len(pool.first), dtype=bool)
        self.degree = np.bincount(ends, minlength=responses)

    def partners(self, a: int) -> tuple[np.ndarray, np.ndarray]:
        """Local responses b that still form a selectable pair with ``a``, and those pairs' rows."""
        if self.pool.implicit:
            others = np.delete(np.arange(len(self.pool.response_ids)), a)
            rows = rank_triangle(np.minimum(a, others), np.maximum(a, others), len(self.pool.response_ids))
            keep = ~self.pool.is_excluded(rows) & ~np.isin(rows, self.taken)
            return others[keep], rows[keep]
        partners, rows = self.partner[self.start[a] : self.start[a + 1]], self.row[self.start[a] : self.start[a + 1]]
        keep = self.available[rows]
        return partners[keep], rows[keep]

    def take(self, row: int) -> None:
        """Make pool row ``row`` unselectable."""
        first, second = self.pool.local_pairs(np.array([row]))
        self.degree[first] -= 1
        self.degree[second] -= 1
        if self.pool.implicit:
            self.taken = np.append(self.taken, row)
        else:
            self.available[row] = False
