"""Double Thompson sampling (Dwaracherla et al., 2024): each pair is two posterior draws' favourite responses.

One query: draw θ₁ from the last layer's posterior (the run's ``posterior``, Laplace by default) and take its
best response a; draw θ₂ and take its best response b among a and a's partners (responses that form a selectable
pool pair with a). While b = a, θ₂ is drawn again, at most ``max_redraws`` times; if the last draw still prefers a,
b is that draw's best partner of a. The pair (a, b) is explored where the posterior is unsure which response is
best — the pairs that matter for Best-of-N — rather than where the label is merely uncertain.

Setups and batches as in ``selectors.queries``: in-prompt, one prompt per query in a random order; otherwise
all the pool's responses; n queries, none repeating a pair. The implicit all-pairs pool is supported: a
pair's row is its upper-triangle rank, and excluded (labelled) ranks are never partners.
θ is drawn in blocks (one Cholesky factor each), so a query costs O(R) after O(R·h) per drawn θ.
"""

import numpy as np

from benchmark.selectors.base import SelectionContext, Selector
from benchmark.selectors.posterior import LaplacePosterior, Posterior
from benchmark.selectors.queries import AvailablePairs, query_batch

#: θ drawn per block at least (each block needs one Cholesky factor of the h × h precision).
MIN_BLOCK = 64


class DoubleTSSelector(Selector):
    implicit_pool = True

    def __init__(self, max_redraws: int = 10, posterior: Posterior | None = None):
        if max_redraws < 0:
            raise ValueError(f"max_redraws must be zero or positive, got {max_redraws}")
        self.max_redraws = max_redraws
        self.posterior = posterior or LaplacePosterior()  # the run's ``posterior`` group; draws come in blocks

    def select(self, context: SelectionContext, n: int) -> np.ndarray:
        draws = RewardDraws(context, self.posterior, max(2 * n, MIN_BLOCK))
        return query_batch(context, n, lambda candidates, pairs: self.query(candidates, pairs, draws))

    def query(self, candidates: np.ndarray, pairs: AvailablePairs, draws: "RewardDraws") -> int:
        """One double-TS pair among ``candidates`` (local responses with a selectable partner): its row."""
        first = draws.next()
        a = int(candidates[np.argmax(first[candidates])])
        partners, rows = pairs.partners(a)
        for _ in range(self.max_redraws + 1):
            second = draws.next()
            best = int(np.argmax(second[partners]))
            if second[partners[best]] > second[a]:
                break
        return int(rows[best])


class RewardDraws:
    """Per-response rewards φθ under successive posterior draws of θ (R,), sampled a block at a time."""

    def __init__(self, context: SelectionContext, posterior: Posterior, block: int):
        self.context, self.posterior, self.size = context, posterior, block
        self.block, self.used = np.zeros((0, 0)), 0

    def next(self) -> np.ndarray:
        if self.used == len(self.block):
            heads = self.posterior.sample(self.context, self.size)
            self.block, self.used = (heads @ self.context.features.double().T).cpu().numpy(), 0
        self.used += 1
        return self.block[self.used - 1]
