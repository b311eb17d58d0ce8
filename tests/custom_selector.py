"""The README's "Add a selector" example, kept verbatim so the test proves the documented recipe works."""

import numpy as np

from benchmark.selectors import SelectionContext, Selector, top_n


class SmallMarginSelector(Selector):
    """Pairs whose predicted reward gap is below `margin`, most uncertain first."""

    def __init__(self, margin: float = 0.5):
        self.margin = margin

    def select(self, context: SelectionContext, n: int) -> np.ndarray:
        gap = context.reward_differences.abs()  # |r̂_a − r̂_b| per pool pair
        return top_n(-(gap - self.margin).clamp(min=0) - 1e-3 * gap, n)
