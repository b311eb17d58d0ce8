"""DeltaUCB (Melikidze et al., 2026): the pair with the largest optimistic reward gap.

score(a, b) = max(u_a − l_b, u_b − l_a) = |μ_a − μ_b| + w_a + w_b: the largest gap the confidence intervals
allow. It favours pairs that are predicted far apart *and* uncertain — the authors' argument that large gaps
give the clearest preference signal, against the moderate gaps of D-optimal design. Batches and pools as in
``selectors.bounds``.
"""

import numpy as np

from benchmark.selectors.base import SelectionContext
from benchmark.selectors.bounds import ConfidenceBoundSelector, select_by_pair_score


class DeltaUCBSelector(ConfidenceBoundSelector):
    def select(self, context: SelectionContext, n: int) -> np.ndarray:
        mean, width = self.bounds(context)
        return select_by_pair_score(context, n, mean, width, lambda ma, mb, wa, wb: (ma - mb).abs() + wa + wb)
