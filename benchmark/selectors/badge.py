"""BADGE (Ash et al., 2020): k-means++ seeding on last-layer gradient embeddings at the predicted label.

A pair's embedding is the gradient of its Bradley-Terry loss with respect to θ had the model's own
prediction been the label: g = (p − ŷ)·v with v = φ_a − φ_b, p = σ(θᵀv), ŷ = 1[p ≥ ½]. Its length
min(p, 1 − p)·‖v‖ is large for uncertain pairs with large features, its direction says which way θ would
move; swapping a and b leaves g unchanged. k-means++ seeding then spreads the batch over these
embeddings: the first pick is the longest g (as in the authors' code), each next one is drawn with
probability ∝ D², the squared distance to the nearest pick so far (uniformly among the unpicked pairs if
every D² is 0). Cost O(N·h) per pick; memory one N × h float32 embedding matrix, built and measured in blocks
of rows so no other N × h array (pair differences, a float64 copy) exists beside it.
"""

import numpy as np
import torch

from benchmark.selectors.base import SelectionContext, Selector, require_explicit_pool

#: Rows of the N × h matrices handled at once: bounds every temporary to BLOCK × h beside the one N × h output.
BLOCK = 1024


class BADGESelector(Selector):
    def embeddings(self, context: SelectionContext) -> torch.Tensor:
        """g of every pool pair (N × h, float32), written block by block into one N × h buffer (no N × h v)."""
        first, second = context.pool_index
        p = torch.sigmoid(context.reward_differences)
        weight = p - (p >= 0.5).to(p.dtype)
        features = context.features
        out = features.new_empty((len(first), features.shape[1]))
        for start in range(0, len(first), BLOCK):
            rows = slice(start, start + BLOCK)
            block = torch.index_select(features, 0, first[rows], out=out[rows])
            block.sub_(features[second[rows]]).mul_(weight[rows, None])
        return out

    def select(self, context: SelectionContext, n: int) -> np.ndarray:
        require_explicit_pool(context, "badge")
        return kmeans_pp_seeds(self.embeddings(context), n, context.rng)


def kmeans_pp_seeds(points: torch.Tensor, n: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding of ``n`` distinct rows: the longest row first, then D² sampling from ``rng``."""
    if n > len(points):
        raise ValueError(f"the pool has {len(points)} selectable pairs, fewer than the {n} requested")
    norms = points.new_empty(len(points), dtype=torch.float64)
    for start in range(0, len(points), BLOCK):  # ‖g‖² in float64 without an N × h float64 copy
        torch.sum(points[start : start + BLOCK].double().square_(), dim=1, out=norms[start : start + BLOCK])
    rows = np.empty(n, dtype=np.int64)
    rows[0] = int(torch.argmax(norms))
    nearest = torch.full_like(norms, torch.inf)
    picked = torch.zeros(len(points), dtype=torch.bool, device=points.device)
    for step in range(n):
        if step:
            weights = nearest.masked_fill(picked, 0).cpu().numpy()
            rows[step] = draw_proportional(weights if weights.sum() > 0 else (~picked).cpu().numpy(), rng)
        picked[rows[step]] = True
        centre = points[rows[step]]
        distance = (norms + norms[rows[step]] - 2 * (points @ centre).double()).clamp_(min=0)
        nearest = torch.minimum(nearest, distance)
    return rows


def draw_proportional(weights: np.ndarray, rng: np.random.Generator) -> int:
    """One index drawn with probability ∝ ``weights`` (non-negative, not all 0) by inverting their cumulative sum."""
    cumulative = np.cumsum(weights, dtype=np.float64)
    index = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
    return min(index, int(np.flatnonzero(weights)[-1]))  # u·total may round up to the total itself
