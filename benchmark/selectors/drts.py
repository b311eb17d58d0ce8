"""Double reverse Thompson sampling, DRTS (Melikidze et al., 2026): a likely-best and a likely-worst response.

One query: draw z ~ U(−1, 1) per response and take a = argmax μ + z·w among the query's responses (a
Thompson-style draw inside each confidence interval, as in the authors' code); draw z' afresh and take
b = argmax −μ + z'·w among a and a's selectable partners — the reverse draw, a likely-worst response. While
that is a itself, z' is drawn again, at most ``max_iterations`` times; then b is a uniformly random partner
of a (the authors draw any response). The pair spans a large predicted gap, which the authors argue gives the
clearest preference signal. Batches and pools as in ``selectors.queries``.
"""

import numpy as np

from benchmark.selectors.base import SelectionContext
from benchmark.selectors.bounds import ConfidenceBoundSelector
from benchmark.selectors.posterior import Posterior
from benchmark.selectors.queries import AvailablePairs, query_batch


class DRTSSelector(ConfidenceBoundSelector):
    def __init__(self, max_iterations: int = 30, beta: float = 1.0, posterior: Posterior | None = None):
        if max_iterations < 0:
            raise ValueError(f"max_iterations must be zero or positive, got {max_iterations}")
        super().__init__(beta, posterior)
        self.max_iterations = max_iterations

    def select(self, context: SelectionContext, n: int) -> np.ndarray:
        mean, width = self.bounds(context)
        rng = context.rng

        def query(candidates: np.ndarray, pairs: AvailablePairs) -> int:
            draw = mean + rng.uniform(-1, 1, len(mean)) * width
            a = int(candidates[np.argmax(draw[candidates])])
            partners, rows = pairs.partners(a)
            for _ in range(self.max_iterations):
                reverse = -mean + rng.uniform(-1, 1, len(mean)) * width
                best = int(np.argmax(reverse[partners]))
                if reverse[partners[best]] > reverse[a]:
                    return int(rows[best])
            return int(rows[rng.integers(len(rows))])

        return query_batch(context, n, query)
