"""InfoMax (as compared by Melikidze et al., 2026): the pair whose win probability is least pinned down.

With the Bradley-Terry link, the intervals bound P(a ≻ b) between σ(l_a − u_b) and σ(u_a − l_b); the score
is that interval's width, σ(Δ + w_a + w_b) − σ(Δ − w_a − w_b) with Δ = μ_a − μ_b (the same for b ≻ a). It is
largest for uncertain responses predicted close together: the opposite of DeltaUCB's large gaps. Batches
and pools as in ``selectors.bounds``.
"""

import numpy as np
import torch

from benchmark.selectors.base import SelectionContext
from benchmark.selectors.bounds import ConfidenceBoundSelector, select_by_pair_score


class InfoMaxSelector(ConfidenceBoundSelector):
    def select(self, context: SelectionContext, n: int) -> np.ndarray:
        mean, width = self.bounds(context)

        def probability_width(ma, mb, wa, wb):
            gap, spread = ma - mb, wa + wb
            return torch.sigmoid(gap + spread) - torch.sigmoid(gap - spread)

        return select_by_pair_score(context, n, mean, width, probability_width)
