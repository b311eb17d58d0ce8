"""Entropy (uncertainty) sampling: pairs whose predicted outcome is closest to a coin flip.

The Bernoulli entropy of σ(Δr̂) is maximal at Δr̂ = 0, so this takes the smallest |r̂_a − r̂_b|.
"""

import numpy as np
import torch

from benchmark.selectors.allpairs import top_pairs
from benchmark.selectors.base import SelectionContext, Selector, top_n


class EntropySelector(Selector):
    implicit_pool = True

    def select(self, context: SelectionContext, n: int) -> np.ndarray:
        if context.pool.implicit:
            rewards = context.rewards

            def closeness(start: int, stop: int) -> torch.Tensor:
                return -(rewards[start:stop, None] - rewards[start:]).abs()

            return top_pairs(context.pool, closeness, n)
        return top_n(-context.reward_differences.abs(), n)
