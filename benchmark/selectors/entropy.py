"""Entropy (uncertainty) sampling: pairs whose predicted outcome is closest to a coin flip.

The Bernoulli entropy of σ(Δr̂) is maximal at Δr̂ = 0, so this takes the smallest |r̂_a − r̂_b|.
"""

import numpy as np

from benchmark.selectors.base import SelectionContext, Selector, top_n


class EntropySelector(Selector):
    def select(self, context: SelectionContext, n: int) -> np.ndarray:
        return top_n(-context.reward_differences.abs(), n)
