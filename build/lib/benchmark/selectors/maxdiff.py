"""Max reward difference: pairs whose predicted outcome is most certain (reference ``levelset_rule(inverse=True)``).

The opposite of entropy sampling: the largest |r̂_a − r̂_b|, i.e. the pairs the model already ranks most
confidently — the "largest vs smallest" baseline of the reference code.
"""

import numpy as np

from benchmark.selectors.base import SelectionContext, Selector, require_explicit_pool, top_n


class MaxDiffSelector(Selector):
    def select(self, context: SelectionContext, n: int) -> np.ndarray:
        require_explicit_pool(context, "maxdiff")
        return top_n(context.reward_differences.abs(), n)
