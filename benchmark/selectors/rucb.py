"""Relative upper confidence bound, RUCB (Zoghi et al., 2014, as run by Melikidze et al., 2026).

RUCB keeps the responses that could still be the best — c whose optimistic win probability against every
other response is at least ½ — and duels a uniformly drawn one of them against its strongest challenger.
With Bradley-Terry bounds, P(c ≻ j) ≤ σ(u_c − l_j), so c is kept when u_c ≥ max_{j ≠ c} l_j (the response
with the highest u always is); the challenger is argmax_j σ(u_j − l_c), i.e. c's selectable partner with the
highest upper bound u. The authors' code compares u_c with 0.5 on the reward scale, which depends on the
reward's arbitrary offset, so the relative form of the original RUCB is used here. Batches and pools as in
``selectors.queries``.
"""

import numpy as np

from benchmark.selectors.base import SelectionContext
from benchmark.selectors.bounds import ConfidenceBoundSelector
from benchmark.selectors.queries import AvailablePairs, query_batch


class RUCBSelector(ConfidenceBoundSelector):
    def select(self, context: SelectionContext, n: int) -> np.ndarray:
        mean, width = self.bounds(context)
        lower, upper = mean - width, mean + width
        rng = context.rng

        def query(candidates: np.ndarray, pairs: AvailablePairs) -> int:
            low = lower[candidates]
            top_two = np.sort(low)[-2:] if len(low) > 1 else np.array([-np.inf, low[0]])
            best_other_lower = np.where(low == top_two[-1], top_two[0], top_two[-1])
            plausible = candidates[upper[candidates] >= best_other_lower]
            c = int(plausible[rng.integers(len(plausible))])
            partners, rows = pairs.partners(c)
            return int(rows[np.argmax(upper[partners])])

        return query_batch(context, n, query)
