"""MaxMinLCB (Pásztor et al., 2024, as run by Melikidze et al., 2026): the response that wins even pessimistically.

The lower confidence bound of "i beats j" on the reward scale is LCB(i, j) = μ_i − μ_j − (w_i + w_j). One
query takes i = argmax over the query's responses of min_j LCB(i, j), j over i's selectable partners, and
pairs it with that minimising j — its strongest plausible challenger. Since min_j LCB(i, j) = (μ_i − w_i) −
max_j (μ_j + w_j), j is i's partner with the highest upper bound, and each query costs O(R) from the
per-response bounds (no R × R matrix), so the implicit all-pairs pool is served exactly. Ties go to the lower
index (the authors break ties within 10⁻⁴ at random); their optional pruning of clearly worse responses
(``use_candidate_set``, off in their runs) is left out. Batches and pools as in ``selectors.queries``.
"""

import numpy as np

from benchmark.selectors.base import SelectionContext
from benchmark.selectors.bounds import ConfidenceBoundSelector
from benchmark.selectors.queries import AvailablePairs, query_batch


class MaxMinLCBSelector(ConfidenceBoundSelector):
    def select(self, context: SelectionContext, n: int) -> np.ndarray:
        mean, width = self.bounds(context)
        lower, upper = mean - width, mean + width

        def query(candidates: np.ndarray, pairs: AvailablePairs) -> int:
            worst_case = lower[candidates] - pairs.best_partner_values(upper)[candidates]
            i = int(candidates[np.argmax(worst_case)])
            partners, rows = pairs.partners(i)
            return int(rows[np.argmax(upper[partners])])

        return query_batch(context, n, query)
