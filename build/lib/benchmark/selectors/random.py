"""Uniform sampling: the baseline every active method must beat."""

import numpy as np

from benchmark.selectors.base import SelectionContext, Selector


class RandomSelector(Selector):
    implicit_pool = True

    def select(self, context: SelectionContext, n: int) -> np.ndarray:
        return context.pool.sample_rows(context.rng, n)
