"""Greedy k-center coreset (Sener & Savarese, 2018) over the pairs' feature differences.

Each pick is the pool pair farthest from every pair covered so far — the labelled pairs (their v under
the current model) and this batch's earlier picks — which greedily minimises the largest distance from a
pool pair to its nearest covered pair (a 2-approximation of the k-center objective). A pair is
v = φ_a − φ_b up to orientation (v and −v are the same comparison), so

    d(v, u) = min(‖v − u‖, ‖v + u‖),   d² = ‖v‖² + ‖u‖² − 2|vᵀu|.

With nothing labelled yet, the distance starts at ‖v‖ (the distance to v = 0, a pair of equal responses).
Ties go to the lower row. Cost: O(N·L·h) once for the labelled pairs (in chunks), then O(N·h) per pick.
"""

import numpy as np
import torch

from benchmark.selectors.base import SelectionContext, Selector, require_explicit_pool

#: Labelled pairs compared with the pool together: N × CHUNK products (46 MB in float64 at N = 22,500).
CHUNK = 256


class KCenterSelector(Selector):
    def select(self, context: SelectionContext, n: int) -> np.ndarray:
        require_explicit_pool(context, "kcenter")
        return greedy_k_center(context.pair_differences, context.labelled_differences, n)


def greedy_k_center(points: torch.Tensor, covered: torch.Tensor, n: int) -> np.ndarray:
    """``n`` rows of ``points``, each the farthest (sign-invariant distance) from ``covered`` and earlier picks."""
    if n > len(points):
        raise ValueError(f"the pool has {len(points)} selectable pairs, fewer than the {n} requested")
    norms = points.double().square().sum(1)
    nearest = torch.full_like(norms, torch.inf) if len(covered) else norms.clone()  # ‖v‖²: to v = 0
    if len(covered):
        covered_norms = covered.double().square().sum(1)
        for start in range(0, len(covered), CHUNK):
            products = (points @ covered[start : start + CHUNK].T).double().abs()
            distance = norms[:, None] + covered_norms[None, start : start + CHUNK] - 2 * products
            nearest = torch.minimum(nearest, distance.min(1).values)
    nearest.clamp_(min=0)
    rows = np.empty(n, dtype=np.int64)
    for step in range(n):
        row = int(torch.argmax(nearest))
        rows[step] = row
        distance = norms + norms[row] - 2 * (points @ points[row]).double().abs()
        nearest = torch.minimum(nearest, distance.clamp_(min=0))
        nearest[row] = -torch.inf
    return rows
